package trunkhealth

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
)

// DefaultProbeTimeout bounds the wait for an OPTIONS answer (DESIGN §3:
// min(5s, interval)).
const DefaultProbeTimeout = 5 * time.Second

// Lifecycle errors.
var (
	ErrNoProber = errors.New("trunkhealth: no Prober")
	ErrStarted  = errors.New("trunkhealth: monitor already started")
	ErrStopped  = errors.New("trunkhealth: monitor stopped")
)

// Options configures a Monitor. Only Prober is required.
type Options struct {
	// Prober sends the OPTIONS requests.
	Prober Prober
	// Resolve turns a trunk's destination hosts into addresses, once per
	// round. Nil means LiteralTargets: IP literals only.
	Resolve ResolveFunc
	// OnChange receives every state change (see Change). It is called
	// synchronously from the goroutine that polled the trunk (or from
	// Update when a trunk stops being polled), in order for any one trunk,
	// possibly concurrently for different trunks. It must return quickly
	// and must not call Update or Stop. Nil discards changes.
	OnChange func(Change)
	// ProbeTimeout bounds each probe and each resolution; a trunk polled
	// more often than that uses its interval instead. Zero means
	// DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// Now is the clock for timestamps. Nil means time.Now.
	Now func() time.Time
	// Logger receives resolution failures. Nil discards them.
	Logger *slog.Logger
}

// Change is one transition of TrunkDown or AddressDown. Every transition
// of either query is reported by exactly one Change, so a caller can keep
// gauges from them; Status remains the source of truth.
type Change struct {
	TrunkID string
	// Addr is the address that changed; the zero AddrPort (Addr.IsValid()
	// false) for a change of the trunk as a whole.
	Addr   netip.AddrPort
	Host   string    // the destination host Addr came from; "" for a trunk change
	Down   bool      // the new state: true = out of service
	Reason string    // why, for the log: "2 consecutive failures, last: timeout", "all 2 addresses down", …
	Code   int       // the last response code of the address; 0 when none or for a trunk change
	At     time.Time // when the change was made
}

// Monitor polls trunks with SIP OPTIONS and tells which trunks and
// addresses are out of service. Its lifecycle is New (no I/O), Update (any
// time, also before Start), Start(ctx), Stop(). The queries are lock-free
// and may be called from any goroutine.
type Monitor struct {
	prober   Prober
	resolve  ResolveFunc
	onChange func(Change)
	timeout  time.Duration
	now      func() time.Time
	log      *slog.Logger

	trunks atomic.Pointer[map[string]*trunk] // immutable map, swapped by Update

	mu      sync.Mutex // serialises Update, Start and Stop
	runCtx  context.Context
	cancel  context.CancelFunc
	started bool
	stopped bool
}

var _ routing.Health = (*Monitor)(nil)

// New returns a Monitor polling nothing yet. It does no I/O and starts no
// goroutine.
func New(opts Options) (*Monitor, error) {
	if opts.Prober == nil {
		return nil, ErrNoProber
	}
	m := &Monitor{
		prober:   opts.Prober,
		resolve:  opts.Resolve,
		onChange: opts.OnChange,
		timeout:  opts.ProbeTimeout,
		now:      opts.Now,
		log:      opts.Logger,
	}
	if m.resolve == nil {
		m.resolve = func(_ context.Context, t config.SIPTrunk) ([]Target, error) { return LiteralTargets(t), nil }
	}
	if m.onChange == nil {
		m.onChange = func(Change) {}
	}
	if m.timeout <= 0 {
		m.timeout = DefaultProbeTimeout
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	empty := map[string]*trunk{}
	m.trunks.Store(&empty)
	return m, nil
}

// Start begins polling every trunk given by Update, each at once and then
// every interval, until ctx is done or Stop is called. A monitor starts
// once: a second Start returns ErrStarted, a Start after Stop ErrStopped.
func (m *Monitor) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.stopped:
		return ErrStopped
	case m.started:
		return ErrStarted
	}
	m.started = true
	m.runCtx, m.cancel = context.WithCancel(ctx)
	for _, t := range *m.trunks.Load() {
		t.start(m.runCtx, m)
	}
	return nil
}

// Stop ends polling: it cancels the probes in flight (a cancelled round
// counts for nothing) and returns once every polling goroutine has
// returned. The state last reached stays readable. Stop is idempotent and
// may be called without Start.
func (m *Monitor) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	if m.cancel != nil {
		m.cancel()
	}
	trunks := *m.trunks.Load()
	m.mu.Unlock()
	for _, t := range trunks {
		t.wait()
	}
}

// Update applies the trunks of a (re)loaded configuration. Trunks whose
// sipOptions are enabled and which have destination hosts are polled; the
// rest are not, and are never down. A trunk new to the monitor starts
// polling at once (if the monitor is started) with every address up; a
// trunk no longer polled stops, and if it was down a Change reports it up
// ("polling stopped"). A trunk kept keeps the state of its addresses; new
// thresholds apply from its next probe, a new interval from now. Zero
// interval, downAfter and upAfter mean 60s, 2 and 1.
func (m *Monitor) Update(trunks []config.SIPTrunk) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.trunks.Load()
	next := make(map[string]*trunk, len(trunks))
	for _, tc := range trunks {
		if !polled(tc) {
			continue
		}
		if _, dup := next[tc.ID]; dup {
			continue
		}
		s := settingsOf(tc, m.timeout)
		if t := old[tc.ID]; t != nil {
			t.reconfigure(s)
			next[tc.ID] = t
			continue
		}
		t := newTrunk(tc.ID, s, m.now())
		next[tc.ID] = t
		if m.started && !m.stopped {
			t.start(m.runCtx, m)
		}
	}
	m.trunks.Store(&next)
	for id, t := range old {
		if next[id] == nil {
			t.stop()
			t.remove(m)
		}
	}
}

// Poll runs one round for every polled trunk (resolve, probe every address
// concurrently, apply the thresholds) and returns when all are done. It is
// what the polling goroutines run every interval; tests and tools call it
// directly to drive the monitor without a clock (on a started monitor it
// adds a round). If ctx is done before a trunk's round completes, that
// round counts for nothing.
func (m *Monitor) Poll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range *m.trunks.Load() {
		wg.Go(func() { m.round(ctx, t) })
	}
	wg.Wait()
}

// polled reports whether a trunk is to be polled.
func polled(t config.SIPTrunk) bool {
	return t.SIPOptions != nil && t.SIPOptions.Enabled && len(t.DestinationHosts) > 0
}

// settings is what polling one trunk needs from its configuration.
type settings struct {
	trunk     config.SIPTrunk
	interval  time.Duration
	timeout   time.Duration
	downAfter int
	upAfter   int
}

func settingsOf(t config.SIPTrunk, timeout time.Duration) settings {
	o := t.SIPOptions
	s := settings{trunk: t, interval: o.Interval.D(), downAfter: o.DownAfter, upAfter: o.UpAfter}
	if s.interval <= 0 {
		s.interval = config.DefaultOptionsInterval.D()
	}
	if s.downAfter <= 0 {
		s.downAfter = config.DefaultOptionsDownAfter
	}
	if s.upAfter <= 0 {
		s.upAfter = config.DefaultOptionsUpAfter
	}
	s.timeout = min(timeout, s.interval)
	return s
}
