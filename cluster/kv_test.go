package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

// kvEntry applies a CmdKV at idx to f.
func kvEntry(t *testing.T, f *fsm, idx uint64, key, value string) *applyResult {
	t.Helper()
	return entryResult(t, f, idx, mustEncode(t, CmdKV, kvRecord{Key: key, Value: value}))
}

func entryResult(t *testing.T, f *fsm, idx uint64, data []byte) *applyResult {
	t.Helper()
	r, ok := f.Apply(entry(idx, data)).(*applyResult)
	if !ok {
		t.Fatalf("entry %d: no applyResult", idx)
	}
	return r
}

func TestFSMKV(t *testing.T) {
	f := newFSM(slog.New(slog.DiscardHandler))
	f.Apply(entry(1, mustEncode(t, CmdChange, trunk("t1"))))
	f.takePending()
	cfg := f.current().cfg

	// Set.
	if r := kvEntry(t, f, 2, "a", "1"); r.err != nil || !r.applied || r.cfg != cfg {
		t.Fatalf("set: %+v", r)
	}
	s2 := f.current()
	if s2.kv["a"] != "1" || s2.index != 2 || s2.cfgIndex != 1 || s2.cfg != cfg {
		t.Fatalf("after set: %+v", s2)
	}
	// Overwrite: a new map, the old state's untouched.
	if r := kvEntry(t, f, 3, "a", "2"); r.err != nil {
		t.Fatal(r.err)
	}
	if f.current().kv["a"] != "2" || s2.kv["a"] != "1" {
		t.Errorf("overwrite: now %v, before %v", f.current().kv, s2.kv)
	}
	kvEntry(t, f, 4, "b", "x")
	// Delete (and a delete of an absent key is a no-op).
	s4 := f.current()
	if r := kvEntry(t, f, 5, "a", ""); r.err != nil || !r.applied {
		t.Fatalf("delete: %+v", r)
	}
	if _, ok := f.current().kv["a"]; ok || f.current().kv["b"] != "x" || s4.kv["a"] != "2" {
		t.Errorf("after delete %v (before %v)", f.current().kv, s4.kv)
	}
	if r := kvEntry(t, f, 6, "nope", ""); r.err != nil || len(f.current().kv) != 1 || f.current().index != 6 {
		t.Errorf("delete of an absent key: %+v, %v", r, f.current().kv)
	}

	// Limits, checked in the FSM too: refused, state unchanged but for the index.
	before := f.current().kv
	for i, c := range []struct{ key, value string }{
		{"", "v"},
		{strings.Repeat("k", MaxKVKeyLen+1), "v"},
		{"big", strings.Repeat("v", MaxKVValueLen+1)},
	} {
		idx := uint64(7 + i)
		r := kvEntry(t, f, idx, c.key, c.value)
		var br interface{ BadRequest() bool }
		if !errors.Is(r.err, ErrKVLimit) || !errors.As(r.err, &br) || !br.BadRequest() {
			t.Errorf("key %.10q, value of %d: %v", c.key, len(c.value), r.err)
		}
		if !maps.Equal(f.current().kv, before) || f.current().index != idx {
			t.Errorf("a refused write changed the state: %v", f.current().kv)
		}
	}
	// At the limits: accepted.
	if r := kvEntry(t, f, 10, strings.Repeat("k", MaxKVKeyLen), strings.Repeat("v", MaxKVValueLen)); r.err != nil {
		t.Errorf("at the limits: %v", r.err)
	}
	// Garbage is refused, not fatal.
	if r := entryResult(t, f, 11, []byte{byte(CmdKV), '{'}); r.err == nil || f.current().broken != nil {
		t.Errorf("bad JSON: %+v", r)
	}

	// No KV write was news for the subscribers; the configuration is the same.
	if p := f.takePending(); len(p) != 0 {
		t.Errorf("pending %+v", p)
	}
	if f.current().cfg != cfg || f.current().cfgIndex != 1 {
		t.Errorf("cfg moved: %d", f.current().cfgIndex)
	}
}

