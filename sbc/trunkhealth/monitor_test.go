package trunkhealth

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

func TestNewNeedsProber(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNoProber) {
		t.Fatalf("New without Prober: %v, want ErrNoProber", err)
	}
}

func TestLifecycleErrors(t *testing.T) {
	r := newRig(t, Options{})
	r.m.Stop() // before Start: fine
	if err := r.m.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: %v, want ErrStopped", err)
	}

	r = newRig(t, Options{})
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.m.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	r.m.Stop()
	r.m.Stop() // idempotent
}

// TestNotPolled: trunks without polling, and unknown ids, are never down
// and have no status.
func TestNotPolled(t *testing.T) {
	r := newRig(t, Options{})
	noOptions := trunkConf("no-options", opts(0, 0, 0), "192.0.2.1")
	noOptions.SIPOptions = nil
	disabled := trunkConf("disabled", opts(0, 0, 0), "192.0.2.1")
	disabled.SIPOptions.Enabled = false
	noHosts := trunkConf("no-hosts", opts(0, 0, 0))
	r.m.Update([]config.SIPTrunk{noOptions, disabled, noHosts})
	r.p.setAll(bad503)
	for range 3 {
		if got := r.poll(); got != nil {
			t.Fatalf("changes %q, want none", got)
		}
	}
	for _, id := range []string{"no-options", "disabled", "no-hosts", "unknown"} {
		if r.m.TrunkDown(id) || r.m.AddressDown(id, addrA) {
			t.Errorf("%s: down, want never", id)
		}
		if _, ok := r.m.TrunkStatus(id); ok {
			t.Errorf("%s: has a status, want none", id)
		}
	}
	if st := r.m.Status(); len(st) != 0 {
		t.Fatalf("Status = %+v, want empty", st)
	}
}

// TestDefaults: zero interval and thresholds mean 60s, 2 and 1; addresses
// start up, before any probe.
func TestDefaults(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := newRig(t, Options{Now: func() time.Time { return now }})
	r.m.Update([]config.SIPTrunk{trunkConf("t", config.SIPOptions{Enabled: true}, "192.0.2.1")})
	st, ok := r.m.TrunkStatus("t")
	if !ok {
		t.Fatal("no status")
	}
	if st.Interval != config.DefaultOptionsInterval || st.DownAfter != 2 || st.UpAfter != 1 {
		t.Fatalf("settings %v/%d/%d, want 1m0s/2/1", st.Interval, st.DownAfter, st.UpAfter)
	}
	if st.Down || !st.Since.Equal(now) || len(st.Addresses) != 0 || !st.LastPoll.IsZero() {
		t.Fatalf("before polling: %+v", st)
	}
	r.p.setAll(bad503)
	r.poll()
	st, _ = r.m.TrunkStatus("t")
	want := []AddressStatus{{Addr: addrA, Host: "192.0.2.1", Transport: "UDP", Since: now, LastProbe: now, LastCode: 503, ConsecutiveFailures: 1}}
	if !slices.Equal(st.Addresses, want) || !st.LastPoll.Equal(now) {
		t.Fatalf("after one failure: %+v, want addresses %+v", st, want)
	}
}

// TestChangeDetails checks the fields of reported changes.
func TestChangeDetails(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var got []Change
	p := newScripted()
	m, err := New(Options{Prober: p, Now: func() time.Time { return now }, OnChange: func(c Change) { got = append(got, c) }})
	if err != nil {
		t.Fatal(err)
	}
	m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Minute, 2, 1), "192.0.2.1", "192.0.2.2")})
	p.set(map[netip.AddrPort]answer{addrA: bad503, addrB: refused})
	m.Poll(context.Background())
	m.Poll(context.Background())
	p.set(map[netip.AddrPort]answer{addrA: ok404})
	m.Poll(context.Background())
	want := []Change{
		{TrunkID: "t", Addr: addrA, Host: "192.0.2.1", Down: true, Reason: "2 consecutive failures, last: 503 response", Code: 503, At: now},
		{TrunkID: "t", Addr: addrB, Host: "192.0.2.2", Down: true, Reason: "2 consecutive failures, last: connection refused", At: now},
		{TrunkID: "t", Down: true, Reason: "all 2 addresses down", At: now},
		{TrunkID: "t", Addr: addrA, Host: "192.0.2.1", Reason: "1 consecutive success, last: 404 response", Code: 404, At: now},
		{TrunkID: "t", Reason: "address 192.0.2.1:5060 up", At: now},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes:\n%+v\nwant:\n%+v", got, want)
	}
	st, _ := m.TrunkStatus("t")
	if b := st.Addresses[1]; b.LastError != "connection refused" || b.LastCode != 0 || b.ConsecutiveFailures != 3 || !b.Down {
		t.Fatalf("B: %+v", b)
	}
}

