package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"unicode/utf8"
)

// Limits of the replicated key/value store (tl.kv_get, tl.kv_set). The
// leader checks them before it commits a KVSet and the FSM again when it
// applies one, against the state of that entry: both checks are
// deterministic, so every node keeps or refuses the same writes.
const (
	// MaxKVKeyLen is the longest key, in bytes; keys are never empty.
	MaxKVKeyLen = 256
	// MaxKVValueLen is the longest value, in bytes.
	MaxKVValueLen = 64 << 10
	// MaxKVKeys is the number of keys the store holds at most: setting a
	// new key beyond it is refused; updates and deletes always apply.
	MaxKVKeys = 10000
)

// ErrKVLimit refuses a key/value write outside the store's limits (see
// MaxKVKeyLen, MaxKVValueLen, MaxKVKeys) or with a key or value that is not
// valid UTF-8. The errors wrapping it also report BadRequest() true: the
// API answers 400.
var ErrKVLimit = errors.New("cluster: key/value store limit")

// kvLimitError is ErrKVLimit with its detail.
type kvLimitError struct{ detail string }

func (e *kvLimitError) Error() string    { return ErrKVLimit.Error() + ": " + e.detail }
func (e *kvLimitError) Unwrap() error    { return ErrKVLimit }
func (e *kvLimitError) BadRequest() bool { return true }

func kvLimit(format string, args ...any) error {
	return &kvLimitError{detail: fmt.Sprintf(format, args...)}
}

// kvRecord is the body of CmdKV: an empty Value deletes Key.
type kvRecord struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// checkKV reports why setting key to value (deleting it, when value is
// empty) in kv is refused, or nil. Keys and values must be valid UTF-8:
// the command's JSON body would otherwise alter them.
func checkKV(kv map[string]string, key, value string) error {
	switch {
	case key == "":
		return kvLimit("empty key")
	case len(key) > MaxKVKeyLen:
		return kvLimit("key of %d bytes, at most %d", len(key), MaxKVKeyLen)
	case !utf8.ValidString(key):
		return kvLimit("key is not valid UTF-8")
	case len(value) > MaxKVValueLen:
		return kvLimit("value of key %q has %d bytes, at most %d", key, len(value), MaxKVValueLen)
	case !utf8.ValidString(value):
		return kvLimit("value of key %q is not valid UTF-8", key)
	}
	if _, ok := kv[key]; !ok && value != "" && len(kv) >= MaxKVKeys {
		return kvLimit("the store holds %d keys, at most %d: key %q is refused", len(kv), MaxKVKeys, key)
	}
	return nil
}

// applyKV applies a CmdKV to next: a copy of kv with the key set or
// deleted (the previous state's map is never modified).
func applyKV(next *state, body []byte) *applyResult {
	var r kvRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return &applyResult{err: fmt.Errorf("cluster: decode kv at %d: %w", next.index, err)}
	}
	if err := checkKV(next.kv, r.Key, r.Value); err != nil {
		return &applyResult{err: err}
	}
	if _, ok := next.kv[r.Key]; !ok && r.Value == "" {
		return &applyResult{cfg: next.cfg, applied: true} // nothing to delete
	}
	kv := maps.Clone(next.kv)
	if kv == nil {
		kv = map[string]string{}
	}
	if r.Value == "" {
		delete(kv, r.Key)
	} else {
		kv[r.Key] = r.Value
	}
	next.kv = kv
	return &applyResult{cfg: next.cfg, applied: true}
}

// KVGet returns the value of key in the key/value state this node has
// applied, and whether it is set: a local read, served by followers too
// (it may lag the leader by the replication delay).
func (n *Node) KVGet(key string) (string, bool) {
	v, ok := n.fsm.current().kv[key]
	return v, ok
}

// KVSet sets key to value on every node; an empty value deletes key. Only
// the leader writes: it checks the limits against its current state
// (refusing with an error wrapping ErrKVLimit, nothing committed), commits
// the write within ApplyTimeout (bounded by ctx) and returns the FSM's
// verdict, which checks the limits again. A follower returns a
// *NotLeaderError; with no leader, or when the leader cannot commit, the
// error wraps ErrNoQuorum; a node not running returns ErrStopped. Setting a
// key does not notify the configuration's subscribers.
func (n *Node) KVSet(ctx context.Context, key, value string) error {
	r, err := n.leaderRaft()
	if err != nil {
		return err
	}
	if err := checkKV(n.fsm.current().kv, key, value); err != nil {
		return err
	}
	data, err := encode(CmdKV, kvRecord{Key: key, Value: value})
	if err != nil {
		return err
	}
	res, err := n.commit(ctx, r, data)
	if err != nil {
		return err
	}
	return res.err
}
