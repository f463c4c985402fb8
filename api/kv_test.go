package api

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeKV is an in-memory KVStore; err fails every write.
type fakeKV struct {
	mu  sync.Mutex
	m   map[string]string
	err error
}

func (k *fakeKV) KVGet(key string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok
}

func (k *fakeKV) KVSet(_ context.Context, key, value string) error {
	if k.err != nil {
		return k.err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	if value == "" {
		delete(k.m, key)
	} else {
		k.m[key] = value
	}
	return nil
}

// limitError is a store error over the limits.
type limitError struct{}

func (limitError) Error() string    { return "kv: value over 65536 bytes" }
func (limitError) BadRequest() bool { return true }

func kvAPI(t *testing.T, kv KVStore) *httptest.Server {
	t.Helper()
	store := newStore(t, storeBase)
	srv := httptest.NewServer(New(Deps{
		Config:  store,
		Store:   store,
		KV:      kv,
		Ready:   ReadyFunc(func() bool { return true }),
		Metrics: MetricsFunc(func(io.Writer) {}),
	}, nil))
	t.Cleanup(srv.Close)
	return srv
}

func TestKV(t *testing.T) {
	kv := &fakeKV{}
	h := kvAPI(t, kv).Config.Handler
	if rec := send(h, "GET", "/kv/1/tenant", "", ""); rec.Code != 404 {
		t.Errorf("GET of an unset key: %d", rec.Code)
	}
	if rec := send(h, "PUT", "/kv/1/tenant", mediaText, "acme"); rec.Code != 200 || rec.Body.String() != "acme" {
		t.Errorf("PUT: %d %q", rec.Code, rec.Body)
	}
	if rec := send(h, "GET", "/kv/1/tenant", "", ""); rec.Code != 200 || rec.Body.String() != "acme" {
		t.Errorf("GET: %d %q", rec.Code, rec.Body)
	}
	if rec := send(h, "PUT", "/kv/1/tenant", mediaText, ""); rec.Code != 400 {
		t.Errorf("PUT of an empty value: %d, want 400", rec.Code)
	}
	if rec := send(h, "PUT", "/kv/1/big", mediaText, strings.Repeat("x", kvValueLimit+1)); rec.Code != 413 {
		t.Errorf("PUT over the limit: %d, want 413", rec.Code)
	}
	if rec := send(h, "DELETE", "/kv/1/tenant", "", ""); rec.Code != 204 {
		t.Errorf("DELETE: %d", rec.Code)
	}
	if _, ok := kv.KVGet("tenant"); ok {
		t.Error("the key survived its DELETE")
	}
	for _, tc := range []struct {
		err  error
		code int
	}{
		{limitError{}, 400},
		{quorumError{}, 503},
		{errors.New("disk on fire"), 500},
	} {
		h := kvAPI(t, &fakeKV{err: tc.err}).Config.Handler
		if rec := send(h, "PUT", "/kv/1/k", mediaText, "v"); rec.Code != tc.code {
			t.Errorf("PUT failing with %v: %d, want %d", tc.err, rec.Code, tc.code)
		}
	}
	if rec := send(storeAPI(newStore(t, storeBase)), "GET", "/kv/1/k", "", ""); rec.Code != 503 {
		t.Errorf("GET without a store: %d, want 503", rec.Code)
	}
}

// A write on a follower is made on the leader.
func TestKVForwarded(t *testing.T) {
	leaderKV := &fakeKV{}
	leader := kvAPI(t, leaderKV)
	follower := kvAPI(t, &fakeKV{err: notLeaderError{strings.TrimPrefix(leader.URL, "http://")}}).Config.Handler
	if rec := send(follower, "PUT", "/kv/1/k", mediaText, "v"); rec.Code != 200 {
		t.Fatalf("forwarded PUT: %d %s", rec.Code, rec.Body)
	}
	if v, _ := leaderKV.KVGet("k"); v != "v" {
		t.Errorf("the leader holds %q, want v", v)
	}
}
