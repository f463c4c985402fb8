package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/trunkline/trunkline/config"
)

// ErrNoQuorum: no leader is known, or the leader could not commit (it lost
// its majority, or leadership, or the write timed out). The API answers 503.
// A write refused with it may or may not have been committed when the
// leader lost leadership while committing it.
var ErrNoQuorum = errors.New("cluster: no quorum: no leader can commit the change")

// ErrStopped: the node is not running (before Start or after Stop).
var ErrStopped = errors.New("cluster: node not running")

// ErrSingleNode: a node without peers runs on an in-process transport and
// cannot take members; restart it with cluster.peers.
var ErrSingleNode = errors.New("cluster: a single node (no cluster.peers) cannot add members")

// NotLeaderError refuses a write on a follower: it names the leader, and
// the leader's API address to forward the request to ("" when unknown).
type NotLeaderError struct {
	LeaderID      string
	LeaderAPIAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAPIAddr == "" {
		return fmt.Sprintf("cluster: not the leader; the leader is %q (API address unknown)", e.LeaderID)
	}
	return fmt.Sprintf("cluster: not the leader; the leader is %q at %s", e.LeaderID, e.LeaderAPIAddr)
}

// LeaderAPI returns the leader's API address, "" when unknown.
func (e *NotLeaderError) LeaderAPI() string { return e.LeaderAPIAddr }

// Apply commits one change and returns the configuration after it (with
// Options.Settings' node settings). Only the leader writes: it first applies
// the change to its current configuration and returns what config.Apply
// refuses (config.ErrExists, config.ErrNotFound, *config.InUseError, a
// *config.Error) without committing anything; then it commits the change
// and returns the FSM's verdict (which can still refuse a change that a
// concurrent one made invalid). A follower returns a *NotLeaderError; with
// no leader, or when the leader cannot commit within ApplyTimeout, Apply
// returns an error wrapping ErrNoQuorum.
func (n *Node) Apply(ctx context.Context, ch config.Change) (*config.Config, error) {
	r, err := n.leaderRaft()
	if err != nil {
		return nil, err
	}
	if _, err := n.fsm.current().cfg.Apply(ch); err != nil {
		return nil, err
	}
	data, err := encodeChange(ch)
	if err != nil {
		return nil, err
	}
	res, err := n.commit(ctx, r, data)
	if err != nil {
		return nil, err
	}
	if res.err != nil {
		return nil, res.err
	}
	return n.withSettings(res.cfg), nil
}

// leaderRaft returns raft when this node leads, or the error Apply returns.
func (n *Node) leaderRaft() (*raft.Raft, error) {
	r := n.raftNode()
	if r == nil {
		return nil, ErrStopped
	}
	if r.State() == raft.Leader {
		return r, nil
	}
	_, id := r.LeaderWithID()
	if id == "" {
		return nil, fmt.Errorf("%w (this node is a %s)", ErrNoQuorum, r.State())
	}
	return nil, &NotLeaderError{LeaderID: string(id), LeaderAPIAddr: n.apiAddr(string(id))}
}

// commit submits a command and waits for the FSM's result.
func (n *Node) commit(ctx context.Context, r *raft.Raft, data []byte) (*applyResult, error) {
	timeout := n.opts.ApplyTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	f := r.Apply(data, timeout)
	done := make(chan error, 1)
	// Ends when the future does: at commit, loss of leadership or shutdown.
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, commitError(err)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res, ok := f.Response().(*applyResult)
	if !ok {
		return nil, fmt.Errorf("cluster: unexpected apply response %T", f.Response())
	}
	return res, nil
}

// commitError classifies an error of raft's futures.
func commitError(err error) error {
	switch {
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %v", ErrStopped, err)
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrEnqueueTimeout), errors.Is(err, raft.ErrLeadershipTransferInProgress),
		errors.Is(err, raft.ErrAbortedByRestore):
		return fmt.Errorf("%w: %v", ErrNoQuorum, err)
	}
	return fmt.Errorf("cluster: %w", err)
}

