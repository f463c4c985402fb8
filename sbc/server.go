package sbc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/media"
	"github.com/trunkline/trunkline/routing"
	"github.com/trunkline/trunkline/sbc/digest"
	"github.com/trunkline/trunkline/sbc/resolve"
	"github.com/trunkline/trunkline/sbc/trunkhealth"
	"github.com/trunkline/trunkline/scripts"
)

// callLogKeep is how many call-leg records the server keeps in memory.
const callLogKeep = 10000

// inflightGrace is how long Shutdown lets requests already read settle
// before closing sipgo's transport layer.
const inflightGrace = 20 * time.Millisecond

// Options configure a Server.
type Options struct {
	// Config is the configuration to start with: validated and with defaults
	// applied (config.Load's result). The server keeps it: it must not be
	// modified afterwards. Its sip.listen entries are bound by Start and fixed
	// for the server's life.
	Config *config.Config
	// ScriptKV backs the Lua scripts' tl.kv_get and tl.kv_set (the
	// replicated store); nil: they raise an error.
	ScriptKV scripts.KV
}

// Server is the SIP side of the appliance: listeners, classification of
// requests, and the answers of each method. Its lifecycle is New, Start,
// Shutdown; SetConfig swaps the configuration at any time.
type Server struct {
	log     *slog.Logger
	metrics *serverMetrics
	calls   callTracker
	listens []listenAddr

	ua  *sipgo.UserAgent
	sip *sipgo.Server
	cli *sipgo.Client

	// The call path.
	pool      *media.Pool                 // RTP port pairs for the calls' relays
	mediaAddr netip.Addr                  // the address relays bind and SDP advertises
	resolver  *net.Resolver               // dns.servers, for sipgo's own look-ups
	dns       *resolve.Resolver           // dns.servers: RFC 3263 for destination hosts
	health    *trunkhealth.Monitor        // OPTIONS polling of trunks
	digest    digest.Client               // answers the challenges of trunks with outboundAuth
	flood     *floodGuard                 // sip.sourceRateLimit
	scripts   *scripts.Engine             // the configuration's Lua scripts
	tls       atomic.Pointer[tlsFiles]    // sip.tls in force
	tlsDialMu sync.Mutex                  // guards tlsDials
	tlsDials  map[netip.AddrPort]*dialing // dials toward TLS trunks in progress
	tlsOut    *connFeed                   // the TLS connections dialled, for sipgo
	dialogs   *dialogTable
	callLogs  *callLogRing
	channels  channelCounter
	cps       cpsLimiter
	rr        roundRobin
	peers     peerSet             // addresses live calls sent INVITEs to
	eps       map[string]endpoint // by transport; set by Start
	owners    taskGroup           // the owner goroutines of live calls
	bg        taskGroup           // hang-ups of answers that came too late
	// Inbound identification (auth.go, registrar.go): the digest
	// verifier lives as long as the server (its nonces mean nothing to
	// another), and so do the bindings of REGISTERED trunks.
	auth      *authenticator
	registrar *registrar

	// Timings of the call path (DESIGN §4.5); tests shorten them.
	rerouteDelay time.Duration // no response at all: next attempt
	cancelWait   time.Duration // bound on the final response after CANCEL
	byeWait      time.Duration // bound on the answer to a BYE
	// Session timers (RFC 4028): the least Session-Expires a caller may ask
	// (Min-SE; below it, 422), and the one the appliance asks of callees.
	minSE          time.Duration
	sessionExpires time.Duration
	hangupWait     time.Duration // bound on ending the calls that outlive the drain

	// state is the configuration in force, replaced whole by SetConfig.
	state atomic.Pointer[state]
	// mu serialises SetConfig and guards trunkUp.
	mu      sync.Mutex
	trunkUp map[string]bool // trunks with a trunkline_trunk_up series

	// Lifecycle. lifeMu guards started and the sockets.
	lifeMu  sync.Mutex
	started bool
	ctx     context.Context // the server's lifetime
	cancel  context.CancelFunc
	// callCtx is the parent of the calls' contexts: cancelled when the
	// drain times out, so that every call hangs up.
	callCtx  context.Context
	endCalls context.CancelFunc
	packets  []net.PacketConn
	streams  []net.Listener
	secure   []net.Listener // tls:// listeners
	conns    connSet
	addrs    []net.Addr
	serving  sync.WaitGroup // one goroutine per listener

	ready     atomic.Bool // listeners are up
	draining  atomic.Bool // Shutdown began: no new calls
	stopping  atomic.Bool // listeners are being closed
	failed    atomic.Bool // a listener stopped on its own
	closeOnce sync.Once
}

