package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/trunkline/trunkline/api"
	"github.com/trunkline/trunkline/cluster"
	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc"
)

// Bounds of the appliance's own steps (the SIP drain has sip.drainTimeout).
const (
	apiShutdownTimeout = 5 * time.Second
	apiHeaderTimeout   = 10 * time.Second
	apiIdleTimeout     = 2 * time.Minute
)

// runAppliance runs `trunkline serve` (DESIGN §2) until SIGTERM or SIGINT,
// logging one JSON line per event to stderr, and returns the exit code:
// 0 after a drain, 1 when a listener cannot be bound or the appliance fails,
// 2 for an invalid configuration. SIGHUP reloads the configuration file.
func runAppliance(configPath, dataDir string, configOverwrite bool, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	// Process-wide settings are made here, once: the default logger (which
	// the log package and libraries fall back on) and sipgo's.
	slog.SetDefault(log)
	sbc.ConfigureProcess(log)

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	return serveAppliance(applianceArgs{
		configPath: configPath,
		dataDir:    dataDir,
		overwrite:  configOverwrite,
	}, log, signals, nil)
}

// applianceArgs are the flags of `trunkline serve`.
type applianceArgs struct {
	configPath string // "" = the embedded default configuration
	dataDir    string // overrides node.dataDir when not ""
	overwrite  bool   // --config-overwrite
}

// applianceAddrs are the addresses the appliance serves on.
type applianceAddrs struct {
	SIP []net.Addr
	API net.Addr
}

// appliance is one run of `trunkline serve`: the configuration in force and
// the servers built from it.
type appliance struct {
	args   applianceArgs
	log    *slog.Logger
	config liveConfig // in force: the store's resources, this node's settings
	sip    *sbc.Server
	store  *cluster.Node

	settings atomic.Pointer[config.Config] // this node's settings (its file)
	applyMu  sync.Mutex                    // serialises putting configurations in force; guards sipUp and appliedIndex
	sipUp    bool                          // SIP exists: committed configurations go to it
	// appliedIndex is the store index of the configuration SIP has in
	// force (0: the file's, or none); latest is the newest committed one.
	appliedIndex uint64
	latest       atomic.Pointer[stored]
	readyLogged  atomic.Bool // the first time ready() held was logged
}

// serveAppliance is runAppliance without the process-wide set-up: it reads
// SIGHUP, SIGTERM and SIGINT from signals and, once both SIP and the API
// serve, calls onServing (when not nil) with their addresses.
func serveAppliance(args applianceArgs, log *slog.Logger, signals <-chan os.Signal, onServing func(applianceAddrs)) int {
	a := &appliance{args: args, log: log}
	cfg, code := a.loadInitial()
	if cfg == nil {
		return code
	}
	a.settings.Store(cfg)

	// The store first: after a restart it holds the configuration to start
	// on (the file only seeds an empty store).
	store, err := newStore(cfg, a)
	if err != nil {
		log.Error("cannot build the cluster store", "error", err.Error())
		return exitUsage
	}
	a.store = store
	// The lifetime of SIP calls and of the store: cancelled only once the
	// drain is over.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := store.Start(ctx); err != nil {
		log.Error("cannot start the cluster store", "error", err.Error())
		return exitFail
	}
	defer a.stopStore()
	// Every configuration the cluster commits from now on is kept, and put
	// in force once SIP exists; nothing applied while SIP is being built is
	// missed.
	unsubscribe := store.Subscribe(a.onCommitted)
	defer unsubscribe()
	if len(cfg.Cluster.Peers) == 0 {
		// Alone, the node leads itself within moments: serve once it does,
		// so that /healthz answers 200 from the start. In a cluster the node
		// serves at once and /healthz waits for a leader.
		wctx, wcancel := context.WithTimeout(ctx, leaderWait)
		err := store.WaitLeader(wctx)
		wcancel()
		if err != nil {
			log.Error("the single-node store elected no leader", "error", err.Error())
			return exitFail
		}
	}
	initial := cfg
	if res := store.Config(); res.HasResources() && !args.overwrite {
		initial = merged(res, cfg)
		log.Info("starting on the stored configuration; the file's resources are ignored",
			"sipTrunks", len(initial.SIPTrunks), "routes", len(initial.Routes), "numbers", len(initial.Numbers))
	}
	a.config.set(initial)

	sipSrv, err := sbc.New(sbc.Options{Config: initial, ScriptKV: newScriptKV(store, cfg)}, log.With("component", "sbc"))
	if err != nil {
		log.Error("cannot build the SIP server", "error", err.Error())
		return exitFail
	}
	a.sip = sipSrv
	handler := api.New(api.Deps{
		Config:  &a.config,
		Store:   storeAPI{a},
		Members: memberAdmin{store},
		Scripts: sipSrv,
		KV:      kvAPI{store},
		Ready:   api.ReadyFunc(a.ready),
		Metrics: api.MetricsFunc(a.writeMetrics),
		Trunks:  trunkMonitor{sipSrv},
		Cluster: clusterStatus{store},
	}, log.With("component", "api"))

	if err := sipSrv.Start(ctx); err != nil {
		log.Error("cannot start SIP", "error", err.Error())
		sipSrv.Shutdown(ctx)
		return exitFail
	}
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		log.Error("cannot start the API", "listen", cfg.API.Listen, "error", err.Error())
		sipSrv.Shutdown(ctx)
		return exitFail
	}
	httpSrv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: apiHeaderTimeout,
		IdleTimeout:       apiIdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.With("component", "api").Handler(), slog.LevelWarn),
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Serve(ln) }()

	a.sipStarted()
	// The file seeds the store when it holds nothing.
	if len(cfg.Cluster.Peers) == 0 {
		a.seed(ctx, cfg) // it leads: done at once
	} else {
		go a.seed(ctx, cfg) // when a leader is known
	}

	addrs := applianceAddrs{SIP: sipSrv.Addrs(), API: ln.Addr()}
	log.Info("serving", "sip", listenURLs(addrs.SIP), "api", addrs.API.String(), "nodeId", cfg.Node.ID)
	if onServing != nil {
		onServing(addrs)
	}

	code = exitOK
	for stop := false; !stop; {
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				a.reload()
				continue
			}
			log.Info("draining", "signal", sig.String(), "drainTimeout", a.config.Config().SIP.DrainTimeout.String())
			stop = true
		case err := <-httpDone:
			log.Error("the API stopped", "error", err.Error())
			httpDone <- err // for the shutdown below
			code = exitFail
			stop = true
		}
	}
	a.drain(signals)
	shutCtx, shutCancel := context.WithTimeout(context.Background(), apiShutdownTimeout)
	defer shutCancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("API shutdown cut short", "error", err.Error())
		httpSrv.Close()
	}
	if err := <-httpDone; err != nil && !errors.Is(err, http.ErrServerClosed) && code == exitOK {
		log.Error("the API stopped", "error", err.Error())
	}
	a.stopStore() // before the last line (the deferred call then finds it stopped)
	log.Info("stopped", "exitCode", code)
	return code
}