// TestUpdate applies a reloaded configuration: a new trunk is polled, a
// removed one stops (reported up if it was down), a kept one keeps its
// address state and takes its new thresholds.
func TestUpdate(t *testing.T) {
	r := newRig(t, Options{})
	kept := trunkConf("kept", opts(time.Minute, 2, 1), "192.0.2.1")
	gone := trunkConf("gone", opts(time.Minute, 1, 1), "192.0.2.2")
	r.m.Update([]config.SIPTrunk{kept, gone})
	r.p.setAll(bad503)
	if got, want := r.poll(), []string{"B down", "gone down"}; !slices.Equal(got, want) {
		t.Fatalf("round 1: %q, want %q", got, want)
	}

	kept.SIPOptions.DownAfter = 3 // kept has 1 failure: two more needed now
	kept.SIPOptions.UpAfter = 2
	added := trunkConf("added", opts(time.Minute, 1, 1), "192.0.2.3")
	r.m.Update([]config.SIPTrunk{added, kept})
	if got, want := r.drain(), []string{"B up", "gone up"}; !slices.Equal(got, want) {
		t.Fatalf("removal: %q, want %q", got, want)
	}
	if r.m.TrunkDown("gone") || r.m.AddressDown("gone", addrB) {
		t.Fatal("removed trunk still down")
	}
	if st := r.m.Status(); len(st) != 2 || st[0].ID != "added" || st[1].ID != "kept" {
		t.Fatalf("Status = %+v, want added and kept", st)
	}
	if got, want := r.poll(), []string{"C down", "added down"}; !slices.Equal(got, want) {
		t.Fatalf("round 2: %q, want %q", got, want)
	}
	if got, want := r.poll(), []string{"A down", "kept down"}; !slices.Equal(got, want) {
		t.Fatalf("round 3: %q, want %q (kept's failure count survives Update)", got, want)
	}
	r.p.setAll(ok200)
	if got, want := r.poll(), []string{"C up", "added up"}; !slices.Equal(got, want) {
		t.Fatalf("round 4: %q, want %q (kept needs 2 successes)", got, want)
	}
	if got, want := r.poll(), []string{"A up", "kept up"}; !slices.Equal(got, want) {
		t.Fatalf("round 5: %q, want %q", got, want)
	}
	st, _ := r.m.TrunkStatus("kept")
	if st.DownAfter != 3 || st.UpAfter != 2 {
		t.Fatalf("kept thresholds %d/%d, want 3/2", st.DownAfter, st.UpAfter)
	}

	// Disabling polling of a down trunk reports it up.
	r.p.setAll(bad503)
	r.poll()
	added.SIPOptions.Enabled = false
	r.m.Update([]config.SIPTrunk{added, kept})
	if got, want := r.drain(), []string{"C up", "added up"}; !slices.Equal(got, want) {
		t.Fatalf("disabling: %q, want %q", got, want)
	}
}