// state is one configuration with what is derived from it, built fully
// before it is swapped in, and never modified afterwards.
type state struct {
	cfg     *config.Config
	sources *sourceTable
	routes  *routing.Table
	// The Lua scripts every call runs (those no route names), and whether
	// some route names one.
	globals      []string
	routeScripts bool
}

func newState(cfg *config.Config) (*state, error) {
	sources, err := newSourceTable(cfg)
	if err != nil {
		return nil, err
	}
	routes, err := routing.Compile(cfg)
	if err != nil {
		return nil, err
	}
	st := &state{cfg: cfg, sources: sources, routes: routes, globals: globalScripts(cfg)}
	for _, r := range cfg.Routes {
		st.routeScripts = st.routeScripts || r.ScriptID != ""
	}
	return st, nil
}

// Interface guard: the call path's routing decisions ask the server which
// trunks are out of service.
var _ routing.Health = (*Server)(nil)

// New builds a server for opts.Config. It opens no socket: Start does.
// log receives the server's events; nil discards them.
func New(opts Options, log *slog.Logger) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("sbc: no configuration")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listens, err := parseListens(opts.Config.SIP.Listen)
	if err != nil {
		return nil, err
	}
	st, err := newState(opts.Config)
	if err != nil {
		return nil, err
	}
	auth, err := newAuthenticator(digest.Options{})
	if err != nil {
		return nil, err
	}
	mediaAddr, err := mediaAddress(opts.Config)
	if err != nil {
		return nil, err
	}
	lo, hi, err := media.ParsePortRange(opts.Config.Media.RTPPorts)
	if err != nil {
		return nil, fmt.Errorf("media.rtpPorts: %w", err)
	}
	pool, err := media.NewPool(mediaAddr, lo, hi)
	if err != nil {
		return nil, err
	}
	needCert := false
	for _, l := range listens {
		needCert = needCert || l.network == "tls"
	}
	tlsFiles, err := loadTLS(opts.Config.SIP.TLS, needCert)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log: log, listens: listens, trunkUp: map[string]bool{},
		pool: pool, mediaAddr: mediaAddr,
		auth: auth, registrar: newRegistrar(nil),
		resolver:       newResolver(opts.Config.DNS.Servers),
		dns:            resolve.New(opts.Config.DNS.Servers),
		flood:          newFloodGuard(),
		scripts:        scripts.New(scripts.Options{Logger: log.With("component", "scripts"), KV: opts.ScriptKV}),
		tlsOut:         newConnFeed(),
		dialogs:        newDialogTable(),
		callLogs:       newCallLogRing(callLogKeep),
		rerouteDelay:   defaultRerouteDelay,
		cancelWait:     defaultCancelWait,
		byeWait:        defaultByeWait,
		minSE:          defaultMinSE,
		sessionExpires: defaultSessionExpires,
		hangupWait:     hangupWait,
	}
	s.metrics = newServerMetrics(func() float64 { return float64(s.calls.active()) })
	s.health, err = trunkhealth.New(trunkhealth.Options{
		Prober:   optionsProber{s},
		Resolve:  s.healthTargets,
		OnChange: s.onHealthChange,
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	s.health.Update(st.cfg.SIPTrunks)
	s.metrics.set.RegisterMetricsWriter(func(w io.Writer) { writeRTP(w, s.pool) })
	s.state.Store(st)
	s.tls.Store(tlsFiles)
	s.loadScripts(st.cfg)
	s.syncTrunkMetrics(st.cfg)

	sipLog := sipgoLogger(log)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("Trunkline"),
		sipgo.WithUserAgentDNSResolver(s.resolver),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(s.screen),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipLog),
			// 2xx retransmissions no transaction takes any more: re-ACK
			// them for live calls, hang them up for ended ones.
			sip.WithTransactionLayerUnhandledResponseHandler(s.onStrayResponse),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sbc: sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sbc: sip server: %w", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sbc: sip client: %w", err)
	}
	s.cli = cli
	// Every method enters through serveRequest, which dispatches on it. It is
	// registered here, before any socket exists: sipgo's handler map is not
	// safe for concurrent use.
	srv.OnNoRoute(s.serveRequest)
	s.ua, s.sip = ua, srv
	return s, nil
}

