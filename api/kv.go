package api

import (
	"context"
	"net/http"
)

// KVStore is the replicated key/value store Lua scripts read and write with
// tl.kv_get and tl.kv_set (package cluster implements it). An empty value
// deletes a key. KVSet's errors map as ConfigStore's; an error with
// BadRequest() true (a key or value over the limits) answers 400.
type KVStore interface {
	KVGet(key string) (string, bool)
	KVSet(ctx context.Context, key, value string) error
}

// kvValueLimit is the largest value PUT /kv/1/{key} takes (the store's own
// limit; the body limit catches bigger ones before they are read).
const kvValueLimit = 64 << 10

// getKV answers GET /kv/1/{key}: the value as text/plain, 404 when unset.
func (h *handler) getKV(w http.ResponseWriter, r *http.Request) {
	if h.deps.KV == nil {
		writeError(w, http.StatusServiceUnavailable, "this node has no key/value store")
		return
	}
	v, ok := h.deps.KV.KVGet(r.PathValue("key"))
	if !ok {
		writeError(w, http.StatusNotFound, "no value for key "+r.PathValue("key"))
		return
	}
	writeText(w, http.StatusOK, v)
}

// putKV answers PUT /kv/1/{key}: the body, text/plain, becomes the value
// on every node → 200 with it.
func (h *handler) putKV(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, kvValueLimit, textMedia)
	if !ok {
		return
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, "the body is empty: DELETE removes a key")
		return
	}
	if h.setKV(w, r, body, string(body)) {
		writeText(w, http.StatusOK, string(body))
	}
}

// deleteKV answers DELETE /kv/1/{key} → 204.
func (h *handler) deleteKV(w http.ResponseWriter, r *http.Request) {
	if h.setKV(w, r, nil, "") {
		w.WriteHeader(http.StatusNoContent)
	}
}

// setKV writes a key through the leader (see onLeader).
func (h *handler) setKV(w http.ResponseWriter, r *http.Request, body []byte, value string) bool {
	if h.deps.KV == nil {
		writeError(w, http.StatusServiceUnavailable, "this node has no key/value store")
		return false
	}
	key := r.PathValue("key")
	return h.onLeader(w, r, body, func(ctx context.Context) error { return h.deps.KV.KVSet(ctx, key, value) }, 0)
}

// kvText is a value's body in the OpenAPI document.
var kvText = &content{mediaType: mediaText, schema: map[string]any{"type": "string", "maxLength": kvValueLimit}}