// TestAddressSet follows the resolver: vanished addresses go (reported up
// if they were down), new ones start up, and a failed resolution keeps
// probing the previous addresses.
func TestAddressSet(t *testing.T) {
	var mu sync.Mutex
	var resolved []Target
	var resolveErr error
	r := newRig(t, Options{Resolve: func(_ context.Context, tc config.SIPTrunk) ([]Target, error) {
		mu.Lock()
		defer mu.Unlock()
		if tc.ID != "t" || tc.Transport != "UDP" {
			t.Errorf("resolving %+v", tc)
		}
		return slices.Clone(resolved), resolveErr
	}})
	setResolved := func(err error, addrs ...netip.AddrPort) {
		mu.Lock()
		defer mu.Unlock()
		resolved, resolveErr = nil, err
		for _, a := range addrs {
			resolved = append(resolved, Target{TrunkID: "t", Host: "sip.example", Addr: a, Transport: "UDP"})
		}
	}
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Minute, 1, 1), "sip.example")})

	setResolved(nil)
	r.p.setAll(bad503)
	if got := r.poll(); got != nil || r.m.TrunkDown("t") {
		t.Fatalf("no address: changes %q, down %v; want none, up", got, r.m.TrunkDown("t"))
	}
	setResolved(nil, addrA, addrB, addrA) // the duplicate is probed once
	if got, want := r.poll(), []string{"A down", "B down", "t down"}; !slices.Equal(got, want) {
		t.Fatalf("round 2: %q, want %q", got, want)
	}
	setResolved(nil, addrA, addrC)
	if got, want := r.poll(), []string{"B up", "C down"}; !slices.Equal(got, want) {
		t.Fatalf("round 3: %q, want %q", got, want)
	}
	r.p.set(map[netip.AddrPort]answer{addrC: ok200})
	if got, want := r.poll(), []string{"C up", "t up"}; !slices.Equal(got, want) {
		t.Fatalf("round 4: %q, want %q", got, want)
	}
	r.p.set(map[netip.AddrPort]answer{addrC: bad503})
	if got, want := r.poll(), []string{"C down", "t down"}; !slices.Equal(got, want) {
		t.Fatalf("round 5: %q, want %q", got, want)
	}
	setResolved(nil, addrC, addrB) // A (down) vanishes, B (new) starts up
	r.p.set(map[netip.AddrPort]answer{addrB: ok200})
	r.m.Poll(context.Background())
	var got []Change
	for len(r.changes) > 0 {
		got = append(got, <-r.changes)
	}
	if len(got) != 2 || label(got[0]) != "A up" || got[0].Reason != "address no longer resolved" ||
		label(got[1]) != "t up" || got[1].Reason != "address set changed" {
		t.Fatalf("round 6: %+v, want A up (no longer resolved), t up (address set changed)", got)
	}

	setResolved(errors.New("SERVFAIL"))
	r.p.setAll(bad503)
	if got, want := r.poll(), []string{"B down", "t down"}; !slices.Equal(got, want) {
		t.Fatalf("resolution failure: %q, want %q (previous addresses probed)", got, want)
	}
	st, _ := r.m.TrunkStatus("t")
	if st.ResolveErr != "SERVFAIL" || len(st.Addresses) != 2 || st.Addresses[0].Addr != addrC || st.Addresses[1].Addr != addrB {
		t.Fatalf("status after resolution failure: %+v", st)
	}
	setResolved(nil) // resolves to nothing: nothing to judge, up
	if got, want := r.poll(), []string{"C up", "B up", "t up"}; !slices.Equal(got, want) {
		t.Fatalf("empty resolution: %q, want %q", got, want)
	}
	if got, want := r.m.Status()[0].Addresses, []AddressStatus{}; !slices.Equal(got, want) {
		t.Fatalf("addresses %+v, want none", got)
	}
}

// TestProbeTimeoutBoundedByInterval: a silent peer costs at most the
// interval when that is shorter than ProbeTimeout.
func TestProbeTimeoutBoundedByInterval(t *testing.T) {
	r := newRig(t, Options{ProbeTimeout: time.Hour})
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(10*time.Millisecond, 1, 1), "192.0.2.1")})
	r.p.setAll(silent)
	if got, want := r.poll(), []string{"A down", "t down"}; !slices.Equal(got, want) {
		t.Fatalf("changes %q, want %q", got, want)
	}
	st, _ := r.m.TrunkStatus("t")
	if e := st.Addresses[0].LastError; e != context.DeadlineExceeded.Error() {
		t.Fatalf("last error %q, want the deadline", e)
	}
}

// TestPollCancelled: a round whose context ends counts for nothing.
func TestPollCancelled(t *testing.T) {
	r := newRig(t, Options{ProbeTimeout: time.Hour})
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Hour, 1, 1), "192.0.2.1")})
	r.p.setAll(silent)
	r.p.probes = make(chan Target, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-r.p.probes; cancel() }()
	r.m.Poll(ctx)
	if got := r.drain(); got != nil {
		t.Fatalf("changes %q, want none", got)
	}
	if st, _ := r.m.TrunkStatus("t"); !st.LastPoll.IsZero() || len(st.Addresses) != 0 {
		t.Fatalf("status %+v, want untouched", st)
	}
}

