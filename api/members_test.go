package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trunkline/trunkline/config"
)

// fakeMembers records membership changes, or fails them with err.
type fakeMembers struct {
	added   []Peer
	removed []string
	err     error
}

func (m *fakeMembers) AddMember(_ context.Context, id, raftAddr, apiAddr string) error {
	if m.err != nil {
		return m.err
	}
	m.added = append(m.added, Peer{ID: id, Raft: raftAddr, API: apiAddr})
	return nil
}

func (m *fakeMembers) RemoveMember(_ context.Context, id string) error {
	if m.err != nil {
		return m.err
	}
	m.removed = append(m.removed, id)
	return nil
}

func membersAPI(t *testing.T, m ClusterAdmin) http.Handler {
	t.Helper()
	store := newStore(t, storeBase)
	return New(Deps{
		Config:  store,
		Store:   store,
		Members: m,
		Ready:   ReadyFunc(func() bool { return true }),
		Metrics: MetricsFunc(func(io.Writer) {}),
	}, nil)
}

func TestMembers(t *testing.T) {
	m := &fakeMembers{}
	h := membersAPI(t, m)
	rec := send(h, "POST", "/cluster/1/members", mediaJSON, `{"id": "dc1-d", "raft": "127.0.0.1:7003", "api": "127.0.0.1:8083"}`)
	if rec.Code != 201 || len(m.added) != 1 || m.added[0] != (Peer{ID: "dc1-d", Raft: "127.0.0.1:7003", API: "127.0.0.1:8083"}) {
		t.Fatalf("POST member: %d %s, added %v", rec.Code, rec.Body, m.added)
	}
	if rec := send(h, "POST", "/cluster/1/members", mediaJSON, `{"id": "dc1-e"}`); rec.Code != 400 || !strings.Contains(errorText(rec), "raft, api: required") {
		t.Errorf("POST member without addresses: %d %s", rec.Code, rec.Body)
	}
	if rec := send(h, "DELETE", "/cluster/1/members/dc1-d", "", ""); rec.Code != 204 || len(m.removed) != 1 || m.removed[0] != "dc1-d" {
		t.Errorf("DELETE member: %d %s, removed %v", rec.Code, rec.Body, m.removed)
	}

	for _, tc := range []struct {
		err  error
		code int
	}{
		{errWrap(config.ErrNotFound), 404},
		{quorumError{}, 503},
		{notLeaderError{""}, 503}, // no leader known: nowhere to forward
	} {
		m := &fakeMembers{err: tc.err}
		if rec := send(membersAPI(t, m), "DELETE", "/cluster/1/members/x", "", ""); rec.Code != tc.code {
			t.Errorf("DELETE member failing with %v: %d, want %d", tc.err, rec.Code, tc.code)
		}
	}
	if rec := send(storeAPI(newStore(t, storeBase)), "DELETE", "/cluster/1/members/x", "", ""); rec.Code != 503 {
		t.Errorf("DELETE member without an admin: %d, want 503", rec.Code)
	}
}

// A membership change on a follower is made on the leader.
func TestMembersForwarded(t *testing.T) {
	m := &fakeMembers{}
	leader := httptest.NewServer(membersAPI(t, m))
	defer leader.Close()
	follower := membersAPI(t, &fakeMembers{err: notLeaderError{strings.TrimPrefix(leader.URL, "http://")}})
	if rec := send(follower, "DELETE", "/cluster/1/members/dc1-c", "", ""); rec.Code != 204 || len(m.removed) != 1 {
		t.Fatalf("forwarded DELETE: %d %s, leader removed %v", rec.Code, rec.Body, m.removed)
	}
}

// checker refuses sources holding "syntax error".
type checker struct{}

func (checker) CheckScript(id, source string) error {
	if strings.Contains(source, "syntax error") {
		return errors.New(id + ":2: syntax error near 'then'")
	}
	return nil
}

// A script that does not compile is refused with 400 and the Lua error,
// and nothing is stored.
func TestPutScriptCompiled(t *testing.T) {
	store := newStore(t, storeBase)
	h := New(Deps{
		Config:  store,
		Store:   store,
		Scripts: checker{},
		Ready:   ReadyFunc(func() bool { return true }),
		Metrics: MetricsFunc(func(io.Writer) {}),
	}, nil)
	rec := send(h, "PUT", "/scripts/1/scripts/bad", mediaText, "if then -- syntax error\n")
	if rec.Code != 400 || !strings.Contains(errorText(rec), "bad:2: syntax error") {
		t.Errorf("PUT of a broken script: %d %s", rec.Code, rec.Body)
	}
	if rec := send(h, "GET", "/scripts/1/scripts/bad", "", ""); rec.Code != 404 {
		t.Errorf("the broken script was stored: %d", rec.Code)
	}
	if rec := send(h, "PUT", "/scripts/1/scripts/good", mediaText, "return 1\n"); rec.Code != 201 {
		t.Errorf("PUT of a good script: %d %s", rec.Code, rec.Body)
	}
}