// Start binds every sip.listen entry and serves them. A bind error is
// returned at once, with no socket left open. ctx is the server's lifetime:
// the contexts of calls derive from it; Shutdown closes the listeners.
func (s *Server) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.started || s.stopping.Load() {
		return errors.New("sbc: Start called twice or after Shutdown")
	}
	var lc net.ListenConfig
	for _, l := range s.listens {
		var err error
		switch l.network {
		case "udp":
			var pc net.PacketConn
			if pc, err = lc.ListenPacket(ctx, "udp", l.addr); err == nil {
				if berr := setUDPBuffers(pc); berr != nil {
					s.log.Warn("cannot enlarge UDP socket buffers", "listen", l.raw, "error", berr.Error())
				}
				s.packets = append(s.packets, pc)
				s.addrs = append(s.addrs, pc.LocalAddr())
			}
		case "tcp":
			var ln net.Listener
			if ln, err = lc.Listen(ctx, "tcp", l.addr); err == nil {
				s.streams = append(s.streams, &screenedListener{Listener: ln, s: s, conns: &s.conns})
				s.addrs = append(s.addrs, ln.Addr())
			}
		case "tls":
			var ln net.Listener
			if ln, err = lc.Listen(ctx, "tcp", l.addr); err == nil {
				sl := &screenedListener{Listener: ln, s: s, conns: &s.conns}
				s.secure = append(s.secure, tls.NewListener(sl, s.serverTLS()))
				s.addrs = append(s.addrs, tlsAddr{ln.Addr().(*net.TCPAddr)})
			}
		}
		if err != nil {
			s.closeSockets()
			return fmt.Errorf("sip.listen %s: %w", l.raw, err)
		}
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.callCtx, s.endCalls = context.WithCancel(s.ctx)
	s.eps = s.endpoints(s.state.Load().cfg.SIP.Advertise)
	for _, pc := range s.packets {
		s.serving.Go(func() { s.served(pc.LocalAddr(), s.sip.ServeUDP(pc)) })
	}
	for _, ln := range s.streams {
		s.serving.Go(func() { s.served(ln.Addr(), s.sip.ServeTCP(ln)) })
	}
	for _, ln := range s.secure {
		s.serving.Go(func() { s.served(ln.Addr(), s.sip.ServeTLS(ln)) })
	}
	s.serving.Go(func() { s.served(s.tlsOut.Addr(), s.sip.ServeTLS(s.tlsOut)) })
	if err := s.health.Start(s.ctx); err != nil {
		s.log.Warn("trunk polling not started", "error", err.Error())
	}
	s.ready.Store(true)
	for _, a := range s.addrs {
		s.log.Info("sip listening", "network", a.Network(), "addr", a.String())
	}
	return nil
}

// served notes the end of a listener's serving goroutine: expected once
// Shutdown closes it, a failure otherwise (the node is then not Ready).
func (s *Server) served(addr net.Addr, err error) {
	if s.stopping.Load() {
		return
	}
	s.failed.Store(true)
	attrs := []any{"network", addr.Network(), "addr", addr.String()}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	s.log.Error("sip listener stopped", attrs...)
}

// closeSockets closes what Start bound. lifeMu must be held.
func (s *Server) closeSockets() {
	for _, pc := range s.packets {
		pc.Close()
	}
	for _, ln := range s.streams {
		ln.Close()
	}
	for _, ln := range s.secure {
		ln.Close()
	}
	s.tlsOut.Close()
	s.packets, s.streams, s.secure, s.addrs = nil, nil, nil, nil
}

// Ready reports whether the server takes requests: listeners up, not
// draining, none failed.
func (s *Server) Ready() bool {
	return s.ready.Load() && !s.draining.Load() && !s.failed.Load()
}

// Addrs returns the bound listener addresses (*net.UDPAddr, *net.TCPAddr),
// in sip.listen order; nil before Start.
func (s *Server) Addrs() []net.Addr {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return slices.Clone(s.addrs)
}

// Shutdown drains the server: from now on it is not Ready, answers new
// INVITEs (and OPTIONS, so that peers move their traffic) with 503, and
// waits for live calls to end, at most until ctx ends. Then it closes the
// listeners and their connections and ends its goroutines. It returns ctx's
// error when calls outlived it, and may be called more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginDrain()
	err := s.calls.wait(ctx)
	if err != nil {
		s.log.Warn("drain timeout: ending live calls", "calls", s.calls.active())
		s.hangupAll()
	}
	s.closeOnce.Do(s.close)
	return err
}

// hangupAll ends every live call (BYE to both legs of a connected one, 503
// to the caller of one being set up) and waits for them, at most
// hangupWait.
func (s *Server) hangupAll() {
	s.lifeMu.Lock()
	end := s.endCalls
	s.lifeMu.Unlock()
	if end == nil {
		return
	}
	end()
	ctx, cancel := context.WithTimeout(context.Background(), s.hangupWait)
	defer cancel()
	if err := s.calls.wait(ctx); err != nil {
		s.log.Warn("calls still live after hanging up", "calls", s.calls.active())
	}
}

