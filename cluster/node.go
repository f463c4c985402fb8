package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/trunkline/trunkline/config"
)

// Options configure a Node. NodeID and DataDir are required; the rest has
// defaults fit for production.
type Options struct {
	// NodeID is this node's id (node.id): its raft server id.
	NodeID string
	// DataDir is node.dataDir; raft keeps its log, stable store and
	// snapshots under DataDir/raft.
	DataDir string
	// RaftListen is the TCP address the raft transport binds
	// (cluster.raftListen). Used only with Peers.
	RaftListen string
	// RaftAdvertise is the address the other nodes reach this one at;
	// empty means RaftListen, which must then not be a wildcard address.
	RaftAdvertise string
	// APIAddr is this node's API address (api.listen), reported to the
	// others for forwarding writes.
	APIAddr string
	// Peers are the other nodes (cluster.peers). None: a single node on an
	// in-process transport that opens no port.
	Peers []config.Peer
	// NoBootstrap leaves a node with no state waiting to be added to an
	// existing cluster (AddMember on its leader) instead of bootstrapping
	// the membership of itself and Peers.
	NoBootstrap bool
	// Settings, when set, are the node settings (node, sip, dns, media,
	// api, cluster) of the configurations Config, Apply and the
	// subscribers see; the replicated state holds only the resources.
	Settings *config.Config
	// Logger receives the node's and raft's logs; nil discards them.
	Logger *slog.Logger

	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout tune raft
	// (defaults 1s, 1s, 500ms); tests shorten them.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	// CommitTimeout is how long the leader lets a commit wait before it
	// tells the followers with an empty AppendEntries when no new write
	// carries the news (raft's default 50ms, doubled by staggering: a
	// follower applies a lone write up to 100ms late).
	CommitTimeout time.Duration
	// ApplyTimeout bounds one write from submission to commit (default 5s).
	ApplyTimeout time.Duration
	// SnapshotThreshold is the number of log entries after which a
	// snapshot is taken and the log compacted (default 1024);
	// SnapshotInterval how often that is checked (default 30s);
	// TrailingLogs how many entries are kept after a snapshot (default 1024).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// SnapshotRetain is the number of snapshot files kept (default 2).
	SnapshotRetain int
}