// loadInitial reads the configuration to start with, applies --data and
// creates the data directory. It returns nil and the exit code on failure.
func (a *appliance) loadInitial() (*config.Config, int) {
	var cfg *config.Config
	if a.args.configPath == "" {
		cfg = config.Default()
		a.log.Info("starting", "version", version, "config", "embedded default")
	} else {
		var err error
		if cfg, err = config.Load(a.args.configPath); err != nil {
			a.log.Error("invalid configuration", "file", a.args.configPath, "error", err.Error())
			return nil, exitUsage
		}
		a.log.Info("starting", "version", version, "config", a.args.configPath)
	}
	if a.args.overwrite {
		a.log.Warn("--config-overwrite: the file's resources will replace the replicated store's")
	}
	a.applyDataDir(cfg)
	if err := os.MkdirAll(cfg.Node.DataDir, 0o750); err != nil {
		a.log.Error("cannot create the data directory", "dataDir", cfg.Node.DataDir, "error", err.Error())
		return nil, exitFail
	}
	a.log.Info("configuration", "nodeId", cfg.Node.ID, "dataDir", cfg.Node.DataDir,
		"sipTrunks", len(cfg.SIPTrunks), "routes", len(cfg.Routes), "numbers", len(cfg.Numbers))
	return cfg, exitOK
}

// applyDataDir makes --data override node.dataDir.
func (a *appliance) applyDataDir(cfg *config.Config) {
	if a.args.dataDir != "" {
		cfg.Node.DataDir = a.args.dataDir
	}
}

