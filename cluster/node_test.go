package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/trunkline/trunkline/config"
)

func TestNewValidatesOptions(t *testing.T) {
	for _, o := range []Options{
		{DataDir: "d"},
		{NodeID: "a"},
		{NodeID: "a", DataDir: "d", Peers: []config.Peer{{ID: "b", Raft: "127.0.0.1:1"}}}, // no RaftListen
		{NodeID: "a", DataDir: "d", RaftListen: "127.0.0.1:0", Peers: []config.Peer{{ID: "a", Raft: "127.0.0.1:1"}}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestSingleNode(t *testing.T) {
	dir := t.TempDir()
	settings := &config.Config{Node: config.Node{ID: "solo", DataDir: dir}, API: config.API{Listen: "127.0.0.1:8080"}}
	n := startSingle(t, dir, func(o *Options) { o.Settings = settings })
	if _, ok := n.transport.(*raft.InmemTransport); !ok {
		t.Errorf("transport %T: a node without peers opens no port", n.transport)
	}
	st := n.Status()
	if st.Role != RoleLeader || st.Leader != "solo" || len(st.Peers) != 0 || n.RaftState() != 2 || !n.IsLeader() {
		t.Errorf("status %+v, raft state %v", st, n.RaftState())
	}
	wait := watch(t, n)
	got := mustApply(t, n, trunk("t1"))
	if trunkIDs(got) != "t1" || got.Node.ID != "solo" || got.API.Listen != "127.0.0.1:8080" {
		t.Errorf("Apply returned %+v", got)
	}
	idx := n.ConfigIndex()
	if c := wait(idx); trunkIDs(c) != "t1" || c.Node.ID != "solo" {
		t.Errorf("subscriber got %+v", c)
	}
	if !reflect.DeepEqual(n.Config(), got) {
		t.Error("Config() differs from what Apply returned")
	}

	// Refused before commit: the index does not move.
	applied := n.Status().AppliedIndex
	ctx := context.Background()
	_, err := n.Apply(ctx, config.Change{Op: config.OpPut, Kind: config.KindSIPTrunk, Create: true, SIPTrunk: &config.SIPTrunk{ID: "t1"}})
	if !errors.Is(err, config.ErrExists) {
		t.Errorf("create of a taken id: %v", err)
	}
	_, err = n.Apply(ctx, config.Change{Op: config.OpPut, Kind: config.KindSIPTrunk, SIPTrunk: &config.SIPTrunk{ID: "t2", DestinationHosts: []string{"bad host"}}})
	var cerr *config.Error
	if !errors.As(err, &cerr) || cerr.Problems[0].Path != "sipTrunks[1].destinationHosts[0]" {
		t.Errorf("invalid trunk: %v", err)
	}
	mustApply(t, n, config.Change{Op: config.OpPut, Kind: config.KindRoute, Route: &config.Route{ID: "r1",
		Destinations: []config.Destination{{Type: config.DestinationEndpoint, Value: &config.EndpointValue{Type: config.EndpointSIP, SIPTrunkID: "t1"}}}}})
	applied = n.Status().AppliedIndex
	_, err = n.Apply(ctx, config.Change{Op: config.OpDelete, Kind: config.KindSIPTrunk, ID: "t1"})
	var inUse *config.InUseError
	if !errors.As(err, &inUse) || inUse.Paths[0] != "routes[0].destinations[0].value.sipTrunkId" {
		t.Errorf("delete of a used trunk: %v", err)
	}
	_, err = n.Apply(ctx, config.Change{Op: config.OpDelete, Kind: config.KindRoute, ID: "nope"})
	if !errors.Is(err, config.ErrNotFound) {
		t.Errorf("delete of an unknown route: %v", err)
	}
	if a := n.Status().AppliedIndex; a != applied {
		t.Errorf("refused changes moved the applied index %d → %d", applied, a)
	}

	// The state survives a restart on the same data dir.
	want := n.Config()
	stopNode(t, n)
	if n.RaftState() != 3 || n.Status().Role != RoleShutdown {
		t.Errorf("stopped node: state %v", n.RaftState())
	}
	if _, err := n.Apply(ctx, trunk("t3")); !errors.Is(err, ErrStopped) {
		t.Errorf("Apply on a stopped node: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "raft", "raft.db")); err != nil {
		t.Error(err)
	}
	n2 := startSingle(t, dir, func(o *Options) { o.Settings = settings })
	defer stopNode(t, n2)
	if err := n2.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n2.Config(), want) {
		t.Errorf("after restart: %+v, want %+v", n2.Config(), want)
	}
}

func TestSeed(t *testing.T) {
	n := startSingle(t, t.TempDir(), nil)
	defer stopNode(t, n)
	ctx := context.Background()
	file := &config.Config{Node: config.Node{ID: "ignored"}, SIPTrunks: []config.SIPTrunk{{ID: "f1", DestinationHosts: []string{"a.example"}}}}
	if ok, err := n.Seed(ctx, file, false); !ok || err != nil {
		t.Fatalf("seed of an empty store = %v, %v", ok, err)
	}
	if c := n.Config(); trunkIDs(c) != "f1" || c.Node.ID != "" {
		t.Errorf("seeded %+v", c)
	}
	mustApply(t, n, trunk("api1"))
	other := &config.Config{SIPTrunks: []config.SIPTrunk{{ID: "f2", DestinationHosts: []string{"a.example"}}}}
	if ok, err := n.Seed(ctx, other, false); ok || err != nil {
		t.Errorf("seed of a store with config = %v, %v: want ignored", ok, err)
	}
	if got := trunkIDs(n.Config()); got != "f1,api1" {
		t.Errorf("after an ignored seed: %s", got)
	}
	if ok, err := n.Seed(ctx, other, true); !ok || err != nil {
		t.Errorf("overwrite = %v, %v", ok, err)
	}
	if got := trunkIDs(n.Config()); got != "f2" {
		t.Errorf("after overwrite: %s", got)
	}
	bad := &config.Config{Routes: []config.Route{{ID: "r"}}}
	var cerr *config.Error
	if _, err := n.Seed(ctx, bad, true); !errors.As(err, &cerr) {
		t.Errorf("invalid seed: %v", err)
	}
}

func TestThreeNodes(t *testing.T) {
	c := newTestCluster(t, 3, func(o *Options) {
		o.SnapshotThreshold = 8 // compact often: a restarted node catches up from a snapshot
		o.TrailingLogs = 4
		o.SnapshotInterval = 50 * time.Millisecond
	})
	li := c.leader(5 * time.Second)
	leader := c.nodes[li]
	waits := make([]func(uint64) *config.Config, 3)
	for i, n := range c.nodes {
		waits[i] = watch(t, n)
	}

	// A change on the leader reaches every node.
	mustApply(t, leader, trunk("t1"))
	idx := leader.ConfigIndex()
	for i := range c.nodes {
		if got := trunkIDs(waits[i](idx)); got != "t1" {
			t.Errorf("%s has %q", c.ids[i], got)
		}
	}

	// A follower refuses writes, naming the leader's API address.
	fi := (li + 1) % 3
	_, err := c.nodes[fi].Apply(context.Background(), trunk("t2"))
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.LeaderID != c.ids[li] || nl.LeaderAPI() != "api-"+c.ids[li] {
		t.Fatalf("Apply on a follower: %v", err)
	}
	st := c.nodes[fi].Status()
	if st.Role != RoleFollower || st.Leader != c.ids[li] || len(st.Peers) != 2 || st.AppliedIndex < idx {
		t.Errorf("follower status %+v", st)
	}
	for _, p := range st.Peers {
		if p.API != "api-"+p.ID || p.Raft == "" {
			t.Errorf("peer %+v", p)
		}
	}
	if c.nodes[fi].RaftState() != 0 {
		t.Errorf("follower raft state %v", c.nodes[fi].RaftState())
	}

	// Kill the leader: a new one within a few seconds; writes resume.
	c.stop(li)
	start := time.Now()
	li2 := c.leader(5 * time.Second)
	t.Logf("new leader %s after %v", c.ids[li2], time.Since(start).Round(time.Millisecond))
	for i := range 20 { // enough entries for a snapshot and compaction
		mustApply(t, c.nodes[li2], trunk("u"+string(rune('a'+i))))
	}
	want := c.nodes[li2].Config()
	if got := trunkIDs(want); got[:2] != "t1" {
		t.Errorf("committed change lost: %s", got)
	}
	idx = c.nodes[li2].ConfigIndex()
	for i, n := range c.nodes {
		if n != nil {
			if got := waits[i](idx); !reflect.DeepEqual(got, want) {
				t.Errorf("%s differs", c.ids[i])
			}
		}
	}
	if err := c.nodes[li2].raftNode().Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}

	// Restart the killed node: it catches up.
	wait := watch(t, c.start(li))
	if got := wait(idx); !reflect.DeepEqual(got, want) {
		t.Errorf("restarted node has %s, want %s", trunkIDs(got), trunkIDs(want))
	}

	// Restart all three: the configuration is intact.
	c.stopAll()
	for i := range c.nodes {
		c.start(i)
	}
	li = c.leader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.nodes[li].WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	for i, n := range c.nodes {
		eventually(t, 5*time.Second, "restored configuration on "+c.ids[i], func() bool {
			return reflect.DeepEqual(n.Config(), want)
		})
	}
	mustApply(t, c.nodes[li], trunk("after-restart"))
}

func TestMinorityRefusesWrites(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	li := c.leader(5 * time.Second)
	mustApply(t, c.nodes[li], trunk("t1"))
	// Keep the leader alone: the worst case, it must notice it lost its majority.
	for i := range c.nodes {
		if i != li {
			c.stop(i)
		}
	}
	lone := c.nodes[li]
	start := time.Now()
	var err error
	eventually(t, 5*time.Second, "ErrNoQuorum", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err = lone.Apply(ctx, trunk("t2"))
		return isNoQuorum(err)
	})
	t.Logf("minority refused writes after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if got := trunkIDs(lone.Config()); got != "t1" {
		t.Errorf("minority config %s", got)
	}
	if s := lone.Status(); s.Role == RoleLeader {
		t.Errorf("lone node still leads: %+v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if ok, err := lone.Seed(ctx, &config.Config{}, false); ok || !isNoQuorum(err) {
		t.Errorf("Seed without quorum = %v, %v", ok, err)
	}
}

func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	opt := func(o *Options) {
		o.SnapshotThreshold = 5
		o.TrailingLogs = 2
		o.SnapshotInterval = 20 * time.Millisecond
	}
	n := startSingle(t, dir, opt)
	for i := range 30 {
		mustApply(t, n, trunk("t"+string(rune('a'+i%26))+string(rune('a'+i/26))))
	}
	mustApply(t, n, config.Change{Op: config.OpDelete, Kind: config.KindSIPTrunk, ID: "taa"})
	want := n.Config()
	// The snapshot interval makes raft snapshot and compact on its own.
	eventually(t, 5*time.Second, "compacted log", func() bool {
		first, err := n.store.FirstIndex()
		return err == nil && first > 5
	})
	snaps, err := filepath.Glob(filepath.Join(dir, "raft", "snapshots", "*"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no snapshot files: %v", err)
	}
	stopNode(t, n)

	n2 := startSingle(t, dir, opt)
	defer stopNode(t, n2)
	if !reflect.DeepEqual(n2.Config(), want) {
		t.Errorf("restored %s, want %s", trunkIDs(n2.Config()), trunkIDs(want))
	}
	mustApply(t, n2, trunk("more"))
}

func TestSubscribeMayCallTheNode(t *testing.T) {
	n := startSingle(t, t.TempDir(), nil)
	defer stopNode(t, n)
	got := make(chan error, 4)
	cancel := n.Subscribe(func(cfg *config.Config, idx uint64) {
		if trunkIDs(cfg) == "t1" {
			_, err := n.Apply(context.Background(), trunk("t2")) // no deadlock
			got <- err
		}
	})
	defer cancel()
	mustApply(t, n, trunk("t1"))
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber's Apply did not return")
	}
	if trunkIDs(n.Config()) != "t1,t2" {
		t.Errorf("config %s", trunkIDs(n.Config()))
	}
}

func TestAddRemoveMember(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	li := c.leader(5 * time.Second)
	mustApply(t, c.nodes[li], trunk("t1"))

	// A third node joins: it starts without bootstrapping and is added.
	addr := freeAddrs(t, 1)[0]
	o := testOptions("n2", t.TempDir())
	o.RaftListen = addr
	o.NoBootstrap = true
	o.Peers = []config.Peer{{ID: c.ids[0], Raft: c.raft[0], API: "api-n0"}, {ID: c.ids[1], Raft: c.raft[1], API: "api-n1"}}
	joiner, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := joiner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stopNode(t, joiner)
	wait := watch(t, joiner)
	ctx := context.Background()
	if err := c.nodes[li].AddMember(ctx, "n2", addr, "api-joined"); err != nil {
		t.Fatal(err)
	}
	if got := trunkIDs(wait(c.nodes[li].ConfigIndex())); got != "t1" {
		t.Errorf("joiner has %q", got)
	}
	found := false
	for _, p := range c.nodes[li].Status().Peers {
		found = found || (p.ID == "n2" && p.API == "api-joined" && p.Raft == addr)
	}
	if !found {
		t.Errorf("leader's peers %+v lack n2", c.nodes[li].Status().Peers)
	}
	fi := 1 - li
	if err := c.nodes[fi].AddMember(ctx, "x", "127.0.0.1:1", ""); !errors.As(err, new(*NotLeaderError)) {
		t.Errorf("AddMember on a follower: %v", err)
	}

	if err := c.nodes[li].RemoveMember(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[li].RemoveMember(ctx, "n2"); !errors.Is(err, config.ErrNotFound) {
		t.Errorf("removing an unknown member: %v", err)
	}
	if ps := c.nodes[li].Status().Peers; len(ps) != 1 || ps[0].ID != c.ids[fi] {
		t.Errorf("peers after removal %+v", ps)
	}
	mustApply(t, c.nodes[li], trunk("t2"))

	single := startSingle(t, t.TempDir(), nil)
	defer stopNode(t, single)
	if err := single.AddMember(ctx, "x", "127.0.0.1:1", ""); !errors.Is(err, ErrSingleNode) {
		t.Errorf("AddMember on a single node: %v", err)
	}
}