func (o *Options) withDefaults() {
	def := raft.DefaultConfig()
	setDur(&o.HeartbeatTimeout, def.HeartbeatTimeout)
	setDur(&o.ElectionTimeout, def.ElectionTimeout)
	setDur(&o.LeaderLeaseTimeout, def.LeaderLeaseTimeout)
	setDur(&o.CommitTimeout, def.CommitTimeout)
	setDur(&o.ApplyTimeout, 5*time.Second)
	setDur(&o.SnapshotInterval, def.SnapshotInterval)
	if o.SnapshotThreshold == 0 {
		o.SnapshotThreshold = 1024
	}
	if o.TrailingLogs == 0 {
		o.TrailingLogs = 1024
	}
	if o.SnapshotRetain == 0 {
		o.SnapshotRetain = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func setDur(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Node is one member of the replicated configuration store. Its lifecycle
// is New → Start → Stop; a stopped Node is not started again (make a new
// one on the same DataDir).
type Node struct {
	opts Options
	log  *slog.Logger
	fsm  *fsm

	// Set by Start, cleared by Stop; guarded by mu.
	mu        sync.Mutex
	raft      *raft.Raft
	store     *raftboltdb.BoltStore
	transport raft.Transport
	raftAddr  raft.ServerAddress
	stop      context.CancelFunc
	done      chan struct{} // closed when the notifier ends
	started   bool
	// startLast is the last log index the node held when it started:
	// entries it replays before it serves the cluster's configuration.
	startLast uint64
	// caughtTo is the log index up to which CaughtUp found every command
	// applied: later checks start there.
	caughtTo atomic.Uint64

	subMu  sync.Mutex
	subs   map[int]func(*config.Config, uint64)
	nextID int
}

// New checks opts and returns a Node that is not started: it does no I/O.
func New(opts Options) (*Node, error) {
	switch {
	case opts.NodeID == "":
		return nil, errors.New("cluster: Options.NodeID is required")
	case opts.DataDir == "":
		return nil, errors.New("cluster: Options.DataDir is required")
	case len(opts.Peers) > 0 && opts.RaftListen == "":
		return nil, errors.New("cluster: Options.RaftListen is required with peers")
	}
	for _, p := range opts.Peers {
		if p.ID == "" || p.ID == opts.NodeID || p.Raft == "" {
			return nil, fmt.Errorf("cluster: peer %+v: want another node's id and raft address", p)
		}
	}
	opts.Peers = slices.Clone(opts.Peers)
	opts.withDefaults()
	log := opts.Logger.With("component", "cluster", "nodeId", opts.NodeID)
	return &Node{
		opts: opts,
		log:  log,
		fsm:  newFSM(log),
		subs: map[int]func(*config.Config, uint64){},
	}, nil
}

// Start opens the stores under DataDir/raft, the transport (TCP on
// RaftListen with peers, in-process without) and raft; a node with no raft
// state bootstraps the membership of itself and its peers (unless
// NoBootstrap). It returns once raft runs, not once a leader is elected.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return errors.New("cluster: node already started")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Join(n.opts.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	hlog := newHCLogger(n.log)
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return fmt.Errorf("cluster: open raft store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, n.opts.SnapshotRetain, hlog)
	if err != nil {
		_ = store.Close()
		return fmt.Errorf("cluster: open snapshot store: %w", err)
	}
	trans, addr, err := n.openTransport(hlog)
	if err != nil {
		_ = store.Close()
		return err
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.opts.NodeID)
	rc.HeartbeatTimeout = n.opts.HeartbeatTimeout
	rc.ElectionTimeout = n.opts.ElectionTimeout
	rc.LeaderLeaseTimeout = n.opts.LeaderLeaseTimeout
	rc.CommitTimeout = n.opts.CommitTimeout
	rc.SnapshotThreshold = n.opts.SnapshotThreshold
	rc.SnapshotInterval = n.opts.SnapshotInterval
	rc.TrailingLogs = n.opts.TrailingLogs
	rc.Logger = hlog
	rc.NoLegacyTelemetry = true
	if err := raft.ValidateConfig(rc); err != nil {
		closeTransport(trans)
		_ = store.Close()
		return fmt.Errorf("cluster: %w", err)
	}
	r, err := raft.NewRaft(rc, n.fsm, store, store, snaps, trans)
	if err != nil {
		closeTransport(trans)
		_ = store.Close()
		return fmt.Errorf("cluster: start raft: %w", err)
	}
	if !n.opts.NoBootstrap {
		if err := r.BootstrapCluster(n.membership(addr)).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = r.Shutdown().Error()
			closeTransport(trans)
			_ = store.Close()
			return fmt.Errorf("cluster: bootstrap: %w", err)
		}
	}
	nctx, cancel := context.WithCancel(context.Background())
	n.raft, n.store, n.transport, n.raftAddr = r, store, trans, addr
	n.startLast = r.LastIndex()
	n.caughtTo.Store(0)
	n.stop, n.done, n.started = cancel, make(chan struct{}), true
	go n.notify(nctx, n.done)
	n.log.Info("raft started", "raftAddr", string(addr), "peers", len(n.opts.Peers))
	return nil
}

// openTransport returns the in-process transport of a single node or the
// TCP transport of a cluster member, and this node's raft address.
func (n *Node) openTransport(hlog hclog.Logger) (raft.Transport, raft.ServerAddress, error) {
	if len(n.opts.Peers) == 0 {
		addr, t := raft.NewInmemTransport(raft.ServerAddress("inmem:" + n.opts.NodeID))
		return t, addr, nil
	}
	t, err := newTCPTransport(n.opts.RaftListen, n.opts.RaftAdvertise, hlog.Named("net"))
	if err != nil {
		return nil, "", fmt.Errorf("cluster: raft transport on %s: %w", n.opts.RaftListen, err)
	}
	return t, t.LocalAddr(), nil
}

func closeTransport(t raft.Transport) {
	if c, ok := t.(raft.WithClose); ok {
		_ = c.Close()
	}
}

// membership is the configuration every node of a new cluster bootstraps
// with: itself and its peers, ids and raft addresses.
func (n *Node) membership(self raft.ServerAddress) raft.Configuration {
	c := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.opts.NodeID), Address: self}}}
	for _, p := range n.opts.Peers {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Raft)})
	}
	return c
}

