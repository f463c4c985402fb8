package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trunkline/trunkline/cluster"
	"github.com/trunkline/trunkline/config"
)

// statusServer answers GET /cluster/1/status as a node nodeID with the
// given leader and peers; with token set, only requests bearing it.
func statusServer(t *testing.T, token, nodeID, leader string, peers ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cluster/1/status" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"requestError": {"serviceException": {"messageId": "UNAUTHORIZED", "text": "bad token"}}}`))
			return
		}
		ps := []map[string]string{}
		for _, p := range peers {
			ps = append(ps, map[string]string{"id": p, "raft": "127.0.0.1:1", "api": "127.0.0.1:2"})
		}
		role := "FOLLOWER"
		if leader == nodeID {
			role = "LEADER"
		}
		json.NewEncoder(w).Encode(map[string]any{"nodeId": nodeID, "role": role, "leader": leader, "peers": ps, "appliedIndex": 7})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func peerOf(id string, srv *httptest.Server) config.Peer {
	return config.Peer{ID: id, Raft: "127.0.0.1:1", API: strings.TrimPrefix(srv.URL, "http://")}
}

// deadAPI returns a loopback address nothing listens on.
func deadAPI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// hangingServer accepts and never answers.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

func TestDecideJoin(t *testing.T) {
	t.Parallel()
	const tok = "secret"
	client := &http.Client{}
	running := statusServer(t, "", "n1", "n2", "n2", "n3")       // a cluster of n1..n3 without n4
	forming := statusServer(t, "", "n1", "n1", "n2", "n3", "n4") // n4 already a member
	noLeader := statusServer(t, "", "n2", "", "n1", "n3")
	withToken := statusServer(t, tok, "n3", "n3", "n1", "n2")
	for _, tc := range []struct {
		name   string
		self   string
		peers  []config.Peer
		token  string
		join   bool
		via    string
		notes  int
		within time.Duration
	}{
		{name: "running cluster without this node", self: "n4", peers: []config.Peer{peerOf("n1", running)}, join: true, via: "n1"},
		{name: "membership includes this node", self: "n4", peers: []config.Peer{peerOf("n1", forming)}, notes: 1},
		{name: "this node is the answering peer's peer", self: "n3", peers: []config.Peer{peerOf("n1", running)}, notes: 1},
		{name: "no leader yet", self: "n4", peers: []config.Peer{peerOf("n2", noLeader)}, notes: 1},
		{name: "all unreachable", self: "n4", peers: []config.Peer{{ID: "n1", Raft: "x:1", API: deadAPI(t)}, {ID: "n2", Raft: "x:2", API: deadAPI(t)}, {ID: "n3", Raft: "x:3"}}, notes: 3},
		{name: "unreachable then running", self: "n4", peers: []config.Peer{{ID: "n9", Raft: "x:1", API: deadAPI(t)}, peerOf("n2", noLeader), peerOf("n1", running)}, join: true, via: "n1", notes: 2},
		{name: "token sent", self: "n4", peers: []config.Peer{peerOf("n3", withToken)}, token: tok, join: true, via: "n3"},
		{name: "token missing", self: "n4", peers: []config.Peer{peerOf("n3", withToken)}, notes: 1},
		{name: "token wrong", self: "n4", peers: []config.Peer{peerOf("n3", withToken)}, token: "nope", notes: 1},
		{name: "hanging peer bounded", self: "n4", peers: []config.Peer{peerOf("n1", hangingServer(t)), peerOf("n2", hangingServer(t)), peerOf("n3", running)}, join: true, via: "n3", notes: 2, within: peerProbeTimeout + 500*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			d := decideJoin(context.Background(), client, tc.self, tc.peers, tc.token)
			took := time.Since(start)
			if d.Join != tc.join || d.Via != tc.via || len(d.Notes) != tc.notes {
				t.Errorf("decideJoin = %+v, want join %v via %q with %d notes", d, tc.join, tc.via, tc.notes)
			}
			if tc.within > 0 && took > tc.within {
				t.Errorf("decideJoin took %s, want within %s", took, tc.within)
			}
			if d.Join && (d.Leader == "" || len(d.Members) == 0) {
				t.Errorf("decideJoin = %+v: want the leader and members", d)
			}
		})
	}
}

func TestHasRaftState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if cluster.HasState(dir) {
		t.Error("no raft directory: want no state")
	}
	if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o750); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "raft", "raft.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if cluster.HasState(dir) {
		t.Error("empty raft.db: want no state")
	}
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}

	// A node started with NoBootstrap and never added: a raft.db with an
	// empty log is still no state.
	runNode := func(dataDir string, noBootstrap bool) {
		t.Helper()
		n, err := cluster.New(cluster.Options{NodeID: "a", DataDir: dataDir, NoBootstrap: noBootstrap,
			HeartbeatTimeout: 50 * time.Millisecond, ElectionTimeout: 50 * time.Millisecond, LeaderLeaseTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if !noBootstrap {
			if err := n.WaitLeader(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runNode(dir, true)
	if fi, err := os.Stat(db); err != nil || fi.Size() == 0 {
		t.Fatalf("raft.db after a NoBootstrap start: %v %v", fi, err)
	}
	if cluster.HasState(dir) {
		t.Error("raft.db with an empty log: want no state")
	}
	other := t.TempDir()
	runNode(other, false)
	if !cluster.HasState(other) {
		t.Error("a bootstrapped node's data: want state")
	}
}

func TestJoinExistingLogs(t *testing.T) {
	t.Parallel()
	running := statusServer(t, "tok", "n1", "n1", "n2")
	var buf bytes.Buffer
	a := &appliance{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	cfg := config.Default()
	cfg.Node.ID = "n3"
	cfg.Node.DataDir = t.TempDir()
	cfg.API.Tokens = []string{"tok", "other"}
	cfg.Cluster.RaftListen = "127.0.0.1:7000"
	cfg.Cluster.Peers = []config.Peer{peerOf("n1", running)}
	if !a.joinExisting(cfg) {
		t.Fatalf("joinExisting = false, want true; log:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), `"level":"WARN","msg":"`+joinMessage+`"`) {
		t.Errorf("log lacks the WARN join message:\n%s", buf.String())
	}
	// Without peers, or with state, nobody is asked.
	buf.Reset()
	single := config.Default()
	single.Node.DataDir = t.TempDir()
	if a.joinExisting(single) || buf.Len() != 0 {
		t.Errorf("single node: want no join and no log, got %s", buf.String())
	}
}
