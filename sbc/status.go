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
// counts its live calls, both directions. Until OPTIONS polling and the
// registrar exist, no trunk is polled (UNKNOWN) and none is registered.
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
	}
	for i, h := range tr.DestinationHosts {
		st.Hosts[i] = HostStatus{Host: h, Status: StatusUnknown}
	}
	return st, true
}

// TrunkDown reports whether OPTIONS polling marked the trunk out of service
// (routing.Health). Nothing polls yet, so no trunk is down.
func (s *Server) TrunkDown(id string) bool { return false }

// findTrunk returns the trunk with the given id in cfg, or nil.
func findTrunk(cfg *config.Config, id string) *config.SIPTrunk {
	for i := range cfg.SIPTrunks {
		if cfg.SIPTrunks[i].ID == id {
			return &cfg.SIPTrunks[i]
		}
	}
	return nil
}
