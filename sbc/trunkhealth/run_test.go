package trunkhealth

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

// awaitProbe waits, bounded, for the next probe.
func awaitProbe(t *testing.T, probes <-chan Target) Target {
	t.Helper()
	select {
	case tg := <-probes:
		return tg
	case <-time.After(5 * time.Second):
		t.Fatal("no probe within 5s")
	}
	return Target{}
}

// awaitDone waits, bounded, for a polling goroutine to end.
func awaitDone(t *testing.T, tr *trunk) {
	t.Helper()
	select {
	case <-tr.done:
	case <-time.After(5 * time.Second):
		t.Fatal("polling goroutine still running after 5s")
	}
}

// TestTicker runs the real schedule with a tiny interval: the trunk goes
// down, then up, seen on the OnChange channel.
func TestTicker(t *testing.T) {
	r := newRig(t, Options{})
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(2*time.Millisecond, 2, 1), "192.0.2.1", "192.0.2.2")})
	r.p.setAll(bad503)
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := r.await("t down")
	if !slices.Contains(seen, "A down") || !slices.Contains(seen, "B down") {
		t.Fatalf("saw %q before the trunk went down, want A down and B down", seen)
	}
	if !r.m.TrunkDown("t") {
		t.Fatal("TrunkDown false after the change")
	}
	r.p.setAll(ok200)
	r.await("t up")
	r.m.Stop()
	if r.m.TrunkDown("t") {
		t.Fatal("TrunkDown true after recovery")
	}
	st, _ := r.m.TrunkStatus("t")
	if st.LastPoll.IsZero() || st.Addresses[0].ConsecutiveSuccesses == 0 {
		t.Fatalf("status %+v", st)
	}
}

// TestIntervalChange: a new interval takes effect without waiting for
// the old one to run out.
func TestIntervalChange(t *testing.T) {
	r := newRig(t, Options{})
	r.p.probes = make(chan Target, 1)
	conf := trunkConf("t", opts(time.Hour, 2, 1), "192.0.2.1")
	r.m.Update([]config.SIPTrunk{conf})
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	awaitProbe(t, r.p.probes) // the first round runs at once
	conf.SIPOptions.Interval = config.Duration(2 * time.Millisecond)
	r.m.Update([]config.SIPTrunk{conf})
	for range 3 {
		awaitProbe(t, r.p.probes)
	}
}

// TestUpdateWhileRunning: a trunk added to a started monitor is polled at
// once, a removed one's goroutine ends.
func TestUpdateWhileRunning(t *testing.T) {
	r := newRig(t, Options{})
	r.p.probes = make(chan Target, 1)
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Hour, 2, 1), "192.0.2.3")})
	if tg := awaitProbe(t, r.p.probes); tg.TrunkID != "t" || tg.Addr != addrC || tg.Transport != "UDP" {
		t.Fatalf("probe %+v", tg)
	}
	tr := (*r.m.trunks.Load())["t"]
	r.m.Update(nil)
	awaitDone(t, tr)
}

// TestStopCancelsProbes: Stop cancels a probe in flight and waits for it;
// the cancelled round changes nothing.
func TestStopCancelsProbes(t *testing.T) {
	r := newRig(t, Options{ProbeTimeout: time.Hour})
	r.p.probes = make(chan Target, 1)
	r.p.setAll(silent)
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Hour, 1, 1), "192.0.2.1")})
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	awaitProbe(t, r.p.probes)
	r.m.Stop()
	if got := r.drain(); got != nil {
		t.Fatalf("changes %q, want none", got)
	}
	if st, _ := r.m.TrunkStatus("t"); !st.LastPoll.IsZero() {
		t.Fatalf("status %+v, want no round applied", st)
	}
	r.m.Update([]config.SIPTrunk{trunkConf("u", opts(time.Hour, 1, 1), "192.0.2.2")})
	if tr := (*r.m.trunks.Load())["u"]; tr.done != nil {
		t.Fatal("Update after Stop started a polling goroutine")
	}
}

// TestStartContext: the context given to Start ends the polling too.
func TestStartContext(t *testing.T) {
	r := newRig(t, Options{})
	r.m.Update([]config.SIPTrunk{trunkConf("t", opts(time.Millisecond, 1, 1), "192.0.2.1")})
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	awaitDone(t, (*r.m.trunks.Load())["t"])
}

// BenchmarkTrunkDown measures the per-call health query.
func BenchmarkTrunkDown(b *testing.B) {
	m, err := New(Options{Prober: newScripted()})
	if err != nil {
		b.Fatal(err)
	}
	var confs []config.SIPTrunk
	for i := range 100 {
		confs = append(confs, trunkConf(fmt.Sprintf("trunk-%d", i), opts(time.Minute, 1, 1), "192.0.2.1"))
	}
	m.Update(confs)
	m.Poll(context.Background())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if m.TrunkDown("trunk-42") || m.AddressDown("trunk-42", addrA) {
				b.Fatal("down")
			}
		}
	})
}
