package trunkhealth

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// trunk is the polling state of one trunk. Its mutable fields are guarded
// by mu, which is held only to apply a round's results and publish them,
// never across a probe; the queries read snap, an immutable snapshot.
type trunk struct {
	id   string
	snap atomic.Pointer[snapshot]

	mu         sync.Mutex
	set        settings
	targets    []Target // the address set, in resolved order
	addrs      map[netip.AddrPort]*address
	down       bool
	since      time.Time // when down last changed, or polling began
	lastPoll   time.Time
	resolveErr string
	removed    bool // no longer polled: late rounds are discarded

	// The polling goroutine, set by start under Monitor.mu.
	cancel context.CancelFunc
	done   chan struct{}
	reset  chan struct{} // the interval changed
}

// address is the state of one address of a trunk.
type address struct {
	down      bool
	since     time.Time // when down last changed, or the address was first seen
	lastProbe time.Time
	lastCode  int
	lastErr   string
	successes int // consecutive
	failures  int // consecutive
}

func newTrunk(id string, s settings, now time.Time) *trunk {
	t := &trunk{id: id, set: s, addrs: map[netip.AddrPort]*address{}, since: now, reset: make(chan struct{}, 1)}
	t.publish()
	return t
}

// start runs the trunk's polling goroutine under ctx.
func (t *trunk) start(ctx context.Context, m *Monitor) {
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go t.run(ctx, m)
}

// stop ends the polling goroutine, if any, and waits for it.
func (t *trunk) stop() {
	if t.cancel != nil {
		t.cancel()
	}
	t.wait()
}

// wait returns once the polling goroutine, if any, has returned.
func (t *trunk) wait() {
	if t.done != nil {
		<-t.done
	}
}

// run polls at once and then every interval until ctx is done.
func (t *trunk) run(ctx context.Context, m *Monitor) {
	defer close(t.done)
	tick := time.NewTicker(t.interval())
	defer tick.Stop()
	for {
		m.round(ctx, t)
		if !t.pause(ctx, tick) {
			return
		}
	}
}

// pause waits for the next tick, restarting the ticker when the interval
// changes (the new interval counts from the change). It reports false when
// ctx is done.
func (t *trunk) pause(ctx context.Context, tick *time.Ticker) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			return true
		case <-t.reset:
			tick.Reset(t.interval())
		}
	}
}

func (t *trunk) interval() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.set.interval
}

// reconfigure applies new settings; the address state is kept.
func (t *trunk) reconfigure(s settings) {
	t.mu.Lock()
	changed := s.interval != t.set.interval
	t.set = s
	t.publish()
	t.mu.Unlock()
	if changed {
		select {
		case t.reset <- struct{}{}:
		default:
		}
	}
}

// remove marks the trunk no longer polled and reports what that changes:
// it and its addresses are no longer down.
func (t *trunk) remove(m *Monitor) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removed = true
	now := m.now()
	var changes []Change
	for _, tg := range t.targets {
		if t.addrs[tg.Addr].down {
			changes = append(changes, Change{TrunkID: t.id, Addr: tg.Addr, Host: tg.Host, Reason: "polling stopped", Code: t.addrs[tg.Addr].lastCode, At: now})
		}
	}
	if t.down {
		changes = append(changes, Change{TrunkID: t.id, Reason: "polling stopped", At: now})
	}
	for _, c := range changes {
		m.onChange(c)
	}
}

// result is the outcome of one probe.
type result struct {
	code int
	err  error
}

// alive reports whether the probe counts as a success: a response below
// 500. Timeouts, transport errors, 5xx and 6xx are failures.
func (r result) alive() bool { return r.err == nil && r.code > 0 && r.code < 500 }

func (r result) String() string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.code == 0:
		return "no response"
	}
	return fmt.Sprintf("%d response", r.code)
}

// round resolves the trunk's addresses, probes each concurrently and
// applies the results. A round whose ctx is done before it completes
// changes nothing: cancellation is not a failure of the peer.
func (m *Monitor) round(ctx context.Context, t *trunk) {
	t.mu.Lock()
	s := t.set
	t.mu.Unlock()

	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	targets, rerr := m.resolve(rctx, s.trunk)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if rerr != nil {
		t.mu.Lock()
		targets = t.targets // keep probing what we knew
		t.mu.Unlock()
	} else {
		targets = dedupe(targets)
	}

	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, tg := range targets {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, s.timeout)
			defer cancel()
			code, err := m.prober.Probe(pctx, tg)
			results[i] = result{code: code, err: err}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	t.apply(m, targets, rerr, results)
}