func TestStatusJSON(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	r := newRig(t, Options{Now: func() time.Time { return now }})
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(30*time.Second, 1, 1), "192.0.2.1")})
	r.p.setAll(bad503)
	r.poll()
	b, err := json.Marshal(r.m.Status())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"id":"t","down":true,"since":"2025-01-02T03:04:05Z","lastPoll":"2025-01-02T03:04:05Z",` +
		`"interval":"30s","downAfter":1,"upAfter":1,"addresses":[{"addr":"192.0.2.1:5060","host":"192.0.2.1",` +
		`"transport":"UDP","down":true,"since":"2025-01-02T03:04:05Z","lastProbe":"2025-01-02T03:04:05Z",` +
		`"lastCode":503,"consecutiveSuccesses":0,"consecutiveFailures":1}]}]`
	if string(b) != want {
		t.Fatalf("JSON:\n%s\nwant:\n%s", b, want)
	}
}

// TestStatusIsACopy: changing what Status returned changes nothing inside.
func TestStatusIsACopy(t *testing.T) {
	r := newRig(t, Options{})
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Minute, 1, 1), "192.0.2.1")})
	r.poll()
	st := r.m.Status()
	st[0].Addresses[0].Down = true
	if again := r.m.Status(); again[0].Addresses[0].Down {
		t.Fatal("Status shares its addresses with the snapshot")
	}
}

func TestLiteralTargets(t *testing.T) {
	tc := config.SIPTrunk{ID: "t", DestinationHosts: []string{
		"192.0.2.1", "192.0.2.2:5070", "[2001:db8::1]:5062", "2001:db8::2", "sip.example", "sip.example:5060",
		"::ffff:192.0.2.3", "192.0.2.4:0", "192.0.2.5:99999",
	}}
	got := LiteralTargets(tc)
	want := []Target{
		{TrunkID: "t", Host: "192.0.2.1", Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: "UDP"},
		{TrunkID: "t", Host: "192.0.2.2:5070", Addr: netip.MustParseAddrPort("192.0.2.2:5070"), Transport: "UDP"},
		{TrunkID: "t", Host: "[2001:db8::1]:5062", Addr: netip.MustParseAddrPort("[2001:db8::1]:5062"), Transport: "UDP"},
		{TrunkID: "t", Host: "2001:db8::2", Addr: netip.MustParseAddrPort("[2001:db8::2]:5060"), Transport: "UDP"},
		{TrunkID: "t", Host: "::ffff:192.0.2.3", Addr: netip.MustParseAddrPort("192.0.2.3:5060"), Transport: "UDP"},
		{TrunkID: "t", Host: "192.0.2.4:0", Addr: netip.MustParseAddrPort("192.0.2.4:5060"), Transport: "UDP"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	tc = config.SIPTrunk{ID: "t", TLS: true, DestinationHosts: []string{"192.0.2.1"}}
	if got := LiteralTargets(tc); len(got) != 1 || got[0].Addr.Port() != 5061 || got[0].Transport != "TLS" {
		t.Fatalf("TLS: %+v", got)
	}
	tc = config.SIPTrunk{ID: "t", Transport: "tcp", DestinationHosts: []string{"192.0.2.1"}}
	if got := LiteralTargets(tc); len(got) != 1 || got[0].Addr.Port() != 5060 || got[0].Transport != "TCP" {
		t.Fatalf("TCP: %+v", got)
	}
}

// TestConcurrentUse runs the queries against rounds and updates; the race
// detector is the assertion.
func TestConcurrentUse(t *testing.T) {
	r := newRig(t, Options{})
	confs := []config.SIPTrunk{
		trunkConf("a", opts(time.Millisecond, 1, 1), "192.0.2.1", "192.0.2.2"),
		trunkConf("b", opts(time.Millisecond, 1, 1), "192.0.2.3"),
	}
	r.m.Update(confs)
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r.m.TrunkDown("a")
				r.m.AddressDown("a", addrA)
				for _, st := range r.m.Status() {
					_ = strings.Clone(st.ID)
				}
			}
		})
	}
	for i := range 50 {
		switch i % 3 {
		case 0:
			r.p.setAll(bad503)
		case 1:
			r.p.setAll(ok200)
		}
		r.m.Update(confs[:1+i%2])
		r.m.Poll(context.Background())
	}
	close(stop)
	readers.Wait()
	r.m.Stop()
}
