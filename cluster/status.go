package cluster

import (
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"
)

// Roles of Status.Role.
const (
	RoleLeader    = "LEADER"
	RoleFollower  = "FOLLOWER"
	RoleCandidate = "CANDIDATE"
	RoleShutdown  = "SHUTDOWN"
)

// Member is a node of the cluster: its id, raft address and API address
// ("" when unknown).
type Member struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	API  string `json:"api"`
}

// Status is this node's view of the cluster (GET /cluster/1/status).
type Status struct {
	NodeID string `json:"nodeId"`
	Role   string `json:"role"`   // LEADER | FOLLOWER | CANDIDATE | SHUTDOWN
	Leader string `json:"leader"` // the leader's node id; "" when none is known
	// Peers are the other members of the raft configuration, by id.
	Peers []Member `json:"peers"`
	// AppliedIndex is the last log index applied to the configuration.
	AppliedIndex uint64 `json:"appliedIndex"`
	// Error is set when the FSM stopped at an entry it cannot apply (see
	// UnknownCommandError): this node serves a stale configuration.
	Error string `json:"error,omitempty"`
}

// Status returns this node's view of the cluster.
func (n *Node) Status() Status {
	st := n.fsm.current()
	s := Status{NodeID: n.opts.NodeID, Role: RoleShutdown, Peers: []Member{}, AppliedIndex: st.index}
	if st.broken != nil {
		s.Error = st.broken.Error()
	}
	r := n.raftNode()
	if r == nil {
		return s
	}
	s.Role = role(r.State())
	_, leader := r.LeaderWithID()
	s.Leader = string(leader)
	if idx := r.AppliedIndex(); idx > s.AppliedIndex {
		s.AppliedIndex = idx
	}
	var servers []raft.Server
	if f := r.GetConfiguration(); f.Error() == nil {
		servers = f.Configuration().Servers
	}
	for _, srv := range servers {
		if string(srv.ID) == n.opts.NodeID {
			continue
		}
		s.Peers = append(s.Peers, Member{ID: string(srv.ID), Raft: string(srv.Address), API: n.apiAddr(string(srv.ID))})
	}
	slices.SortFunc(s.Peers, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return s
}

func role(s raft.RaftState) string {
	switch s {
	case raft.Leader:
		return RoleLeader
	case raft.Follower:
		return RoleFollower
	case raft.Candidate:
		return RoleCandidate
	}
	return RoleShutdown
}

// RaftState returns raft's state as the value of the trunkline_raft_state
// gauge: 0 follower, 1 candidate, 2 leader, 3 shutdown (or not started).
// The caller registers the gauge with this function.
func (n *Node) RaftState() float64 {
	r := n.raftNode()
	if r == nil {
		return 3
	}
	switch r.State() {
	case raft.Follower:
		return 0
	case raft.Candidate:
		return 1
	case raft.Leader:
		return 2
	}
	return 3
}

// IsLeader reports whether this node is the leader.
func (n *Node) IsLeader() bool {
	r := n.raftNode()
	return r != nil && r.State() == raft.Leader
}

// CaughtUp reports whether this node knows a leader and its configuration
// holds every command committed, and every command of the log it held when
// it started (a restarted node replays those only once a leader tells it the
// commit index; entries a new leader dropped meanwhile no longer count):
// what it serves is the cluster's configuration, not an older one. raft's
// own applied index runs ahead of the FSM, so the test is on the FSM: no
// command between the FSM's last one and that target is left.
func (n *Node) CaughtUp() bool {
	n.mu.Lock()
	r, logs, startLast := n.raft, n.store, n.startLast
	n.mu.Unlock()
	if r == nil {
		return false
	}
	if addr, _ := r.LeaderWithID(); addr == "" {
		return false
	}
	commit, err := strconv.ParseUint(r.Stats()["commit_index"], 10, 64)
	if err != nil {
		return false
	}
	target := max(commit, min(startLast, r.LastIndex()))
	from := max(n.fsm.current().index, n.caughtTo.Load()) + 1
	for i := from; i <= target; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			continue // compacted into the snapshot the FSM restored
		}
		if l.Type == raft.LogCommand && i > n.fsm.current().index {
			return false
		}
		n.caughtTo.Store(i)
	}
	return true
}