// beginDrain stops taking new calls: Ready turns false, INVITE and OPTIONS
// get 503.
func (s *Server) beginDrain() {
	s.draining.Store(true)
	s.calls.refuse()
}

// close stops serving: it closes the sockets, waits for the listener
// goroutines, and closes sipgo's transaction and transport layers.
func (s *Server) close() {
	s.stopping.Store(true)
	s.ready.Store(false)
	s.lifeMu.Lock()
	s.closeSockets()
	s.conns.closeAll()
	if s.cancel != nil {
		s.cancel()
	}
	s.lifeMu.Unlock()
	s.serving.Wait()
	s.health.Stop()
	// Requests read before the sockets closed may still be matched to
	// transactions on sipgo's goroutines; one that finds its peer gone from
	// the closed listener's pool opens a socket of its own, which would
	// outlive the transport layer if that closed first. Let them land.
	time.Sleep(inflightGrace)
	s.ua.Close()
	// With every transaction terminated, the owners of calls still live
	// run to their end at once.
	s.owners.closeWait()
	s.bg.closeWait()
	s.scripts.Close()
	if err := s.pool.Close(); err != nil {
		s.log.Warn("media pool close", "error", err.Error())
	}
	s.log.Info("sip stopped")
}

// mediaAddress picks the address relays bind and SDP advertises:
// media.advertise, else sip.advertise when it is an IP address, else the
// first SIP listener's IP when it names one, else the loopback address.
func mediaAddress(cfg *config.Config) (netip.Addr, error) {
	if a := cfg.Media.Advertise; a != "" {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("media.advertise: %q is not an IP address (the relay binds it and SDP c= carries it)", a)
		}
		return ip.Unmap(), nil
	}
	if ip, err := netip.ParseAddr(cfg.SIP.Advertise); err == nil {
		return ip.Unmap(), nil
	}
	for _, l := range cfg.SIP.Listen {
		_, hp, _ := strings.Cut(l, "://")
		if ap, err := netip.ParseAddrPort(hp); err == nil && !ap.Addr().IsUnspecified() {
			return ap.Addr().Unmap(), nil
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
}

// SetConfig swaps the configuration in force. cfg must be validated with
// defaults applied, and is kept: it must not be modified afterwards. cfg is
// checked fully first (its sources and routes compiled); on error the
// running configuration stays. Listener changes need a restart.
func (s *Server) SetConfig(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("sbc: no configuration")
	}
	st, err := newState(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.state.Swap(st)
	if !slices.Equal(old.cfg.SIP.Listen, cfg.SIP.Listen) {
		s.log.Warn("sip.listen changed: restart to apply", "running", old.cfg.SIP.Listen, "configured", cfg.SIP.Listen)
	}
	if old.cfg.SIP.Advertise != cfg.SIP.Advertise || old.cfg.Media != cfg.Media || !slices.Equal(old.cfg.DNS.Servers, cfg.DNS.Servers) {
		s.log.Warn("sip.advertise, media or dns changed: restart to apply")
	}
	s.loadScripts(cfg)
	s.syncTrunkMetrics(cfg)
	s.health.Update(cfg.SIPTrunks)
	s.reloadTLS(cfg.SIP.TLS)
	return nil
}

// Config returns the configuration in force. It must not be modified.
func (s *Server) Config() *config.Config {
	return s.state.Load().cfg
}

// Metrics returns the server's metric set, for the /metrics endpoint.
func (s *Server) Metrics() *metrics.Set {
	return s.metrics.set
}

// syncTrunkMetrics gives every trunk of cfg a trunkline_trunk_up series and
// removes those of trunks gone. s.mu must be held (or s not yet shared).
func (s *Server) syncTrunkMetrics(cfg *config.Config) {
	keep := make(map[string]bool, len(cfg.SIPTrunks))
	for i := range cfg.SIPTrunks {
		id := cfg.SIPTrunks[i].ID
		keep[id] = true
		if !s.trunkUp[id] {
			s.metrics.set.NewGauge(trunkUpName(id), s.trunkUpValue(id))
			s.trunkUp[id] = true
		}
	}
	for id := range s.trunkUp {
		if !keep[id] {
			s.metrics.set.UnregisterMetric(trunkUpName(id))
			delete(s.trunkUp, id)
		}
	}
}

// trunkUpValue feeds trunkline_trunk_up for one trunk: 1 unless TrunkDown.
func (s *Server) trunkUpValue(id string) func() float64 {
	return func() float64 {
		if s.TrunkDown(id) {
			return 0
		}
		return 1
	}
}
