package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trunkline/trunkline/config"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Raft timings for tests: elections in a few hundred milliseconds.
func testOptions(id, dir string) Options {
	return Options{
		NodeID:             id,
		DataDir:            dir,
		APIAddr:            "api-" + id,
		HeartbeatTimeout:   100 * time.Millisecond,
		ElectionTimeout:    100 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		ApplyTimeout:       2 * time.Second,
	}
}

// freeAddrs returns n loopback TCP addresses that were free a moment ago.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = l.Addr().String()
		_ = l.Close()
	}
	return addrs
}

// testCluster is n nodes on loopback TCP, each with its own data dir.
type testCluster struct {
	t     testing.TB
	ids   []string
	dirs  []string
	raft  []string
	nodes []*Node // nil when stopped
	opt   func(*Options)
}

func newTestCluster(t testing.TB, n int, opt func(*Options)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, raft: freeAddrs(t, n), nodes: make([]*Node, n), opt: opt}
	for i := range n {
		c.ids = append(c.ids, fmt.Sprintf("n%d", i))
		c.dirs = append(c.dirs, t.TempDir())
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(c.stopAll)
	return c
}

func (c *testCluster) options(i int) Options {
	o := testOptions(c.ids[i], c.dirs[i])
	o.RaftListen = c.raft[i]
	for j := range c.ids {
		if j != i {
			o.Peers = append(o.Peers, config.Peer{ID: c.ids[j], Raft: c.raft[j], API: "api-" + c.ids[j]})
		}
	}
	if c.opt != nil {
		c.opt(&o)
	}
	return o
}

// start makes a new Node for slot i on its data dir and starts it.
func (c *testCluster) start(i int) *Node {
	c.t.Helper()
	n, err := New(c.options(i))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.nodes[i] = n
	return n
}

func (c *testCluster) stop(i int) {
	c.t.Helper()
	if c.nodes[i] == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.nodes[i].Stop(ctx); err != nil {
		c.t.Errorf("stop %s: %v", c.ids[i], err)
	}
	c.nodes[i] = nil
}

func (c *testCluster) stopAll() {
	for i := range c.nodes {
		c.stop(i)
	}
}

// leader waits (bounded) until the running nodes agree on a leader among
// them and returns its slot.
func (c *testCluster) leader(within time.Duration) int {
	c.t.Helper()
	var found int
	eventually(c.t, within, "a leader", func() bool {
		found = -1
		var leaderID string
		for i, n := range c.nodes {
			if n == nil {
				continue
			}
			s := n.Status()
			if s.Leader == "" || (leaderID != "" && s.Leader != leaderID) {
				return false
			}
			leaderID = s.Leader
			if s.Role == RoleLeader {
				found = i
			}
		}
		return found >= 0
	})
	return found
}

// eventually polls cond until it holds or d passes (then the test fails).
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, d)
		case <-tick.C:
		}
	}
}

// watch subscribes to n and returns a function that waits (bounded) for
// a configuration of index at least idx and returns it.
func watch(t testing.TB, n *Node) func(idx uint64) *config.Config {
	t.Helper()
	type upd struct {
		cfg *config.Config
		idx uint64
	}
	ch := make(chan upd, 1024)
	cancel := n.Subscribe(func(cfg *config.Config, idx uint64) { ch <- upd{cfg, idx} })
	t.Cleanup(cancel)
	return func(idx uint64) *config.Config {
		t.Helper()
		if n.ConfigIndex() >= idx { // applied before the wait began
			return n.Config()
		}
		timeout := time.NewTimer(5 * time.Second)
		defer timeout.Stop()
		for {
			select {
			case u := <-ch:
				if u.idx >= idx {
					return u.cfg
				}
			case <-timeout.C:
				t.Fatalf("%s: no configuration of index %d within 5s (at %d)", n.opts.NodeID, idx, n.ConfigIndex())
				return nil
			}
		}
	}
}

func trunk(id string) config.Change {
	return config.Change{Op: config.OpPut, Kind: config.KindSIPTrunk,
		SIPTrunk: &config.SIPTrunk{ID: id, DestinationHosts: []string{id + ".example.com"}}}
}

func trunkIDs(c *config.Config) string {
	var ids []string
	for _, t := range c.SIPTrunks {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, ",")
}

func mustApply(t testing.TB, n *Node, ch config.Change) *config.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := n.Apply(ctx, ch)
	if err != nil {
		t.Fatalf("Apply on %s: %v", n.opts.NodeID, err)
	}
	return c
}

func startSingle(t testing.TB, dir string, opt func(*Options)) *Node {
	t.Helper()
	o := testOptions("solo", dir)
	if opt != nil {
		opt(&o)
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func stopNode(t testing.TB, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Error(err)
	}
}

func isNoQuorum(err error) bool { return errors.Is(err, ErrNoQuorum) }
