package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trunkline/trunkline/cluster"
	"github.com/trunkline/trunkline/config"
)

// A node of a cluster (cluster.peers set) that has no raft state yet either
// forms a new cluster with its peers — every node lists the others and all
// bootstrap the same membership (DESIGN §3) — or is a new node joining a
// cluster that already runs, which must not bootstrap: its membership would
// conflict with the cluster's. It waits instead to be added with
// POST /cluster/1/members. The two are told apart by asking the peers.

// peerProbeTimeout bounds the look at one peer's GET /cluster/1/status.
const peerProbeTimeout = time.Second

// joinMessage is logged (WARN) when the node starts waiting to be added.
const joinMessage = "joining an existing cluster: add this node with POST /cluster/1/members {id, raft, api}"

// peerStatus is the part of a peer's GET /cluster/1/status the decision reads.
type peerStatus struct {
	NodeID string `json:"nodeId"`
	Leader string `json:"leader"`
	Peers  []struct {
		ID string `json:"id"`
	} `json:"peers"`
}

// joinDecision is what the peers said.
type joinDecision struct {
	// Join: a peer reports a running cluster (a leader) whose membership
	// does not include this node.
	Join bool
	// Via is the peer that said so, Leader its leader and Members the
	// membership it reported (when Join).
	Via     string
	Leader  string
	Members []string
	// Notes say, per peer, why it did not decide (unreachable, refused…).
	Notes []string
}

// decideJoin asks every peer's API, at once and within peerProbeTimeout
// each, whether a cluster already runs without this node (self). token,
// when not "", is sent as the bearer token. Peers without an API address
// are not asked.
func decideJoin(ctx context.Context, client *http.Client, self string, peers []config.Peer, token string) joinDecision {
	type answer struct {
		peer config.Peer
		st   peerStatus
		err  error
	}
	answers := make([]answer, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		answers[i].peer = p
		if p.API == "" {
			answers[i].err = errors.New("no api address")
			continue
		}
		wg.Go(func() {
			answers[i].st, answers[i].err = probePeer(ctx, client, p.API, token)
		})
	}
	wg.Wait()
	var d joinDecision
	for _, a := range answers {
		if a.err != nil {
			d.Notes = append(d.Notes, fmt.Sprintf("%s (%s): %v", a.peer.ID, a.peer.API, a.err))
			continue
		}
		members := []string{a.st.NodeID}
		for _, m := range a.st.Peers {
			members = append(members, m.ID)
		}
		switch {
		case a.st.Leader == "":
			d.Notes = append(d.Notes, fmt.Sprintf("%s (%s): no leader", a.peer.ID, a.peer.API))
		case slices.Contains(members, self):
			d.Notes = append(d.Notes, fmt.Sprintf("%s (%s): its membership %v includes this node", a.peer.ID, a.peer.API, members))
		case !d.Join:
			d.Join, d.Via, d.Leader, d.Members = true, a.peer.ID, a.st.Leader, members
		}
	}
	return d
}

// probePeer reads GET http://api/cluster/1/status.
func probePeer(ctx context.Context, client *http.Client, api, token string) (peerStatus, error) {
	var st peerStatus
	ctx, cancel := context.WithTimeout(ctx, peerProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+api+"/cluster/1/status", nil)
	if err != nil {
		return st, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return st, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return st, err
	}
	if res.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	if st.NodeID == "" {
		return st, errors.New("status: no nodeId")
	}
	return st, nil
}

// joinExisting decides whether this node starts in join mode (no bootstrap
// of its own): only a node with peers and no raft state asks them. The
// reasons are logged.
func (a *appliance) joinExisting(cfg *config.Config) bool {
	if len(cfg.Cluster.Peers) == 0 || cluster.HasState(cfg.Node.DataDir) {
		return false
	}
	token := ""
	if len(cfg.API.Tokens) > 0 {
		token = cfg.API.Tokens[0]
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	d := decideJoin(context.Background(), client, cfg.Node.ID, cfg.Cluster.Peers, token)
	if !d.Join {
		a.log.Info("no raft state: bootstrapping the cluster with its peers", "nodeId", cfg.Node.ID, "peers", len(cfg.Cluster.Peers), "probes", d.Notes)
		return false
	}
	a.log.Warn(joinMessage, "nodeId", cfg.Node.ID, "raft", cfg.Cluster.RaftListen, "api", cfg.API.Listen,
		"via", d.Via, "leader", d.Leader, "members", d.Members)
	return true
}