// dedupe drops the targets whose address came earlier in the list.
func dedupe(ts []Target) []Target {
	seen := make(map[netip.AddrPort]bool, len(ts))
	out := ts[:0:0]
	for _, tg := range ts {
		if !seen[tg.Addr] {
			seen[tg.Addr] = true
			out = append(out, tg)
		}
	}
	return out
}

// apply folds one round's results into the state, publishes the new
// snapshot and reports the changes, in order, while holding mu so that
// changes of one trunk are never reported out of order.
func (t *trunk) apply(m *Monitor, targets []Target, rerr error, results []result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.removed {
		return
	}
	now := m.now()
	t.lastPoll = now
	var changes []Change

	switch {
	case rerr != nil && t.resolveErr == "":
		m.log.Warn("OPTIONS polling: trunk does not resolve", "sipTrunkId", t.id, "error", rerr)
	case rerr == nil && t.resolveErr != "":
		m.log.Info("OPTIONS polling: trunk resolves again", "sipTrunkId", t.id)
	}
	t.resolveErr = ""
	if rerr != nil {
		t.resolveErr = rerr.Error()
	}

	// Reconcile the address set: new addresses start up, vanished ones go.
	keep := make(map[netip.AddrPort]bool, len(targets))
	for _, tg := range targets {
		keep[tg.Addr] = true
		if t.addrs[tg.Addr] == nil {
			t.addrs[tg.Addr] = &address{since: now}
		}
	}
	for _, tg := range t.targets {
		if keep[tg.Addr] {
			continue
		}
		if a := t.addrs[tg.Addr]; a.down {
			changes = append(changes, Change{TrunkID: t.id, Addr: tg.Addr, Host: tg.Host, Reason: "address no longer resolved", Code: a.lastCode, At: now})
		}
		delete(t.addrs, tg.Addr)
	}
	t.targets = targets

	var cause string // what turned the trunk up, if it does
	for i, tg := range targets {
		a, r := t.addrs[tg.Addr], results[i]
		a.lastProbe, a.lastCode, a.lastErr = now, r.code, ""
		if r.err != nil {
			a.lastErr = r.err.Error()
		}
		if r.alive() {
			a.successes, a.failures = a.successes+1, 0
			if a.down && a.successes >= t.set.upAfter {
				a.down, a.since = false, now
				changes = append(changes, Change{TrunkID: t.id, Addr: tg.Addr, Host: tg.Host, Code: r.code, At: now,
					Reason: fmt.Sprintf("%d consecutive %s, last: %s", a.successes, plural(a.successes, "success", "successes"), r)})
				if cause == "" {
					cause = fmt.Sprintf("address %s up", tg.Addr)
				}
			}
			continue
		}
		a.successes, a.failures = 0, a.failures+1
		if !a.down && a.failures >= t.set.downAfter {
			a.down, a.since = true, now
			changes = append(changes, Change{TrunkID: t.id, Addr: tg.Addr, Host: tg.Host, Down: true, Code: r.code, At: now,
				Reason: fmt.Sprintf("%d consecutive %s, last: %s", a.failures, plural(a.failures, "failure", "failures"), r)})
		}
	}

	if down := t.allDown(); down != t.down {
		t.down, t.since = down, now
		c := Change{TrunkID: t.id, Down: down, At: now}
		switch {
		case down:
			c.Reason = fmt.Sprintf("all %d %s down", len(t.targets), plural(len(t.targets), "address", "addresses"))
		case cause != "":
			c.Reason = cause
		default:
			c.Reason = "address set changed"
		}
		changes = append(changes, c)
	}
	t.publish()
	for _, c := range changes {
		m.onChange(c)
	}
}

// allDown reports whether the trunk has addresses and all are down. A
// trunk with no known address is not down: there is nothing to judge.
func (t *trunk) allDown() bool {
	if len(t.targets) == 0 {
		return false
	}
	for _, tg := range t.targets {
		if !t.addrs[tg.Addr].down {
			return false
		}
	}
	return true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
