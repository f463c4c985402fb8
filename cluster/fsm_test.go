package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/trunkline/trunkline/config"
)

func entry(idx uint64, data []byte) *raft.Log {
	return &raft.Log{Index: idx, Type: raft.LogCommand, Data: data}
}

func mustEncode(t *testing.T, ct CommandType, body any) []byte {
	t.Helper()
	data, err := encode(ct, body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFSMApply(t *testing.T) {
	f := newFSM(slog.New(slog.DiscardHandler))
	res := f.Apply(entry(1, mustEncode(t, CmdChange, trunk("t1")))).(*applyResult)
	if res.err != nil || trunkIDs(res.cfg) != "t1" || f.current().cfgIndex != 1 {
		t.Fatalf("apply: %+v", res)
	}
	// A refused change answers its error and leaves the state as it was.
	before := f.current().cfg
	res = f.Apply(entry(2, mustEncode(t, CmdChange, config.Change{Op: config.OpDelete, Kind: config.KindRoute, ID: "x"}))).(*applyResult)
	if !errors.Is(res.err, config.ErrNotFound) || f.current().cfg != before || f.current().index != 2 || f.current().cfgIndex != 1 {
		t.Errorf("refused: %+v, state %+v", res, f.current())
	}
	// Garbage is refused, not fatal.
	res = f.Apply(entry(3, []byte{byte(CmdChange), '{'})).(*applyResult)
	if res.err == nil {
		t.Error("bad JSON accepted")
	}
	// A seed applies only to an empty store.
	res = f.Apply(entry(4, mustEncode(t, CmdSeed, &config.Config{Scripts: []config.Script{{ID: "s", Source: "x"}}}))).(*applyResult)
	if res.err != nil || res.applied || f.current().cfg != before {
		t.Errorf("seed of a non-empty store: %+v", res)
	}
	// Members.
	f.Apply(entry(5, mustEncode(t, CmdMember, memberRecord{ID: "n9", API: "a:1"})))
	if f.current().members["n9"] != "a:1" || f.current().cfg != before {
		t.Errorf("members %v", f.current().members)
	}
	// An unknown ignorable type is skipped.
	if r := f.Apply(entry(6, append([]byte{byte(IgnorableFlag | 0x11)}, "{}"...))); r != nil || f.current().index != 6 || f.current().broken != nil {
		t.Errorf("ignorable: %v", r)
	}
	// Three updates were queued for the subscribers: t1 and nothing else.
	if p := f.takePending(); len(p) != 1 || p[0].index != 1 {
		t.Errorf("pending %+v", p)
	}
	// An unknown type without the flag stops the FSM.
	res = f.Apply(entry(7, append([]byte{0x11}, "{}"...))).(*applyResult)
	var unk *UnknownCommandError
	if !errors.As(res.err, &unk) || unk.Index != 7 || unk.Type != 0x11 {
		t.Fatalf("unknown: %v", res.err)
	}
	res = f.Apply(entry(8, mustEncode(t, CmdChange, trunk("t2")))).(*applyResult)
	if !errors.As(res.err, &unk) || trunkIDs(f.current().cfg) != "t1" {
		t.Errorf("a stopped FSM applied %v", res)
	}
	if _, err := f.Snapshot(); err == nil {
		t.Error("a stopped FSM snapshots")
	}
}

type memSink struct {
	bytes.Buffer
	canceled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.canceled = true; return nil }
func (s *memSink) Close() error  { return nil }

func TestFSMSnapshotRestore(t *testing.T) {
	f := newFSM(slog.New(slog.DiscardHandler))
	f.Apply(entry(1, mustEncode(t, CmdChange, trunk("t1"))))
	f.Apply(entry(2, mustEncode(t, CmdMember, memberRecord{ID: "n9", API: "a:1"})))
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot is of the state when it was taken.
	f.Apply(entry(3, mustEncode(t, CmdChange, trunk("t2"))))
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	var body snapshotBody
	if err := json.Unmarshal(sink.Bytes(), &body); err != nil || body.Version != 1 || body.Index != 2 || body.CfgIndex != 1 {
		t.Fatalf("snapshot body %+v, %v", body, err)
	}

	g := newFSM(slog.New(slog.DiscardHandler))
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	s := g.current()
	if trunkIDs(s.cfg) != "t1" || s.members["n9"] != "a:1" || s.index != 2 || s.cfgIndex != 1 {
		t.Errorf("restored %+v", s)
	}
	if p := g.takePending(); len(p) != 1 || !reflect.DeepEqual(p[0].cfg, s.cfg) {
		t.Errorf("restore not announced: %+v", p)
	}
	// A failed restore leaves the state alone.
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte(`{"version": 9}`)))); err == nil || g.current() != s {
		t.Errorf("version 9 restored: %v", err)
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte(`nope`)))); err == nil || g.current() != s {
		t.Errorf("garbage restored: %v", err)
	}
}

func TestCommandEncoding(t *testing.T) {
	data, err := encodeChange(trunk("t1"))
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != byte(CmdChange) || data[1] != '{' {
		t.Errorf("entry %q: want type byte 1 then JSON", data)
	}
	var ch config.Change
	if err := json.Unmarshal(data[1:], &ch); err != nil || !reflect.DeepEqual(ch, trunk("t1")) {
		t.Errorf("body %+v, %v", ch, err)
	}
	for _, ct := range []CommandType{CmdChange, CmdSeed, CmdMember, 0x42} {
		if ct.String() == "" {
			t.Errorf("type %d has no name", ct)
		}
	}
}
