package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/trunkline/trunkline/config"
)

const (
	// applyTimeout bounds the wait for a change to be committed.
	applyTimeout = 10 * time.Second
	// forwardTimeout bounds a write forwarded to the leader, its answer
	// included: the leader's own applyTimeout plus the way there and back.
	forwardTimeout = applyTimeout + 5*time.Second
	// forwardedHeader marks a request a follower forwarded to the leader,
	// with the follower's node id: such a request is never forwarded again.
	forwardedHeader = "X-Trunkline-Forwarded-By"
)

// apply submits ch to the store and returns the configuration it produced.
// When it cannot, it answers the request — by forwarding it, body as read,
// to the leader, or with the error's status — and returns false.
func (h *handler) apply(w http.ResponseWriter, r *http.Request, body []byte, ch config.Change) (*config.Config, bool) {
	if h.deps.Store == nil {
		writeError(w, http.StatusServiceUnavailable, "this node has no configuration store: its configuration is read-only")
		return nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), applyTimeout)
	defer cancel()
	cfg, err := h.deps.Store.Apply(ctx, ch)
	if err == nil {
		return cfg, true
	}
	var nl NotLeader
	if errors.As(err, &nl) {
		h.forward(w, r, body, nl.LeaderAPI())
		return nil, false
	}
	status, text := errorStatus(err)
	if status == http.StatusInternalServerError {
		h.log.Error("config change failed", "op", ch.Op, "kind", ch.Kind, "id", ch.ID, "error", err.Error())
	}
	writeError(w, status, text)
	return nil, false
}

// errorStatus is the one place that maps what ConfigStore.Apply returns to
// an HTTP status and the error text the client gets.
func errorStatus(err error) (int, string) {
	var invalid *config.Error
	switch {
	case errors.As(err, &invalid):
		return http.StatusBadRequest, err.Error() // "path: reason" lines
	case errors.Is(err, config.ErrInUse):
		return http.StatusConflict, err.Error() // names the referencing path
	case errors.Is(err, config.ErrExists):
		return http.StatusConflict, err.Error()
	case errors.Is(err, config.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case noQuorum(err):
		return http.StatusServiceUnavailable, "no quorum: the change was not committed; retry: " + err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, fmt.Sprintf("the change was not committed within %s (it may still be): %v", applyTimeout, err)
	}
	return http.StatusInternalServerError, "the change failed: " + err.Error()
}

func noQuorum(err error) bool {
	var nq NoQuorum
	return errors.As(err, &nq) && nq.NoQuorum()
}

// forward sends the request to the leader's API at leaderAPI (host:port) and
// relays its answer: status, headers and body. A request that was itself
// forwarded is not forwarded again (the leader moved meanwhile, or two nodes
// each believe the other leads): it gets 503, as does a write when no leader
// is known or the leader cannot be reached.
func (h *handler) forward(w http.ResponseWriter, r *http.Request, body []byte, leaderAPI string) {
	if by := r.Header.Get(forwardedHeader); by != "" {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("node %s forwarded this write here, but this node is not the leader either: the leadership is moving; retry", by))
		return
	}
	if leaderAPI == "" {
		writeError(w, http.StatusServiceUnavailable, "no leader is known: the cluster is electing one or has no quorum; retry")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), forwardTimeout)
	defer cancel()
	target := "http://" + leaderAPI + r.URL.RequestURI()
	req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("cannot forward to the leader at %s: %v", leaderAPI, err))
		return
	}
	for _, k := range []string{"Authorization", "Content-Type", "Accept"} {
		if v := r.Header.Values(k); len(v) > 0 {
			req.Header[k] = v
		}
	}
	req.Header.Set(forwardedHeader, h.deps.Config.Config().Node.ID)
	resp, err := h.client.Do(req)
	if err != nil {
		h.log.Warn("cannot forward a write to the leader", "leader", leaderAPI, "method", r.Method, "path", r.URL.Path, "error", err.Error())
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("cannot reach the leader at %s: %v", leaderAPI, err))
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		if !hopByHop[http.CanonicalHeaderKey(k)] {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body) // an error here means one side is gone
}

// hopByHop are the headers of one connection (RFC 9110 §7.6.1), not relayed.
var hopByHop = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Proxy-Connection":    true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}
