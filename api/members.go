package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// ClusterAdmin changes the cluster's membership (package cluster
// implements it). Its errors are mapped as ConfigStore's: a NotLeader error
// forwards the request to the leader, a NoQuorum one answers 503,
// config.ErrNotFound 404.
type ClusterAdmin interface {
	AddMember(ctx context.Context, id, raftAddr, apiAddr string) error
	RemoveMember(ctx context.Context, id string) error
}

// memberRequest is the body of POST /cluster/1/members.
type memberRequest struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	API  string `json:"api"`
}

// addMember answers POST /cluster/1/members: the node joins as a voter
// (it must have been started with no bootstrap of its own) → 201 with the
// member; 400 when a field is missing.
func (h *handler) addMember(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, resourceLimit, jsonMedia)
	if !ok {
		return
	}
	var m memberRequest
	if !decodeJSON(w, body, &m) {
		return
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"id", m.ID}, {"raft", m.Raft}, {"api", m.API}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		writeError(w, http.StatusBadRequest, strings.Join(missing, ", ")+": required")
		return
	}
	if h.membership(w, r, body, func(ctx context.Context, c ClusterAdmin) error {
		return c.AddMember(ctx, m.ID, m.Raft, m.API)
	}) {
		writeJSON(w, http.StatusCreated, Peer(m))
	}
}

// removeMember answers DELETE /cluster/1/members/{id} → 204.
func (h *handler) removeMember(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if h.membership(w, r, nil, func(ctx context.Context, c ClusterAdmin) error {
		return c.RemoveMember(ctx, id)
	}) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// membership runs a membership change on the leader (see onLeader); raft
// refusing a change it cannot make (a single node, an unknown address) is
// the request's fault: 400.
func (h *handler) membership(w http.ResponseWriter, r *http.Request, body []byte, change func(context.Context, ClusterAdmin) error) bool {
	if h.deps.Members == nil {
		writeError(w, http.StatusServiceUnavailable, "this node cannot change the cluster's membership")
		return false
	}
	return h.onLeader(w, r, body, func(ctx context.Context) error { return change(ctx, h.deps.Members) },
		http.StatusBadRequest)
}

// onLeader runs a write that only the leader makes: forwarded there, body
// as read, when this node does not lead; answered with the error's status
// when it fails — 400 for an error with BadRequest() true, errorStatus's
// mapping otherwise, and unmapped (when not 0) instead of its 500. It
// reports whether the write was made here.
func (h *handler) onLeader(w http.ResponseWriter, r *http.Request, body []byte, write func(context.Context) error, unmapped int) bool {
	ctx, cancel := context.WithTimeout(r.Context(), applyTimeout)
	defer cancel()
	err := write(ctx)
	if err == nil {
		return true
	}
	var nl NotLeader
	if errors.As(err, &nl) {
		h.forward(w, r, body, nl.LeaderAPI())
		return false
	}
	var br interface{ BadRequest() bool }
	if errors.As(err, &br) && br.BadRequest() {
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	status, text := errorStatus(err)
	if status == http.StatusInternalServerError && unmapped != 0 {
		status = unmapped
	}
	writeError(w, status, text)
	return false
}
