package trunkhealth

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/trunkline/trunkline/config"
)

// TrunkStatus is the polling state of one trunk, for the API.
type TrunkStatus struct {
	ID         string          `json:"id"`
	Down       bool            `json:"down"`                   // every address is down
	Since      time.Time       `json:"since"`                  // when Down last changed, or polling began
	LastPoll   time.Time       `json:"lastPoll,omitzero"`      // end of the last completed round
	Interval   config.Duration `json:"interval"`               // in force, defaults applied
	DownAfter  int             `json:"downAfter"`              // in force, defaults applied
	UpAfter    int             `json:"upAfter"`                // in force, defaults applied
	ResolveErr string          `json:"resolveError,omitempty"` // the last round's resolution failure, if any
	Addresses  []AddressStatus `json:"addresses"`              // in resolved order
}

// AddressStatus is the polling state of one address of a trunk.
type AddressStatus struct {
	Addr                 netip.AddrPort `json:"addr"`
	Host                 string         `json:"host,omitempty"` // the destination host it came from
	Transport            string         `json:"transport"`
	Down                 bool           `json:"down"`
	Since                time.Time      `json:"since"`               // when Down last changed, or the address was first seen
	LastProbe            time.Time      `json:"lastProbe,omitzero"`  // when the last probe's result was applied
	LastCode             int            `json:"lastCode,omitempty"`  // of the last probe; 0 when it got no response
	LastError            string         `json:"lastError,omitempty"` // of the last probe, when it failed without a response
	ConsecutiveSuccesses int            `json:"consecutiveSuccesses"`
	ConsecutiveFailures  int            `json:"consecutiveFailures"`
}

// snapshot is the immutable published state of one trunk.
type snapshot struct {
	status TrunkStatus
	down   map[netip.AddrPort]bool // address → down
}

// publish stores a snapshot of the current state. Called with t.mu held.
func (t *trunk) publish() {
	s := &snapshot{
		status: TrunkStatus{
			ID:         t.id,
			Down:       t.down,
			Since:      t.since,
			LastPoll:   t.lastPoll,
			Interval:   config.Duration(t.set.interval),
			DownAfter:  t.set.downAfter,
			UpAfter:    t.set.upAfter,
			ResolveErr: t.resolveErr,
			Addresses:  make([]AddressStatus, 0, len(t.targets)),
		},
		down: make(map[netip.AddrPort]bool, len(t.targets)),
	}
	for _, tg := range t.targets {
		a := t.addrs[tg.Addr]
		s.down[tg.Addr] = a.down
		s.status.Addresses = append(s.status.Addresses, AddressStatus{
			Addr:                 tg.Addr,
			Host:                 tg.Host,
			Transport:            tg.Transport,
			Down:                 a.down,
			Since:                a.since,
			LastProbe:            a.lastProbe,
			LastCode:             a.lastCode,
			LastError:            a.lastErr,
			ConsecutiveSuccesses: a.successes,
			ConsecutiveFailures:  a.failures,
		})
	}
	t.snap.Store(s)
}

// snapshot returns the published state of a polled trunk, or nil.
func (m *Monitor) snapshot(id string) *snapshot {
	t := (*m.trunks.Load())[id]
	if t == nil {
		return nil
	}
	return t.snap.Load()
}

// TrunkDown reports whether OPTIONS polling marked the trunk out of
// service: it is polled and every one of its addresses is down. A trunk
// not polled, or unknown, is never down. It implements routing.Health and
// reads an immutable snapshot without locking.
func (m *Monitor) TrunkDown(id string) bool {
	s := m.snapshot(id)
	return s != nil && s.status.Down
}

// AddressDown reports whether polling marked one address of the trunk out
// of service, so that the hunt may skip it. An address not polled is never
// down. Lock-free, like TrunkDown.
func (m *Monitor) AddressDown(id string, addr netip.AddrPort) bool {
	s := m.snapshot(id)
	return s != nil && s.down[addr]
}

// TrunkStatus returns the state of one polled trunk, and false when the
// trunk is not polled.
func (m *Monitor) TrunkStatus(id string) (TrunkStatus, bool) {
	s := m.snapshot(id)
	if s == nil {
		return TrunkStatus{}, false
	}
	return s.status.clone(), true
}

// Status returns the state of every polled trunk, ordered by id.
func (m *Monitor) Status() []TrunkStatus {
	trunks := *m.trunks.Load()
	out := make([]TrunkStatus, 0, len(trunks))
	for _, t := range trunks {
		out = append(out, t.snap.Load().status.clone())
	}
	slices.SortFunc(out, func(a, b TrunkStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// clone copies the status so that the caller cannot alter a snapshot.
func (s TrunkStatus) clone() TrunkStatus {
	s.Addresses = slices.Clone(s.Addresses)
	return s
}