// Seed imports cfg's resources when the store holds none yet (or always,
// with overwrite) and reports whether it did: the file given to `serve
// --config` seeds an empty store and is ignored afterwards. It waits for a
// leader (until ctx ends); on a follower it returns false and a
// *NotLeaderError — the leader seeds. The emptiness test happens in the
// FSM, as part of the command, so two seeds cannot both apply.
func (n *Node) Seed(ctx context.Context, cfg *config.Config, overwrite bool) (bool, error) {
	if cfg == nil {
		return false, errors.New("cluster: Seed: no configuration")
	}
	if err := n.WaitLeader(ctx); err != nil {
		return false, err
	}
	r, err := n.leaderRaft()
	if err != nil {
		return false, err
	}
	var data []byte
	if overwrite {
		ch := config.Change{Op: config.OpImport, Config: cfg}
		if _, err := n.fsm.current().cfg.Apply(ch); err != nil {
			return false, err
		}
		data, err = encodeChange(ch)
	} else {
		if cur := n.fsm.current().cfg; cur.HasResources() {
			// WaitLeader's barrier made the leader's state current: no
			// need to commit a seed the FSM would refuse.
			n.log.Info("the replicated store already holds configuration: the file is ignored (use --config-overwrite to import it)")
			return false, nil
		}
		if _, err := n.fsm.current().cfg.Apply(config.Change{Op: config.OpImport, Config: cfg}); err != nil {
			return false, err
		}
		data, err = encode(CmdSeed, cfg)
	}
	if err != nil {
		return false, err
	}
	res, err := n.commit(ctx, r, data)
	if err != nil {
		return false, err
	}
	if res.err != nil {
		return false, res.err
	}
	if res.applied && overwrite {
		n.log.Warn("configuration imported into the replicated store", "overwrite", overwrite)
	} else if res.applied {
		n.log.Info("configuration imported into the replicated store", "overwrite", overwrite)
	} else {
		n.log.Info("the replicated store already holds configuration: the file is ignored (use --config-overwrite to import it)")
	}
	return res.applied, nil
}

// WaitLeader waits until this node knows a leader (itself or another) and,
// when it leads, has applied every entry committed before (a raft
// barrier). It returns ctx's error when ctx ends first.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		r := n.raftNode()
		if r == nil {
			return ErrStopped
		}
		if _, id := r.LeaderWithID(); id != "" {
			if r.State() != raft.Leader {
				return nil
			}
			if err := r.Barrier(n.opts.ApplyTimeout).Error(); err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
		case <-t.C:
		}
	}
}

// AddMember adds a voter to the cluster: it records the member's API
// address in the replicated state, then adds id at raftAddr to the raft
// configuration. Leader only (a *NotLeaderError elsewhere). The new node
// starts with NoBootstrap (or with peers naming the cluster; it then
// bootstraps nothing, since the cluster already holds state it receives).
func (n *Node) AddMember(ctx context.Context, id, raftAddr, apiAddr string) error {
	if id == "" || raftAddr == "" {
		return errors.New("cluster: AddMember: id and raft address are required")
	}
	if len(n.opts.Peers) == 0 {
		return ErrSingleNode
	}
	r, err := n.leaderRaft()
	if err != nil {
		return err
	}
	if err := n.recordMember(ctx, r, memberRecord{ID: id, API: apiAddr}); err != nil {
		return err
	}
	if err := r.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, n.opts.ApplyTimeout).Error(); err != nil {
		return commitError(err)
	}
	n.log.Info("member added", "member", id, "raftAddr", raftAddr, "apiAddr", apiAddr)
	return nil
}

// RemoveMember removes a member from the cluster and forgets its API
// address. Leader only. Removing the leader itself makes it step down.
func (n *Node) RemoveMember(ctx context.Context, id string) error {
	r, err := n.leaderRaft()
	if err != nil {
		return err
	}
	cf := r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return commitError(err)
	}
	known := false
	for _, s := range cf.Configuration().Servers {
		known = known || string(s.ID) == id
	}
	if !known {
		return fmt.Errorf("cluster: member %q: %w", id, config.ErrNotFound)
	}
	if err := r.RemoveServer(raft.ServerID(id), 0, n.opts.ApplyTimeout).Error(); err != nil {
		return commitError(err)
	}
	if id != n.opts.NodeID {
		if err := n.recordMember(ctx, r, memberRecord{ID: id, Remove: true}); err != nil {
			return err
		}
	}
	n.log.Info("member removed", "member", id)
	return nil
}

func (n *Node) recordMember(ctx context.Context, r *raft.Raft, m memberRecord) error {
	data, err := encode(CmdMember, m)
	if err != nil {
		return err
	}
	res, err := n.commit(ctx, r, data)
	if err != nil {
		return err
	}
	return res.err
}

// apiAddr returns the API address of member id: as recorded by
// AddMember, else from Options.Peers, else this node's own; "" when
// unknown.
func (n *Node) apiAddr(id string) string {
	if a, ok := n.fsm.current().members[id]; ok {
		return a
	}
	if id == n.opts.NodeID {
		return n.opts.APIAddr
	}
	for _, p := range n.opts.Peers {
		if p.ID == id {
			return p.API
		}
	}
	return ""
}