func TestFSMKVKeyLimit(t *testing.T) {
	f := newFSM(slog.New(slog.DiscardHandler))
	// Fill the store (through the state, to keep the test fast), then
	// apply through the FSM.
	s := *f.current()
	s.kv = map[string]string{}
	for i := range MaxKVKeys {
		s.kv[fmt.Sprintf("k%d", i)] = "v"
	}
	f.state.Store(&s)
	if r := kvEntry(t, f, 1, "new", "v"); !errors.Is(r.err, ErrKVLimit) || len(f.current().kv) != MaxKVKeys {
		t.Errorf("new key on a full store: %v", r.err)
	}
	if err := checkKV(f.current().kv, "new", "v"); !errors.Is(err, ErrKVLimit) {
		t.Errorf("checkKV: %v", err)
	}
	if r := kvEntry(t, f, 2, "k1", "updated"); r.err != nil || f.current().kv["k1"] != "updated" {
		t.Errorf("update on a full store: %v", r.err)
	}
	if r := kvEntry(t, f, 3, "new", ""); r.err != nil {
		t.Errorf("delete of an absent key on a full store: %v", r.err)
	}
	if r := kvEntry(t, f, 4, "k2", ""); r.err != nil || len(f.current().kv) != MaxKVKeys-1 {
		t.Errorf("delete on a full store: %v", r.err)
	}
	if r := kvEntry(t, f, 5, "new", "v"); r.err != nil || f.current().kv["new"] != "v" {
		t.Errorf("new key after a delete: %v", r.err)
	}
	if err := checkKV(nil, "k", "\xff"); !errors.Is(err, ErrKVLimit) {
		t.Errorf("invalid UTF-8 value: %v", err)
	}
	if err := checkKV(nil, "\xff", "v"); !errors.Is(err, ErrKVLimit) {
		t.Errorf("invalid UTF-8 key: %v", err)
	}
}

func TestFSMKVSnapshot(t *testing.T) {
	f := newFSM(slog.New(slog.DiscardHandler))
	f.Apply(entry(1, mustEncode(t, CmdChange, trunk("t1"))))
	kvEntry(t, f, 2, "a", "1")
	kvEntry(t, f, 3, "b", "2")
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	kvEntry(t, f, 4, "c", "3") // after the snapshot
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	var body snapshotBody
	if err := json.Unmarshal(sink.Bytes(), &body); err != nil || body.Version != 2 || len(body.KV) != 2 || body.Index != 3 || body.CfgIndex != 1 {
		t.Fatalf("snapshot body %+v, %v", body, err)
	}
	g := newFSM(slog.New(slog.DiscardHandler))
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	s := g.current()
	if !maps.Equal(s.kv, map[string]string{"a": "1", "b": "2"}) || trunkIDs(s.cfg) != "t1" || s.index != 3 || s.cfgIndex != 1 {
		t.Errorf("restored %+v", s)
	}

	// A version 1 snapshot (written before the store existed) restores
	// with an empty store, and a write to it works.
	v1 := `{"version":1,"config":{"sipTrunks":[]},"members":{"n9":"a:1"},"index":7,"cfgIndex":5}`
	if err := g.Restore(io.NopCloser(strings.NewReader(v1))); err != nil {
		t.Fatal(err)
	}
	s = g.current()
	if s.kv == nil || len(s.kv) != 0 || s.members["n9"] != "a:1" || s.index != 7 || s.cfgIndex != 5 {
		t.Errorf("restored v1 %+v", s)
	}
	if r := kvEntry(t, g, 8, "x", "y"); r.err != nil || g.current().kv["x"] != "y" {
		t.Errorf("write after a v1 restore: %v", r.err)
	}

	// An empty store is written as version 1, readable by older nodes.
	h := newFSM(slog.New(slog.DiscardHandler))
	h.Apply(entry(1, mustEncode(t, CmdChange, trunk("t1"))))
	snap, err = h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink.Reset()
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(sink.Bytes(), &raw); err != nil || raw["version"] != 1.0 || raw["kv"] != nil {
		t.Errorf("snapshot of an empty store: %s", sink.Bytes())
	}
	// Versions this node does not read are refused.
	for _, v := range []string{`{"version":0}`, `{"version":3}`} {
		if err := h.Restore(io.NopCloser(strings.NewReader(v))); err == nil {
			t.Errorf("%s restored", v)
		}
	}
}