// Stop shuts raft down, closes the transport and the stores and ends the
// notifier; subscribers get nothing after it returns. It waits for raft
// up to ctx's deadline.
func (n *Node) Stop(ctx context.Context) error {
	n.mu.Lock()
	r, store, trans, stop, done := n.raft, n.store, n.transport, n.stop, n.done
	n.raft = nil
	n.mu.Unlock()
	if r == nil {
		return nil
	}
	// Not under mu: a subscriber being called may use the node.
	shut := make(chan error, 1)
	go func() { shut <- r.Shutdown().Error() }()
	finish := func(err error) error {
		stop()
		<-done
		closeTransport(trans)
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cluster: close raft store: %w", cerr)
		}
		n.log.Info("raft stopped")
		return err
	}
	select {
	case err := <-shut:
		return finish(err)
	case <-ctx.Done():
		// The stores stay open until raft has let go of them.
		go func() { _ = finish(<-shut) }()
		return fmt.Errorf("cluster: stop: %w", ctx.Err())
	}
}

// raftNode returns the running raft, or nil before Start and after Stop.
func (n *Node) raftNode() *raft.Raft {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.raft
}

// Config returns the committed configuration this node has applied: an
// immutable value (never modify it) with the node settings of
// Options.Settings. Before anything is applied it holds no resources.
func (n *Node) Config() *config.Config { return n.withSettings(n.fsm.current().cfg) }

// ConfigIndex returns the log index of the change that produced Config (0
// before any).
func (n *Node) ConfigIndex() uint64 { return n.fsm.current().cfgIndex }

// withSettings returns the replicated resources res with this node's
// settings. The result shares the resources' slices with res: both are
// immutable.
func (n *Node) withSettings(res *config.Config) *config.Config {
	if n.opts.Settings == nil || res == nil {
		return res
	}
	c := *n.opts.Settings
	c.SIPTrunks, c.Numbers, c.Routes = res.SIPTrunks, res.Numbers, res.Routes
	c.CallsConfigurations, c.Scripts = res.CallsConfigurations, res.Scripts
	return &c
}

// Subscribe registers fn to be called with each configuration this node
// applies after Subscribe returns — a committed change, a seed, a restored
// snapshot — with the log index that produced it, in index order, one call
// at a time, from a goroutine of the node's own that holds no lock: fn may
// call the Node (even Apply), though a slow fn delays later calls. Read
// Config after subscribing for the configuration in force. The returned
// function unsubscribes.
func (n *Node) Subscribe(fn func(cfg *config.Config, index uint64)) (cancel func()) {
	n.subMu.Lock()
	id := n.nextID
	n.nextID++
	n.subs[id] = fn
	n.subMu.Unlock()
	return func() {
		n.subMu.Lock()
		delete(n.subs, id)
		n.subMu.Unlock()
	}
}

// notify delivers the FSM's queued updates to the subscribers until ctx ends.
func (n *Node) notify(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.fsm.wake:
		}
		for _, u := range n.fsm.takePending() {
			n.subMu.Lock()
			fns := make([]func(*config.Config, uint64), 0, len(n.subs))
			ids := make([]int, 0, len(n.subs))
			for id := range n.subs {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				fns = append(fns, n.subs[id])
			}
			n.subMu.Unlock()
			cfg := n.withSettings(u.cfg)
			for _, fn := range fns {
				if ctx.Err() != nil {
					return
				}
				fn(cfg, u.index)
			}
		}
	}
}
