package conformance

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestClusterJoin: a fourth `trunkline serve` whose file lists the three
// running nodes as its peers (DESIGN §3, issue 5 item 2) finds a cluster
// that runs without it and does not bootstrap: it logs the join message at
// WARN and answers /healthz 503 until it is added with POST
// /cluster/1/members (sent to a follower, forwarded to the leader, 201);
// then it is healthy, holds the seed and what was written before the join,
// and sees writes made after it. DELETE /cluster/1/members/n4 (204) takes
// it out of every remaining node's membership; n4, no longer hearing from a
// leader, answers /healthz 503 again and does not disturb the three.

// joinMessage is what a node joining a running cluster logs (WARN).
const joinMessage = "joining an existing cluster: add this node with POST /cluster/1/members {id, raft, api}"

// Bounds of the join test.
const (
	clusterJoinLog  = 5 * time.Second  // from start to the join message
	clusterJoinWant = 20 * time.Second // the whole test (reported, not asserted)
)

// healthCode returns GET /healthz's status (0 when it does not answer).
func (n *clusterNode) healthCode() int {
	res, err := n.client.Get("http://" + n.apiAddr() + "/healthz")
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// memberIDs returns the node's membership as its status reports it: its
// own id and its peers' ids, sorted.
func (n *clusterNode) memberIDs() ([]string, clusterStatusBody, error) {
	st, err := n.status()
	if err != nil {
		return nil, st, err
	}
	ids := []string{st.NodeID}
	for _, p := range st.Peers {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids, st, nil
}

func TestClusterJoin(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	if directMode() {
		t.Skip("-direct: TestClusterJoin has no SIPp pair to validate")
	}
	began := time.Now()
	dir := workDir(t)
	var nodes []*clusterNode
	for _, id := range []string{"n1", "n2", "n3", "n4"} {
		n := &clusterNode{
			id:       id,
			dir:      filepath.Join(dir, id),
			sipPort:  ports.one(t),
			apiPort:  ports.one(t),
			raftPort: ports.one(t),
			rtpLow:   ports.block(t, rtpPortCount),
			client:   &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		}
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	defer func() {
		for _, n := range nodes {
			n.noRace(t)
		}
	}()
	three, n4 := nodes[:3], nodes[3]
	// n1..n3 list each other; n4 lists the three, who do not know it.
	writeClusterConfigs(t, three)
	writeClusterConfig(t, n4, three)
	followerOf := func(leader *clusterNode) *clusterNode {
		for _, n := range three {
			if n != leader {
				return n
			}
		}
		return nil
	}

	// 1. The three form their cluster; one write before the join.
	for _, n := range three {
		n.start(t)
	}
	leader := waitLeader(t, three, clusterFormLimit)
	seedTrunks := []string{"seed-caller", "seed-pbx"}
	waitSame(t, three, "/calls/1/sip-trunks", seedTrunks)
	post(t, nodes, followerOf(leader), "/calls/1/sip-trunks", trunkBody("before-join", "127.0.0.51"), http.StatusCreated)
	beforeTrunks := append(slices.Clone(seedTrunks), "before-join")
	waitSame(t, three, "/calls/1/sip-trunks", beforeTrunks)
	t.Logf("three nodes formed, leader %s, in %s", leader.id, time.Since(began).Round(time.Millisecond))

	// 2. n4 starts, finds the cluster without it, waits to be added.
	tStart := time.Now()
	n4.start(t)
	if !waitFor(clusterJoinLog, 25*time.Millisecond, func() bool {
		return n4.proc.exited() || n4.logHas(joinMessage, map[string]any{"level": "WARN"})
	}) || n4.proc.exited() {
		clusterFatal(t, nodes, "n4 did not log %q at WARN within %s", joinMessage, clusterJoinLog)
	}
	var code int
	if !waitFor(clusterJoinLog, 25*time.Millisecond, func() bool { code = n4.healthCode(); return code != 0 }) || code != http.StatusServiceUnavailable {
		clusterFatal(t, nodes, "n4 before it is added: /healthz %d, want 503", code)
	}
	if st, err := n4.status(); err != nil || st.Leader != "" {
		clusterError(t, nodes, "n4 before it is added: status %+v (%v), want no leader", st, err)
	}
	for _, n := range three {
		if ids, _, err := n.memberIDs(); err != nil || slices.Contains(ids, "n4") {
			clusterError(t, nodes, "%s lists members %v (%v) before n4 is added", n.id, ids, err)
		}
	}
	t.Logf("n4 logged the join message and answers /healthz 503 (%s after its start)", time.Since(tStart).Round(time.Millisecond))

	// 3. Added through a follower (forwarded to the leader): 201, then
	// healthy with the cluster's configuration.
	tAdd := time.Now()
	via := followerOf(leader)
	post(t, nodes, via, "/cluster/1/members",
		fmt.Sprintf(`{"id": "n4", "raft": %q, "api": %q}`, n4.raftAddr(), n4.apiAddr()), http.StatusCreated)
	leader = waitLeader(t, nodes, clusterFormLimit)
	waitSame(t, []*clusterNode{n4}, "/calls/1/sip-trunks", beforeTrunks)
	waitSame(t, []*clusterNode{n4}, "/callrouting/1/routes", []string{"seed"})
	for _, n := range three {
		_, st, err := n.memberIDs()
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(st.Peers, func(p struct {
			ID   string `json:"id"`
			Raft string `json:"raft"`
			API  string `json:"api"`
		}) bool {
			return p.ID == "n4"
		})
		if i < 0 || st.Peers[i].Raft != n4.raftAddr() || st.Peers[i].API != n4.apiAddr() {
			t.Errorf("GET /cluster/1/status on %s after the add: peers %+v, want n4 at raft %s, api %s", n.id, st.Peers, n4.raftAddr(), n4.apiAddr())
		}
	}
	if ids, _, err := n4.memberIDs(); err != nil || !slices.Equal(ids, []string{"n1", "n2", "n3", "n4"}) {
		t.Errorf("n4 lists members %v (%v), want n1..n4", ids, err)
	}
	t.Logf("POST /cluster/1/members on %s: 201; n4 healthy with the cluster's configuration, leader %s, in %s", via.id, leader.id, time.Since(tAdd).Round(time.Millisecond))

	// 4. A write after the join reaches n4.
	post(t, nodes, followerOf(leader), "/calls/1/sip-trunks", trunkBody("after-join", "127.0.0.52"), http.StatusCreated)
	waitSame(t, nodes, "/calls/1/sip-trunks", append(slices.Clone(beforeTrunks), "after-join"))

	// 5. Removed (DELETE on a follower): 204, and no remaining node lists it.
	tDel := time.Now()
	code, body, err := followerOf(leader).do("DELETE", "/cluster/1/members/n4", "")
	if err != nil || code != http.StatusNoContent {
		clusterFatal(t, nodes, "DELETE /cluster/1/members/n4: %d %v %s, want 204", code, err, body)
	}
	var last string
	if !waitFor(clusterSpread, 25*time.Millisecond, func() bool {
		for _, n := range three {
			ids, _, err := n.memberIDs()
			if err != nil {
				last = err.Error()
				return false
			}
			if !slices.Equal(ids, []string{"n1", "n2", "n3"}) {
				last = fmt.Sprintf("%s lists %v", n.id, ids)
				return false
			}
		}
		return true
	}) {
		clusterFatal(t, nodes, "after DELETE /cluster/1/members/n4: want n1..n3 on every remaining node within %s; %s", clusterSpread, last)
	}
	t.Logf("DELETE /cluster/1/members/n4: 204; gone from the remaining nodes in %s", time.Since(tDel).Round(time.Millisecond))

	// Removed, n4 hears from no leader any more: it stops saying it serves
	// the cluster's configuration, and leaves the three undisturbed.
	if !waitFor(clusterElectLimit, 25*time.Millisecond, func() bool { code = n4.healthCode(); return code == http.StatusServiceUnavailable }) {
		clusterError(t, nodes, "n4 removed: /healthz %d after %s, want 503", code, clusterElectLimit)
	}
	if l := waitLeader(t, three, clusterFormLimit); l != leader {
		t.Errorf("the removed n4 disturbed the cluster: leader %s, was %s", l.id, leader.id)
	}
	t.Logf("removed n4 answers /healthz 503 %s after the DELETE", time.Since(tDel).Round(time.Millisecond))

	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.stopTerm(t) })
	}
	wg.Wait()
	took := time.Since(began)
	if took > clusterJoinWant {
		t.Logf("TestClusterJoin took %s, more than the %s it aims for", took.Round(time.Millisecond), clusterJoinWant)
	}
	t.Logf("TestClusterJoin took %s", took.Round(time.Millisecond))
}