func TestKVSingleNode(t *testing.T) {
	dir := t.TempDir()
	n := startSingle(t, dir, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	notified := make(chan uint64, 16)
	unsub := n.Subscribe(func(_ *config.Config, idx uint64) { notified <- idx })
	defer unsub()

	if _, ok := n.KVGet("k"); ok {
		t.Error("a value before any write")
	}
	if err := n.KVSet(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, ok := n.KVGet("k"); !ok || v != "v1" {
		t.Errorf("KVGet = %q, %v", v, ok)
	}
	if err := n.KVSet(ctx, "k", "v2"); err != nil {
		t.Fatal(err)
	}
	if v, _ := n.KVGet("k"); v != "v2" {
		t.Errorf("after overwrite %q", v)
	}
	// Refused before commit: the index does not move.
	applied := n.Status().AppliedIndex
	for _, c := range []struct{ key, value string }{{"", "v"}, {strings.Repeat("k", 257), "v"}, {"k", strings.Repeat("v", 64<<10+1)}} {
		if err := n.KVSet(ctx, c.key, c.value); !errors.Is(err, ErrKVLimit) {
			t.Errorf("KVSet(%.10q, %d bytes) = %v", c.key, len(c.value), err)
		}
	}
	if got := n.Status().AppliedIndex; got != applied {
		t.Errorf("a refused write was committed: %d → %d", applied, got)
	}
	if err := n.KVSet(ctx, "k", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.KVGet("k"); ok {
		t.Error("deleted key still set")
	}
	if n.ConfigIndex() != 0 {
		t.Errorf("config index %d after KV writes", n.ConfigIndex())
	}
	if err := n.KVSet(ctx, "kept", "yes"); err != nil {
		t.Fatal(err)
	}
	// A trunk to see that subscribers got that and no KV write.
	mustApply(t, n, trunk("t1"))
	select {
	case idx := <-notified:
		if idx != n.ConfigIndex() {
			t.Errorf("subscriber notified of %d, the config is at %d", idx, n.ConfigIndex())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}

	// The store survives a restart (log replay or snapshot).
	stopNode(t, n)
	if err := n.KVSet(ctx, "k", "v"); !errors.Is(err, ErrStopped) {
		t.Errorf("KVSet on a stopped node: %v", err)
	}
	n2 := startSingle(t, dir, nil)
	defer stopNode(t, n2)
	eventually(t, 5*time.Second, "replayed store", func() bool {
		v, ok := n2.KVGet("kept")
		return ok && v == "yes"
	})
	if _, ok := n2.KVGet("k"); ok {
		t.Error("deleted key back after a restart")
	}
}

func TestKVSnapshotRestart(t *testing.T) {
	dir := t.TempDir()
	opt := func(o *Options) {
		o.SnapshotThreshold = 5
		o.TrailingLogs = 2
		o.SnapshotInterval = 20 * time.Millisecond
	}
	n := startSingle(t, dir, opt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 20 {
		if err := n.KVSet(ctx, fmt.Sprintf("k%d", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "compacted log", func() bool {
		first, err := n.store.FirstIndex()
		return err == nil && first > 5
	})
	want := n.fsm.current().kv
	stopNode(t, n)
	n2 := startSingle(t, dir, opt)
	defer stopNode(t, n2)
	eventually(t, 5*time.Second, "restored store", func() bool { return maps.Equal(n2.fsm.current().kv, want) })
}

func TestKVThreeNodes(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	li := c.leader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.nodes[li].KVSet(ctx, "limit", "42"); err != nil {
		t.Fatal(err)
	}
	for i, n := range c.nodes {
		eventually(t, 5*time.Second, "the value on "+c.ids[i], func() bool {
			v, ok := n.KVGet("limit")
			return ok && v == "42"
		})
	}
	fi := (li + 1) % 3
	err := c.nodes[fi].KVSet(ctx, "limit", "43")
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.LeaderID != c.ids[li] || nl.LeaderAPI() != "api-"+c.ids[li] {
		t.Fatalf("KVSet on a follower: %v", err)
	}
	if v, _ := c.nodes[fi].KVGet("limit"); v != "42" {
		t.Errorf("follower has %q", v)
	}
	// Deletes replicate too.
	if err := c.nodes[li].KVSet(ctx, "limit", ""); err != nil {
		t.Fatal(err)
	}
	for i, n := range c.nodes {
		eventually(t, 5*time.Second, "the delete on "+c.ids[i], func() bool {
			_, ok := n.KVGet("limit")
			return !ok
		})
	}
}

func TestKVNoQuorum(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	li := c.leader(5 * time.Second)
	for i := range c.nodes {
		if i != li {
			c.stop(i)
		}
	}
	lone := c.nodes[li]
	eventually(t, 5*time.Second, "ErrNoQuorum", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return isNoQuorum(lone.KVSet(ctx, "k", "v"))
	})
}
