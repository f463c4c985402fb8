package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trunkline/trunkline/api"
	"github.com/trunkline/trunkline/cluster"
	"github.com/trunkline/trunkline/config"
)

// The replicated store (package cluster) holds the resources — trunks,
// numbers, routes, applications, scripts — the same on every node; the node
// settings (node, sip, dns, media, api, cluster) are this node's own, from
// its file. The configuration in force is the two merged.

// merged returns the configuration in force: the resources of res with the
// node settings of settings.
func merged(res, settings *config.Config) *config.Config {
	out := settings.Clone()
	out.SIPTrunks = res.SIPTrunks
	out.Numbers = res.Numbers
	out.Routes = res.Routes
	out.CallsConfigurations = res.CallsConfigurations
	out.Scripts = res.Scripts
	return out
}

// newStore builds this node's member of the cluster from its settings. A
// node with peers and no raft state first asks them whether a cluster
// already runs without it (joinExisting): then it does not bootstrap, and
// waits to be added through POST /cluster/1/members.
func newStore(cfg *config.Config, a *appliance) (*cluster.Node, error) {
	opts := cluster.Options{
		NodeID:     cfg.Node.ID,
		DataDir:    cfg.Node.DataDir,
		RaftListen: cfg.Cluster.RaftListen,
		APIAddr:    cfg.API.Listen,
		Peers:      cfg.Cluster.Peers,
		Logger:     a.log,
	}
	opts.NoBootstrap = a.joinExisting(cfg)
	if len(cfg.Cluster.Peers) == 0 {
		// A single voter has nobody to wait for: it elects itself at once
		// rather than after raft's cluster-sized timeouts.
		opts.HeartbeatTimeout = singleNodeTimeout
		opts.ElectionTimeout = singleNodeTimeout
		opts.LeaderLeaseTimeout = singleNodeTimeout
	} else {
		// Nodes of an appliance cluster share a LAN or a data center:
		// tighter than raft's WAN-minded defaults (1 s), so a follower
		// learns of a commit within ~50 ms (the leader heartbeats every
		// tenth of the timeout) and a dead leader is replaced sooner.
		opts.HeartbeatTimeout = clusterTimeout
		opts.ElectionTimeout = clusterTimeout
		opts.LeaderLeaseTimeout = clusterTimeout / 2
		opts.CommitTimeout = clusterCommitTimeout
	}
	return cluster.New(opts)
}

// singleNodeTimeout is raft's heartbeat and election timeout on a node
// without peers; clusterTimeout on a node with peers.
const (
	singleNodeTimeout = 50 * time.Millisecond
	clusterTimeout    = 500 * time.Millisecond
	// clusterCommitTimeout: a lone write reaches the followers' SIP within
	// a few milliseconds rather than raft's 50–100.
	clusterCommitTimeout = 5 * time.Millisecond
)

// leaderWait bounds how long a node without peers waits to lead itself
// before it serves.
const leaderWait = 10 * time.Second

// seedTimeout bounds how long the node tries to seed the store from its
// file: a cluster whose other nodes are not up yet has no leader.
const seedTimeout = 2 * time.Minute

// seed offers the file's resources to the store: they are imported when the
// store holds none (or always with --config-overwrite), by the leader; a
// follower leaves it to the leader, which seeds from its own file.
func (a *appliance) seed(ctx context.Context, file *config.Config) {
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	done, err := a.store.Seed(ctx, file, a.args.overwrite)
	var nl *cluster.NotLeaderError
	switch {
	case errors.As(err, &nl):
		a.log.Info("the leader seeds the store", "leader", nl.LeaderID)
	case err != nil:
		a.log.Error("store not seeded from the file", "error", err.Error())
	case done && a.args.overwrite:
		a.log.Warn("--config-overwrite: the file's resources replaced the store's")
	case done:
		a.log.Info("store seeded from the file", "sipTrunks", len(file.SIPTrunks), "routes", len(file.Routes), "numbers", len(file.Numbers))
	default:
		a.log.Info("the store holds configuration: the file's resources are ignored (start with --config-overwrite to import them)")
	}
}

// stored is a configuration the store committed, and its index.
type stored struct {
	cfg   *config.Config
	index uint64
}

// onCommitted takes a configuration the store committed: kept as the
// newest, and put in force when SIP exists.
func (a *appliance) onCommitted(res *config.Config, index uint64) {
	a.latest.Store(&stored{res, index})
	a.applyStored(res, index)
}

// sipStarted lets committed configurations reach SIP, starting with the
// newest one committed while SIP was being built.
func (a *appliance) sipStarted() {
	a.applyMu.Lock()
	a.sipUp = true
	a.applyMu.Unlock()
	if l := a.latest.Load(); l != nil {
		a.applyStored(l.cfg, l.index)
	}
}

// applyStored puts a configuration committed to the store in force, with
// this node's settings: SIP takes it for the next calls. One not newer
// than the configuration in force is dropped: the API's write and the
// store's notification both offer it, and they may race.
func (a *appliance) applyStored(res *config.Config, index uint64) {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	if !a.sipUp || index <= a.appliedIndex {
		return
	}
	cfg := merged(res, a.settings.Load())
	if err := a.sip.SetConfig(cfg); err != nil {
		a.log.Error("stored configuration not applied", "index", index, "error", err.Error())
		return
	}
	a.config.set(cfg)
	a.appliedIndex = index
	a.log.Info("configuration applied", "index", index,
		"sipTrunks", len(cfg.SIPTrunks), "routes", len(cfg.Routes), "numbers", len(cfg.Numbers))
}

