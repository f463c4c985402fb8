package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/trunkline/trunkline/config"
)

// state is one immutable version of the replicated state. Nothing in it is
// modified once it is published: a new command builds a new state.
type state struct {
	cfg      *config.Config    // the resources; node settings are zero
	members  map[string]string // node id → API address, as recorded by CmdMember
	kv       map[string]string // the key/value store of CmdKV (tl.kv_get, tl.kv_set)
	index    uint64            // the last log index applied
	cfgIndex uint64            // the log index that produced cfg
	broken   error             // an *UnknownCommandError: the FSM stopped here
}

// update is one configuration to hand to the subscribers.
type update struct {
	cfg   *config.Config
	index uint64
}

// applyResult is what FSM.Apply returns for a command: the configuration
// after it, or why it was refused (the state is then unchanged).
type applyResult struct {
	cfg     *config.Config
	applied bool // false for a CmdSeed that found resources
	err     error
}

// fsm is the replicated state machine: it applies the command log to the
// configuration. Apply is deterministic; the current state is an atomic
// pointer to an immutable value, so readers never lock and snapshots are
// free. Changes are queued for the subscribers (see Node.Subscribe) and
// delivered by the Node's notifier, never from raft's apply goroutine.
type fsm struct {
	log   *slog.Logger
	state atomic.Pointer[state]

	mu      sync.Mutex
	pending []update
	wake    chan struct{} // cap 1: something is pending
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(log *slog.Logger) *fsm {
	f := &fsm{log: log, wake: make(chan struct{}, 1)}
	f.state.Store(&state{cfg: &config.Config{}, members: map[string]string{}, kv: map[string]string{}})
	return f
}

// current returns the current state.
func (f *fsm) current() *state { return f.state.Load() }

// publish makes s the current state, and queues its configuration for the
// subscribers when it changed.
func (f *fsm) publish(s *state, changed bool) {
	f.state.Store(s)
	if !changed {
		return
	}
	f.mu.Lock()
	f.pending = append(f.pending, update{cfg: s.cfg, index: s.cfgIndex})
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// takePending returns and clears the queued updates.
func (f *fsm) takePending() []update {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pending
	f.pending = nil
	return p
}

// Apply applies one committed log entry. It returns an *applyResult for
// a command, nil for other entries.
func (f *fsm) Apply(l *raft.Log) any {
	cur := f.current()
	if l.Type != raft.LogCommand {
		return nil
	}
	next := *cur
	next.index = l.Index
	if cur.broken != nil {
		f.publish(&next, false)
		return &applyResult{err: cur.broken}
	}
	if len(l.Data) == 0 {
		f.publish(&next, false)
		return &applyResult{err: errors.New("cluster: empty command")}
	}
	t, body := CommandType(l.Data[0]), l.Data[1:]
	res := f.apply(&next, t, body)
	if res == nil { // an ignorable unknown command
		f.log.Warn("skipping a command of an unknown ignorable type", "type", byte(t), "index", l.Index)
		f.publish(&next, false)
		return nil
	}
	if res.err != nil {
		f.log.Info("committed command refused", "index", l.Index, "type", byte(t), "error", res.err.Error())
	}
	// Only changes and seeds make a new configuration: members and the
	// key/value store are no news for the subscribers.
	changed := res.applied && res.err == nil && (t == CmdChange || t == CmdSeed)
	if changed {
		next.cfg = res.cfg
		next.cfgIndex = l.Index
	} else {
		res.cfg = cur.cfg
	}
	f.publish(&next, changed)
	return res
}

// apply decodes and applies one command to next (a copy of the current
// state). It returns nil for an unknown ignorable type.
func (f *fsm) apply(next *state, t CommandType, body []byte) *applyResult {
	switch t {
	case CmdChange:
		var ch config.Change
		if err := json.Unmarshal(body, &ch); err != nil {
			return &applyResult{err: fmt.Errorf("cluster: decode change at %d: %w", next.index, err)}
		}
		cfg, err := next.cfg.Apply(ch)
		if err != nil {
			return &applyResult{err: err}
		}
		return &applyResult{cfg: cfg, applied: true}
	case CmdSeed:
		var c config.Config
		if err := json.Unmarshal(body, &c); err != nil {
			return &applyResult{err: fmt.Errorf("cluster: decode seed at %d: %w", next.index, err)}
		}
		if next.cfg.HasResources() {
			return &applyResult{}
		}
		cfg, err := next.cfg.Apply(config.Change{Op: config.OpImport, Config: &c})
		if err != nil {
			return &applyResult{err: err}
		}
		return &applyResult{cfg: cfg, applied: true}
	case CmdMember:
		var m memberRecord
		if err := json.Unmarshal(body, &m); err != nil {
			return &applyResult{err: fmt.Errorf("cluster: decode member at %d: %w", next.index, err)}
		}
		members := maps.Clone(next.members)
		if m.Remove {
			delete(members, m.ID)
		} else {
			members[m.ID] = m.API
		}
		next.members = members
		return &applyResult{cfg: next.cfg, applied: true}
	case CmdKV:
		return applyKV(next, body)
	}
	if t&IgnorableFlag != 0 {
		return nil
	}
	err := &UnknownCommandError{Type: t, Index: next.index}
	f.log.Error("the replicated configuration stops here: unknown command type", "err", err)
	next.broken = err
	return &applyResult{err: err}
}

// snapshotVersion is the newest version of the snapshot body; Restore
// reads every version from 1 to it.
//
//   - 1: config, members, index, cfgIndex.
//   - 2: adds kv, the key/value store.
//
// Persist writes version 1 when the key/value store is empty (the body is
// then exactly a version 1 body), so that nodes of an older version, which
// refuse version 2 loudly rather than drop the store, keep reading the
// snapshots of a cluster that does not use the store.
const snapshotVersion = 2

// snapshotBody is what a snapshot holds, as JSON.
type snapshotBody struct {
	Version  int               `json:"version"`
	Config   *config.Config    `json:"config"`
	Members  map[string]string `json:"members,omitempty"`
	KV       map[string]string `json:"kv,omitempty"` // version 2
	Index    uint64            `json:"index"`        // the last entry applied
	CfgIndex uint64            `json:"cfgIndex"`     // the entry that produced Config
}

// Snapshot captures the current state: the state is immutable, so this is
// a pointer copy; Persist encodes it.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	s := f.current()
	if s.broken != nil {
		return nil, s.broken
	}
	return &fsmSnapshot{s: s}, nil
}

// Restore replaces the state with a snapshot's: it builds the new state
// fully, then swaps it in.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var b snapshotBody
	if err := json.NewDecoder(rc).Decode(&b); err != nil {
		return fmt.Errorf("cluster: decode snapshot: %w", err)
	}
	if b.Version < 1 || b.Version > snapshotVersion {
		return fmt.Errorf("cluster: snapshot version %d, this node reads 1 to %d", b.Version, snapshotVersion)
	}
	if b.Version < 2 {
		b.KV = nil // version 1 has no key/value store
	}
	if b.Config == nil {
		b.Config = &config.Config{}
	}
	if b.Members == nil {
		b.Members = map[string]string{}
	}
	if b.KV == nil {
		b.KV = map[string]string{}
	}
	s := &state{cfg: b.Config, members: b.Members, kv: b.KV, index: b.Index, cfgIndex: b.CfgIndex}
	f.publish(s, true)
	return nil
}

type fsmSnapshot struct{ s *state }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	b := snapshotBody{Version: snapshotVersion, Config: s.s.cfg, Members: s.s.members, KV: s.s.kv, Index: s.s.index, CfgIndex: s.s.cfgIndex}
	if len(b.KV) == 0 {
		b.Version, b.KV = 1, nil
	}
	if err := json.NewEncoder(sink).Encode(&b); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("cluster: write snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
