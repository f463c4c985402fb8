package sbc

import "github.com/trunkline/trunkline/config"

// Trunk and host states reported by TrunkStatus.
const (
	StatusInService    = "IN_SERVICE"
	StatusOutOfService = "OUT_OF_SERVICE"
	StatusUnknown      = "UNKNOWN" // not polled

	RegistrationNA           = "N/A" // the trunk does not register
	RegistrationRegistered   = "REGISTERED"
	RegistrationUnregistered = "UNREGISTERED"
)

// TrunkStatus is the live state of one trunk.
type TrunkStatus struct {
	ActiveCalls  int
	Options      string // OPTIONS polling verdict: IN_SERVICE, OUT_OF_SERVICE, UNKNOWN
	Registration string // N/A, REGISTERED, UNREGISTERED
	Hosts        []HostStatus
}

// HostStatus is the state of one destination host of a trunk.
type HostStatus struct {
	Host   string // as configured
	Status string // IN_SERVICE, OUT_OF_SERVICE, UNKNOWN
}

// TrunkStatus reports the live state of the trunk with the given id, and
// false when the configuration in force has no such trunk. ActiveCalls
// counts its live calls, both directions; a REGISTERED trunk is REGISTERED
// while it has a live binding. A trunk without OPTIONS polling
// is UNKNOWN; a polled one is OUT_OF_SERVICE when every address of it is,
// and each destination host is OUT_OF_SERVICE when every address it
// resolved to is.
func (s *Server) TrunkStatus(id string) (TrunkStatus, bool) {
	tr := findTrunk(s.state.Load().cfg, id)
	if tr == nil {
		return TrunkStatus{}, false
	}
	st := TrunkStatus{
		ActiveCalls:  s.channels.count(id),
		Options:      StatusUnknown,
		Registration: RegistrationNA,
		Hosts:        make([]HostStatus, len(tr.DestinationHosts)),
	}
	if tr.Type == config.TrunkRegistered {
		st.Registration = RegistrationUnregistered
		if len(s.registeredTargets(id)) > 0 {
			st.Registration = RegistrationRegistered
		}
	}
	for i, h := range tr.DestinationHosts {
		st.Hosts[i] = HostStatus{Host: h, Status: StatusUnknown}
	}
	hs, polled := s.health.TrunkStatus(id)
	if !polled {
		return st, true
	}
	st.Options = inService(hs.Down)
	for i := range st.Hosts {
		seen, up := false, false
		for _, a := range hs.Addresses {
			if a.Host == st.Hosts[i].Host {
				seen = true
				up = up || !a.Down
			}
		}
		if seen {
			st.Hosts[i].Status = inService(!up)
		}
	}
	return st, true
}

func inService(down bool) string {
	if down {
		return StatusOutOfService
	}
	return StatusInService
}

// TrunkDown reports whether OPTIONS polling marked the trunk out of service
// (routing.Health): every address of it failed downAfter polls in a row.
func (s *Server) TrunkDown(id string) bool { return s.health.TrunkDown(id) }

// findTrunk returns the trunk with the given id in cfg, or nil.
func findTrunk(cfg *config.Config, id string) *config.SIPTrunk {
	for i := range cfg.SIPTrunks {
		if cfg.SIPTrunks[i].ID == id {
			return &cfg.SIPTrunks[i]
		}
	}
	return nil
}