// storeAPI is the store as the API uses it: its errors say "no quorum" in
// the API's terms, and a change it commits is in force on this node's SIP
// side when the API answers (a script PUT is hot-loaded by then).
type storeAPI struct{ a *appliance }

func (s storeAPI) Config() *config.Config { return s.a.store.Config() }

func (s storeAPI) Apply(ctx context.Context, ch config.Change) (*config.Config, error) {
	cfg, err := s.a.store.Apply(ctx, ch)
	if err != nil {
		return nil, quorum(err)
	}
	// The index first: the configuration read after it is as new or newer,
	// and a newer one's notification (a higher index) still applies.
	idx := s.a.store.ConfigIndex()
	s.a.applyStored(s.a.store.Config(), idx)
	return cfg, nil
}

// memberAdmin is the store as the API changes the cluster's membership.
type memberAdmin struct{ n *cluster.Node }

func (m memberAdmin) AddMember(ctx context.Context, id, raftAddr, apiAddr string) error {
	return quorum(m.n.AddMember(ctx, id, raftAddr, apiAddr))
}

func (m memberAdmin) RemoveMember(ctx context.Context, id string) error {
	return quorum(m.n.RemoveMember(ctx, id))
}

// quorum says "no quorum" in the API's terms.
func quorum(err error) error {
	if errors.Is(err, cluster.ErrNoQuorum) || errors.Is(err, cluster.ErrStopped) {
		return noQuorum{err}
	}
	return err
}

// noQuorum is a store error the API answers with 503.
type noQuorum struct{ err error }

func (e noQuorum) Error() string  { return fmt.Sprintf("no quorum: %v", e.err) }
func (e noQuorum) Unwrap() error  { return e.err }
func (e noQuorum) NoQuorum() bool { return true }

// clusterStatus gives the API the node's view of the cluster.
type clusterStatus struct{ n *cluster.Node }

func (c clusterStatus) ClusterStatus() api.ClusterStatus {
	st := c.n.Status()
	peers := make([]api.Peer, 0, len(st.Peers))
	for _, p := range st.Peers {
		peers = append(peers, api.Peer{ID: p.ID, Raft: p.Raft, API: p.API})
	}
	role := st.Role
	if role == cluster.RoleShutdown {
		role = api.RoleFollower
	}
	return api.ClusterStatus{NodeID: st.NodeID, Role: role, Leader: st.Leader, Peers: peers, AppliedIndex: st.AppliedIndex}
}

// Interface guards.
var (
	_ api.ConfigStore    = storeAPI{}
	_ api.ClusterMonitor = clusterStatus{}
	_ api.ClusterAdmin   = memberAdmin{}
	_ api.KVStore        = kvAPI{}
)

// kvAPI is the store's key/value side as the API uses it.
type kvAPI struct{ n *cluster.Node }

func (k kvAPI) KVGet(key string) (string, bool) { return k.n.KVGet(key) }

func (k kvAPI) KVSet(ctx context.Context, key, value string) error {
	err := k.n.KVSet(ctx, key, value)
	if errors.Is(err, cluster.ErrKVLimit) {
		return badRequest{err}
	}
	return quorum(err)
}

// badRequest is a store error the API answers with 400.
type badRequest struct{ err error }

func (e badRequest) Error() string    { return e.err.Error() }
func (e badRequest) Unwrap() error    { return e.err }
func (e badRequest) BadRequest() bool { return true }

// scriptKV is the store's key/value side as the Lua scripts use it: reads
// are local; a write on a follower goes to the leader's API, within a
// bound that keeps the hook near its budget.
type scriptKV struct {
	n      *cluster.Node
	token  string // the first api.tokens entry, for the leader's API
	client *http.Client
}

// kvWriteTimeout bounds tl.kv_set: a commit, forwarded when this node does
// not lead.
const kvWriteTimeout = 200 * time.Millisecond

func newScriptKV(n *cluster.Node, cfg *config.Config) scriptKV {
	k := scriptKV{n: n, client: &http.Client{Timeout: kvWriteTimeout}}
	if len(cfg.API.Tokens) > 0 {
		k.token = cfg.API.Tokens[0]
	}
	return k
}

func (k scriptKV) Get(key string) (string, bool) { return k.n.KVGet(key) }

func (k scriptKV) Set(key, value string) error {
	ctx, cancel := context.WithTimeout(context.Background(), kvWriteTimeout)
	defer cancel()
	err := k.n.KVSet(ctx, key, value)
	var nl *cluster.NotLeaderError
	if !errors.As(err, &nl) {
		return err
	}
	if nl.LeaderAPI() == "" {
		return fmt.Errorf("kv: no leader known: %w", err)
	}
	method, body := http.MethodPut, value
	if value == "" {
		method = http.MethodDelete
	}
	req, rerr := http.NewRequestWithContext(ctx, method, "http://"+nl.LeaderAPI()+"/kv/1/"+url.PathEscape(key), strings.NewReader(body))
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Trunkline-Forwarded-By", k.n.Status().NodeID)
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	res, rerr := k.client.Do(req)
	if rerr != nil {
		return fmt.Errorf("kv: to the leader: %w", rerr)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("kv: the leader answered %d: %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}
