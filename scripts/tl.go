package scripts

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// newTL returns the tl module of one VM.
func newTL(L *lua.LState, test bool) *lua.LTable {
	t := L.CreateTable(0, 8)
	for name, fn := range map[string]lua.LGFunction{
		"log":       tlLog,
		"now":       tlNow,
		"http_get":  tlHTTPGet,
		"http_post": tlHTTPPost,
		"kv_get":    tlKVGet,
		"kv_set":    tlKVSet,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	if test {
		t.RawSetString("test", newTestModule(L))
	}
	return t
}

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func tlLog(L *lua.LState) int {
	markImpure(L)
	inv := invOf(L)
	lvl, ok := logLevels[L.CheckString(1)]
	if !ok {
		L.ArgError(1, "level: want debug, info, warn or error")
	}
	msg := L.CheckString(2)
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	attrs := []any{"script", inv.s.id}
	if inv.hook != "" {
		attrs = append(attrs, "hook", inv.hook)
	}
	if inv.call != nil && inv.call.ID != "" {
		attrs = append(attrs, "callId", inv.call.ID)
	}
	inv.s.e.opts.Logger.Log(context.Background(), lvl, msg, attrs...)
	return 0
}

func tlNow(L *lua.LState) int {
	markImpure(L)
	inv := invOf(L)
	L.Push(lua.LNumber(float64(inv.s.e.opts.Now().UnixNano()) / 1e9))
	return 1
}

func tlHTTPGet(L *lua.LState) int {
	return tlHTTP(L, http.MethodGet, L.CheckString(1), "")
}

func tlHTTPPost(L *lua.LState) int {
	return tlHTTP(L, http.MethodPost, L.CheckString(1), L.OptString(2, ""))
}

// tlHTTP makes one request bounded by the hook's budget and the engine's
// HTTP timeout, and returns status, body; or nil and the error text.
func tlHTTP(L *lua.LState, method, url, body string) int {
	markImpure(L)
	inv := invOf(L)
	o := inv.s.e.opts
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		L.ArgError(1, "url: want http:// or https://")
	}
	deadline := inv.b.deadline
	if d := time.Now().Add(o.HTTPTimeout); d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(inv.ctx, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, o.HTTPBodyLimit+1))
	if err == nil && int64(len(data)) > o.HTTPBodyLimit {
		err = fmt.Errorf("response body over %d bytes", o.HTTPBodyLimit)
	}
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(lua.LNumber(resp.StatusCode))
	L.Push(lua.LString(data))
	return 2
}

func tlKVGet(L *lua.LState) int {
	markImpure(L)
	inv := invOf(L)
	key := L.CheckString(1)
	if inv.s.e.opts.KV == nil {
		L.RaiseError("tl.kv_get: no key/value store")
	}
	if v, ok := inv.s.e.opts.KV.Get(key); ok {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func tlKVSet(L *lua.LState) int {
	markImpure(L)
	inv := invOf(L)
	key, val := L.CheckString(1), L.CheckString(2)
	if inv.s.e.opts.KV == nil {
		L.RaiseError("tl.kv_set: no key/value store")
	}
	if err := inv.s.e.opts.KV.Set(key, val); err != nil {
		L.RaiseError("tl.kv_set: %v", err)
	}
	return 0
}