// reload re-reads the configuration file (SIGHUP). A file that does not
// load, or that SIP refuses, is logged and changes nothing. A valid one
// gives this node its settings (TLS certificates among them) and its
// resources are imported into the store — what the operator asks by
// reloading — through this node when it leads; on a follower they are not
// (logged: change the cluster's resources through the API).
func (a *appliance) reload() {
	path := a.args.configPath
	if path == "" {
		a.log.Warn("SIGHUP: no --config file to reload; the embedded default stays")
		return
	}
	cfg, err := config.Load(path)
	if err != nil {
		a.log.Error("config reload failed: the running configuration stays", "file", path, "error", err.Error())
		return
	}
	a.applyDataDir(cfg)
	old := a.settings.Load()
	// The new settings with the resources in force, then the file's
	// resources through the store.
	a.applyMu.Lock()
	if err := a.sip.SetConfig(merged(a.config.Config(), cfg)); err != nil {
		a.applyMu.Unlock()
		a.log.Error("config reload failed: the running configuration stays", "file", path, "error", err.Error())
		return
	}
	a.settings.Store(cfg)
	a.config.set(merged(a.config.Config(), cfg))
	a.applyMu.Unlock()
	for _, c := range []struct {
		field string
		same  bool
	}{
		{"node", old.Node == cfg.Node},
		{"api.listen", old.API.Listen == cfg.API.Listen},
		{"cluster", reflect.DeepEqual(old.Cluster, cfg.Cluster)},
	} {
		if !c.same {
			a.log.Warn(c.field+" changed: restart to apply", "file", path)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), seedTimeout)
	defer cancel()
	_, err = a.store.Apply(ctx, config.Change{Op: config.OpImport, Config: cfg})
	var nl *cluster.NotLeaderError
	switch {
	case errors.As(err, &nl):
		a.log.Warn("config reloaded: node settings only — this node does not lead, the file's resources are not imported (use the API)",
			"file", path, "leader", nl.LeaderID)
		return
	case err != nil:
		a.log.Error("config reload failed: the running configuration stays", "file", path, "error", err.Error())
		return
	}
	idx := a.store.ConfigIndex() // before the configuration: see storeAPI.Apply
	a.applyStored(a.store.Config(), idx)
	a.log.Info("config reloaded", "file", path,
		"sipTrunks", len(cfg.SIPTrunks), "routes", len(cfg.Routes), "numbers", len(cfg.Numbers))
}

// ready reports whether the node serves (GET /healthz): SIP up and not
// draining, a cluster leader known, every committed change applied, and
// SIP running the newest configuration.
func (a *appliance) ready() bool {
	if !a.sip.Ready() || !a.store.CaughtUp() {
		return false
	}
	a.applyMu.Lock()
	ok := a.appliedIndex >= a.store.ConfigIndex()
	applied := a.appliedIndex
	a.applyMu.Unlock()
	if ok && !a.readyLogged.Swap(true) {
		a.log.Info("ready", "configIndex", applied, "status", a.store.Status())
	}
	return ok
}

// stopStore stops the node's member of the cluster.
func (a *appliance) stopStore() {
	ctx, cancel := context.WithTimeout(context.Background(), apiShutdownTimeout)
	defer cancel()
	if err := a.store.Stop(ctx); err != nil {
		a.log.Warn("cluster store stop", "error", err.Error())
	}
}

// drain shuts SIP down within sip.drainTimeout; a second SIGTERM or SIGINT
// ends the drain at once.
func (a *appliance) drain(signals <-chan os.Signal) {
	ctx, cancel := context.WithTimeout(context.Background(), a.config.Config().SIP.DrainTimeout.D())
	defer cancel()
	done := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() {
		for {
			select {
			case sig := <-signals:
				if sig == syscall.SIGHUP {
					a.log.Info("SIGHUP ignored while draining")
					continue
				}
				a.log.Warn("second signal: ending the drain now", "signal", sig.String())
				cancel()
				return
			case <-done:
				return
			}
		}
	})
	if err := a.sip.Shutdown(ctx); err != nil {
		a.log.Warn("drain ended before the last call", "error", err.Error())
	}
	close(done)
	watcher.Wait()
}

// writeMetrics writes every metric of the appliance: SIP's, then the Go
// runtime's and the process's.
func (a *appliance) writeMetrics(w io.Writer) {
	a.sip.Metrics().WritePrometheus(w)
	fmt.Fprintf(w, "trunkline_raft_state %g\n", a.store.RaftState())
	metrics.WriteProcessMetrics(w)
}

// listenURLs renders listener addresses as sip.listen entries.
func listenURLs(addrs []net.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.Network() + "://" + a.String()
	}
	return out
}

// liveConfig is the configuration in force, as the API reads it. The
// replicated store replaces it.
type liveConfig struct {
	p atomic.Pointer[config.Config]
}

func (c *liveConfig) Config() *config.Config { return c.p.Load() }
func (c *liveConfig) set(cfg *config.Config) { c.p.Store(cfg) }

// trunkMonitor gives the API the SIP side's view of a trunk.
type trunkMonitor struct{ sip *sbc.Server }

func (m trunkMonitor) TrunkStatus(tr *config.SIPTrunk) api.TrunkStatus {
	st, ok := m.sip.TrunkStatus(tr.ID)
	if !ok { // the configuration changed between the two looks
		st = sbc.TrunkStatus{Options: sbc.StatusUnknown, Registration: sbc.RegistrationNA}
	}
	hosts := make([]api.HostStatus, len(st.Hosts))
	for i, h := range st.Hosts {
		hosts[i] = api.HostStatus{Host: h.Host, Status: h.Status}
	}
	return api.TrunkStatus{
		RegistrationStatus: st.Registration,
		ActiveCalls:        st.ActiveCalls,
		OptionsStatus:      st.Options,
		Hosts:              hosts,
	}
}

// Interface guards.
var (
	_ api.ConfigSource = (*liveConfig)(nil)
	_ api.ReadyChecker = (*sbc.Server)(nil)
	_ api.TrunkMonitor = trunkMonitor{}
)
