package trunkhealth

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

// The addresses of the test trunks, and their names in expected changes.
var (
	addrA = netip.MustParseAddrPort("192.0.2.1:5060")
	addrB = netip.MustParseAddrPort("192.0.2.2:5060")
	addrC = netip.MustParseAddrPort("192.0.2.3:5060")
	names = map[netip.AddrPort]string{addrA: "A", addrB: "B", addrC: "C"}
)

var errRefused = errors.New("connection refused")

// answer is what the scripted prober does for one probe.
type answer struct {
	code  int
	err   error
	block bool // wait for the probe's context to end, as a silent peer
}

var (
	ok200   = answer{code: 200}
	ok404   = answer{code: 404} // any response below 500 is alive
	ok486   = answer{code: 486}
	ok499   = answer{code: 499}
	bad500  = answer{code: 500}
	bad503  = answer{code: 503}
	bad603  = answer{code: 603}
	refused = answer{err: errRefused}
	silent  = answer{block: true}
	noCode  = answer{} // neither a code nor an error
)

// scripted is a Prober answering per address what the test set, 200 for
// an address it did not set. Every probe is also sent on probes when that
// channel is not nil (without blocking).
type scripted struct {
	mu      sync.Mutex
	answers map[netip.AddrPort]answer
	probes  chan Target
}

func newScripted() *scripted { return &scripted{answers: map[netip.AddrPort]answer{}} }

func (s *scripted) set(as map[netip.AddrPort]answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, v := range as {
		s.answers[a] = v
	}
}

func (s *scripted) setAll(v answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range names {
		s.answers[a] = v
	}
}

func (s *scripted) Probe(ctx context.Context, t Target) (int, error) {
	s.mu.Lock()
	a, ok := s.answers[t.Addr]
	if !ok {
		a = ok200
	}
	probes := s.probes
	s.mu.Unlock()
	if probes != nil {
		select {
		case probes <- t:
		default:
		}
	}
	if a.block {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return a.code, a.err
}

var _ Prober = (*scripted)(nil)

// rig is a monitor with a scripted prober and its changes on a channel.
type rig struct {
	t       *testing.T
	m       *Monitor
	p       *scripted
	changes chan Change
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	r := &rig{t: t, p: newScripted(), changes: make(chan Change, 1000)}
	opts.Prober = r.p
	opts.OnChange = func(c Change) { r.changes <- c }
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	t.Cleanup(m.Stop)
	return r
}

// poll runs one round and returns the changes it reported, as labels.
func (r *rig) poll() []string {
	r.t.Helper()
	r.m.Poll(context.Background())
	return r.drain()
}

// drain returns the changes reported so far, as labels.
func (r *rig) drain() []string {
	var out []string
	for {
		select {
		case c := <-r.changes:
			out = append(out, label(c))
		default:
			return out
		}
	}
}

// await waits, bounded, for the change with the given label, and returns
// the labels of the changes seen until then.
func (r *rig) await(want string) []string {
	r.t.Helper()
	var seen []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case c := <-r.changes:
			seen = append(seen, label(c))
			if label(c) == want {
				return seen
			}
		case <-timeout:
			r.t.Fatalf("no change %q within 5s; saw %q", want, seen)
		}
	}
}

// label names a change for comparison: "A down", "carrier-a up".
func label(c Change) string {
	who := c.TrunkID
	if c.Addr.IsValid() {
		who = names[c.Addr]
		if who == "" {
			who = c.Addr.String()
		}
	}
	if c.Down {
		return who + " down"
	}
	return who + " up"
}

// trunkConf is a polled STATIC trunk over UDP with the given hosts.
func trunkConf(id string, o config.SIPOptions, hosts ...string) config.SIPTrunk {
	return config.SIPTrunk{ID: id, Transport: config.TransportUDP, DestinationHosts: hosts, SIPOptions: &o}
}

func opts(interval time.Duration, downAfter, upAfter int) config.SIPOptions {
	return config.SIPOptions{Enabled: true, Interval: config.Duration(interval), DownAfter: downAfter, UpAfter: upAfter}
}
