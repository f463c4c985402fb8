package scripts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkline/trunkline/routing"
)

func load(t testing.TB, e *Engine, src string) *Script {
	t.Helper()
	if err := e.Load("t", src); err != nil {
		t.Fatalf("load: %v", err)
	}
	return e.Script("t")
}

// probe runs on_invite and returns call.vars as Go sees them.
func probe(t *testing.T, e *Engine, body string) map[string]string {
	t.Helper()
	s := load(t, e, "function on_invite(call)\n"+body+"\nend")
	c := &Call{ID: "c1", To: "123"}
	if _, err := s.OnInvite(context.Background(), c); err != nil {
		t.Fatalf("on_invite: %v", err)
	}
	return c.Vars
}

func TestSandboxAbsent(t *testing.T) {
	e := New(Options{})
	for _, name := range []string{"os", "io", "debug", "require", "load", "loadstring", "loadfile", "dofile",
		"getfenv", "setfenv", "collectgarbage", "print", "module", "newproxy", "coroutine", "package",
		"_printregs", "channel", "string.dump", "math.randomseed", "string.__index"} {
		v := probe(t, e, "call.vars.t = type("+name+")")
		if v["t"] != "nil" {
			t.Errorf("%s is a %s, want absent", name, v["t"])
		}
	}
	for _, name := range []string{"string.format", "table.insert", "math.floor", "tl.log", "pairs", "pcall", "tostring"} {
		if v := probe(t, e, "call.vars.t = type("+name+")"); v["t"] != "function" {
			t.Errorf("%s is a %s, want a function", name, v["t"])
		}
	}
}

func TestSandboxLocked(t *testing.T) {
	e := New(Options{PoolSize: 1})
	for _, tc := range []struct{ name, body, want string }{
		{"string metatable hidden", `call.vars.r = tostring(getmetatable(""))`, "false"},
		{"module metatable hidden", `call.vars.r = tostring(getmetatable(string))`, "false"},
		{"env metatable hidden", `call.vars.r = tostring(getmetatable(_G))`, "false"},
		{"call metatable hidden", `call.vars.r = tostring(getmetatable(call))`, "false"},
		{"setmetatable refused", `call.vars.r = tostring(pcall(setmetatable, string, {}))`, "false"},
		{"string methods work", `call.vars.r = ("abc"):upper()`, "ABC"},
		{"huge array index stays small", `local t = {} t[60000000] = 1 call.vars.r = tostring(t[60000000])`, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := probe(t, e, tc.body)["r"]; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNoStateLeak(t *testing.T) {
	e := New(Options{PoolSize: 1}) // one VM: every call reuses it
	s := load(t, e, `
counter = (counter or 0) + 1
function on_invite(call)
  call.vars.seen = tostring(leak) .. "/" .. tostring(string.leak) .. "/" .. counter .. "/" .. type(string.upper)
  leak = "x"
  string.leak = "y"
  rawset(string, "upper", nil)
  rawset(tl, "log", nil)
  table.insert(math, 1)
  _G.counter = 99
end`)
	for i := 0; i < 3; i++ {
		c := &Call{}
		if _, err := s.OnInvite(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if got := c.Vars["seen"]; got != "nil/nil/1/function" {
			t.Fatalf("call %d saw %q: state leaked", i, got)
		}
	}
}

func TestBudget(t *testing.T) {
	e := New(Options{Budget: 30 * time.Millisecond})
	for name, body := range map[string]string{
		"loop":            "while true do end",
		"pcall swallows":  "while true do pcall(function() while true do end end) end",
		"xpcall handler":  "xpcall(function() while true do end end, function() while true do end end)",
		"tail recursion":  "local function f() return f() end return f()",
		"gsub repl loops": `string.gsub("aaaa", "a", function() while true do end end)`,
	} {
		t.Run(name, func(t *testing.T) {
			s := load(t, e, "function on_invite(call)\n"+body+"\nend")
			start := time.Now()
			_, err := s.OnInvite(context.Background(), &Call{})
			if !errors.Is(err, ErrBudget) {
				t.Fatalf("err = %v, want ErrBudget", err)
			}
			// The cut-off is what is asserted; the bound only catches a hook
			// that was never cut (a loaded machine under -race takes a while
			// to unwind a deep tail-call trace).
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("cut off after %v, budget 30ms", d)
			}
			var se *Error
			if !errors.As(err, &se) || se.ScriptID != "t" || se.Hook != HookInvite || se.Line < 2 {
				t.Errorf("error %#v: want script t, hook on_invite, a line", err)
			}
		})
	}
	// The caller's context bounds the hook too.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	s := load(t, New(Options{Budget: time.Second}), "function on_invite(call) while true do end end")
	if _, err := s.OnInvite(ctx, &Call{}); !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
}

func TestMemory(t *testing.T) {
	e := New(Options{Budget: 2 * time.Second, MemoryLimit: 16 << 20})
	for name, body := range map[string]string{
		"table bomb":     "local t = {} for i=1,1e9 do t[i]=i end",
		"hash bomb":      "local t = {} for i=1,1e9 do t['k'..i]=i end",
		"concat doubles": `local s = string.rep("x", 1024) while true do s = s .. s end`,
	} {
		t.Run(name, func(t *testing.T) {
			s := load(t, e, "function on_invite(call)\n"+body+"\nend")
			_, err := s.OnInvite(context.Background(), &Call{})
			if !errors.Is(err, ErrMemory) && !errors.Is(err, ErrBudget) {
				t.Fatalf("err = %v, want ErrMemory", err)
			}
		})
	}
	for name, body := range map[string]string{
		"string.rep":    `string.rep("x", 1e9)`,
		"string.format": `string.format("%999999999d", 1)`,
		"gsub":          `local s = string.rep("x", 1e6) s:gsub("x", s)`,
		"table.concat":  `local s = string.rep("x", 1e6) table.concat({s, s}, "")`,
		"concat range":  `table.concat({}, "", 1, 1e9)`,
		"recursion":     `local function f() return 1 + f() end f()`,
		"unpack":        `local t = {} for i = 1, 200000 do t[i] = i end unpack(t)`,
	} {
		t.Run(name, func(t *testing.T) {
			s := load(t, e, "function on_invite(call)\n"+body+"\nend")
			_, err := s.OnInvite(context.Background(), &Call{})
			if !errors.Is(err, ErrRuntime) && !errors.Is(err, ErrMemory) {
				t.Fatalf("err = %v, want a runtime error or ErrMemory", err)
			}
		})
	}
}

func TestCompileError(t *testing.T) {
	e := New(Options{})
	err := e.Load("lcr", "function on_route(call, plan)\n  return {\nend")
	var se *Error
	if !errors.As(err, &se) || !errors.Is(err, ErrCompile) || se.Line != 3 || se.ScriptID != "lcr" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "line 3") {
		t.Errorf("message %q lacks the line", err)
	}
	if e.Script("lcr") != nil {
		t.Error("a script that does not compile was loaded")
	}
	// A top level that fails at load is refused too.
	if err := e.Load("x", "local a = nil\nlocal b = a.b"); !errors.Is(err, ErrRuntime) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v", err)
	}
}

func TestReload(t *testing.T) {
	e := New(Options{})
	old := load(t, e, `function on_invite(call) call:set_to("1") end`)
	if err := e.Load("t", `function on_invite(call) call:set_to("2") end`); err != nil {
		t.Fatal(err)
	}
	if err := e.Load("t", `function on_invite(call) call:set_to(`); err == nil {
		t.Fatal("bad source loaded")
	}
	for _, tc := range []struct {
		s    *Script
		want string
	}{{old, "1"}, {e.Script("t"), "2"}} {
		c := &Call{}
		res, err := tc.s.OnInvite(context.Background(), c)
		if err != nil || res.To != tc.want || c.To != tc.want {
			t.Errorf("to = %q/%q (%v), want %q", res.To, c.To, err, tc.want)
		}
	}
	if !e.Remove("t") || e.Script("t") != nil || e.Remove("t") {
		t.Error("remove")
	}
}

func TestOnInvite(t *testing.T) {
	e := New(Options{})
	s := load(t, e, `
function on_invite(call)
  call.vars.ua = call:header("user-agent")
  call.vars.raw = call.headers["User-Agent"]
  call.vars.src = call.sourceIp .. " " .. call.sipTrunkId .. " " .. call.username .. " " .. call.id
  call:set_header("X-Tenant", "acme")
  call:set_header("p-asserted-identity", "<sip:1@x>")
  call:remove_header("X-Drop")
  call.vars.tenant = call.headers["X-Tenant"]
  call:set_to("+442071234567")
  call:set_from("3312345", "Alice")
  call:set_route("main")
  call:reject(486, "Busy here")
  call.vars.code = call.rejected.code
end
function on_answer(call)
  call.vars.later = call.route .. " " .. call.rejected.reason .. " " .. call.to .. " " .. call.vars.tenant
end`)
	c := &Call{ID: "c1", From: "1", To: "2", Username: "2", SIPTrunkID: "pbx", SourceIP: "192.0.2.1",
		Headers: []Header{{"User-Agent", "PBX"}, {"P-Asserted-Identity", "<sip:9@y>"}, {"X-Drop", "a"}, {"x-drop", "b"}}}
	res, err := s.OnInvite(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Rejected: &Rejection{486, "Busy here"},
		Headers:  []HeaderOp{{Name: "X-Tenant", Value: "acme"}, {Name: "p-asserted-identity", Value: "<sip:1@x>"}, {Name: "X-Drop", Remove: true}},
		To:       "+442071234567", From: &FromChange{"3312345", "Alice"}, Route: "main",
	}
	if fmt.Sprint(res.Headers) != fmt.Sprint(want.Headers) || res.To != want.To || res.Route != want.Route ||
		res.Rejected == nil || *res.Rejected != *want.Rejected || res.From == nil || *res.From != *want.From {
		t.Errorf("result %+v\nwant   %+v", res, want)
	}
	if got := fmt.Sprint(c.Headers); got != "[{User-Agent PBX} {P-Asserted-Identity <sip:1@x>} {X-Tenant acme}]" {
		t.Errorf("headers %s", got)
	}
	for k, v := range map[string]string{"ua": "PBX", "raw": "PBX", "src": "192.0.2.1 pbx 2 c1", "tenant": "acme", "code": "486"} {
		if c.Vars[k] != v {
			t.Errorf("vars.%s = %q, want %q", k, c.Vars[k], v)
		}
	}
	if err := s.OnAnswer(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if got := c.Vars["later"]; got != "main Busy here +442071234567 acme" {
		t.Errorf("on_answer saw %q", got)
	}
}

func TestCallAPIRefusals(t *testing.T) {
	e := New(Options{})
	for _, body := range []string{
		`call:reject(200)`, `call:reject(700)`, `call:reject(486.5)`, `call:reject(486, "a\r\nVia: x")`,
		`call:set_header("Via", "x")`, `call:set_header("x-a", "b\r\nc")`, `call:set_header("bad name", "x")`,
		`call:remove_header("Call-ID")`, `call:set_to("")`, `call:set_to("1@evil")`, `call:set_from("1", "a\"b")`,
		`call:set_route("")`, `call.set_to("1")`, `call.header("x")`,
	} {
		s := load(t, e, "function on_invite(call)\n"+body+"\nend")
		c := &Call{To: "5"}
		if _, err := s.OnInvite(context.Background(), c); !errors.Is(err, ErrRuntime) {
			t.Errorf("%s: err = %v, want a runtime error", body, err)
		}
		if c.To != "5" || c.Rejected != nil || len(c.Headers) != 0 {
			t.Errorf("%s: call changed: %+v", body, c)
		}
	}
}

var samplePlan = []routing.Attempt{
	{Index: 0, Type: "SIP", Priority: 1, Weight: 70, SIPTrunkID: "pbx-a", Username: "1000", ConnectTimeout: 15},
	{Index: 1, Type: "PHONE", Priority: 2, Weight: 1, SIPTrunkID: "carrier-a", PhoneNumber: "447700900123", ConnectTimeout: 60},
}

func TestOnRoute(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct {
		name, body string
		want       []routing.Attempt // nil: not replaced
		err        bool
	}{
		{"keep", ``, nil, false},
		{"reverse", `return {plan[2], plan[1]}`, []routing.Attempt{samplePlan[1], samplePlan[0]}, false},
		{"drop all", `return {}`, []routing.Attempt{}, false},
		{"edit and add", `plan[1].connectTimeout = 5
		  table.insert(plan, {type = "PHONE", sipTrunkId = "carrier-b", phoneNumber = "1"})
		  return plan`, []routing.Attempt{
			{Index: 0, Type: "SIP", Priority: 1, Weight: 70, SIPTrunkID: "pbx-a", Username: "1000", ConnectTimeout: 5},
			samplePlan[1],
			{Index: -1, Type: "PHONE", Weight: 1, SIPTrunkID: "carrier-b", PhoneNumber: "1", ConnectTimeout: 60}}, false},
		{"fields seen", `if plan[1].type ~= "SIP" or plan[1].weight ~= 70 or plan[2].phoneNumber ~= "447700900123" or plan[1].priority ~= 1 then error("bad") end`, nil, false},
		{"string", `return "x"`, nil, true},
		{"entry not a table", `return {1}`, nil, true},
		{"holes", `return {plan[1], nil, plan[2]}`, nil, true},
		{"map", `return {a = plan[1]}`, nil, true},
		{"bad type", `return {{type = "FAX", sipTrunkId = "a"}}`, nil, true},
		{"no trunk", `return {{type = "SIP"}}`, nil, true},
		{"weight string", `plan[1].weight = "7" return plan`, nil, true},
		{"fraction", `plan[1].connectTimeout = 1.5 return plan`, nil, true},
		{"unknown field", `plan[1].sipTrunkID = "x" return plan`, nil, true},
		{"too long", `local p = {} for i = 1, 65 do p[i] = plan[1] end return p`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := load(t, e, "function on_route(call, plan)\n"+tc.body+"\nend")
			res, err := s.OnRoute(context.Background(), &Call{}, samplePlan)
			if tc.err {
				if !errors.Is(err, ErrPlan) {
					t.Fatalf("err = %v, want ErrPlan", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.PlanReplaced != (tc.want != nil) || fmt.Sprint(res.Plan) != fmt.Sprint(tc.want) {
				t.Errorf("plan %v (replaced %v)\nwant %v", res.Plan, res.PlanReplaced, tc.want)
			}
		})
	}
}

func TestOnAttemptAndEnd(t *testing.T) {
	e := New(Options{})
	s := load(t, e, `
function on_attempt(call, attempt)
  attempt.headers["X-Trunk"] = attempt.sipTrunkId
  attempt.headers["X-A"] = "1"
  call:set_header("X-Call", call.vars.n)
end
function on_end(call, log)
  call.vars.log = log.state .. " " .. log.code .. " " .. log.reason .. " " .. log.sipTrunkId .. " " .. log.duration
end`)
	c := &Call{Vars: map[string]string{"n": "7"}}
	res, err := s.OnAttempt(context.Background(), c, samplePlan[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Headers); got != "[{X-Call 7 false} {X-A 1 false} {X-Trunk carrier-a false}]" {
		t.Errorf("headers %s", got)
	}
	start := time.Unix(1000, 0)
	err = s.OnEnd(context.Background(), c, EndLog{State: "FINISHED", Code: 200, Reason: "OK", SIPTrunkID: "carrier-a", Start: start, End: start.Add(90 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Vars["log"]; got != "FINISHED 200 OK carrier-a 90" {
		t.Errorf("on_end saw %q", got)
	}
	// Absent hooks cost nothing and change nothing.
	if res, err := s.OnInvite(context.Background(), c); err != nil || res.To != "" {
		t.Errorf("absent hook: %+v %v", res, err)
	}
}

type mapKV struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *mapKV) Get(key string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok
}

func (k *mapKV) Set(key, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key == "ro" {
		return errors.New("read-only")
	}
	k.m[key] = value
	return nil
}

func TestTL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 70<<10))
		case "/slow":
			<-r.Context().Done() // answers only once the client gave up
		default:
			var b bytes.Buffer
			b.ReadFrom(r.Body)
			fmt.Fprintf(w, "%s %s", r.Method, b.String())
		}
	}))
	defer srv.Close()
	var logs bytes.Buffer
	kv := &mapKV{m: map[string]string{"k": "v"}}
	e := New(Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return time.Unix(1700000000, 500000000) },
		KV:     kv, Budget: time.Second, HTTPTimeout: 50 * time.Millisecond,
	})
	v := probe(t, e, `
  tl.log("warn", "hello")
  call.vars.now = string.format("%.1f", tl.now())
  local st, body = tl.http_get("`+srv.URL+`/get")
  call.vars.get = st .. " " .. body
  st, body = tl.http_post("`+srv.URL+`/post", "payload")
  call.vars.post = st .. " " .. body
  st, body = tl.http_get("`+srv.URL+`/big")
  call.vars.big = tostring(st) .. " " .. body
  st, body = tl.http_get("`+srv.URL+`/slow")
  call.vars.slow = tostring(st)
  call.vars.kv = tl.kv_get("k") .. tostring(tl.kv_get("none"))
  tl.kv_set("n", "1")
  call.vars.ro = tostring(pcall(tl.kv_set, "ro", "x"))`)
	for k, want := range map[string]string{"now": "1700000000.5", "get": "200 GET ", "post": "200 POST payload",
		"big": "nil response body over 65536 bytes", "slow": "nil", "kv": "vnil", "ro": "false"} {
		if v[k] != want {
			t.Errorf("%s = %q, want %q", k, v[k], want)
		}
	}
	if kv.m["n"] != "1" {
		t.Error("kv_set did not store")
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN msg=hello script=t hook=on_invite callId=c1") {
		t.Errorf("log %q", l)
	}
	if _, err := load(t, New(Options{}), `function on_invite(call) tl.kv_get("k") end`).OnInvite(context.Background(), &Call{}); err == nil {
		t.Error("kv without a store did not fail")
	}
}

func TestConcurrentHooks(t *testing.T) {
	// A generous budget: 32 goroutines under -race on a few cores is CPU
	// starvation, and the budget is wall-clock; the memory cap is process-wide
	// and would count the other goroutines' allocations.
	e := New(Options{Budget: 10 * time.Second, MemoryLimit: -1})
	s := load(t, e, benchScript)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if i == 50 && g == 0 {
					// a reload in the middle: calls keep their handle
					if err := e.Load("t", benchScript); err != nil {
						errs <- err
					}
				}
				c := &Call{ID: fmt.Sprint(g, i), To: "442071234567", Headers: []Header{{"X-Tenant", "acme"}}}
				if _, err := s.OnInvite(context.Background(), c); err != nil {
					errs <- err
					return
				}
				res, err := s.OnRoute(context.Background(), c, samplePlan)
				if err != nil || !res.PlanReplaced || res.Plan[0].SIPTrunkID != "carrier-a" {
					errs <- fmt.Errorf("on_route: %v %+v", err, res)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRunTestFiles(t *testing.T) {
	var out bytes.Buffer
	sum := RunTestFiles(&out, []string{"examples/tenant.lua", "examples/lcr.lua", "examples/fraud.lua"}, Options{})
	if sum.Failed != 0 || sum.Passed != 10 || !strings.HasSuffix(out.String(), "10 passed, 0 failed\n") {
		t.Fatalf("examples: %+v\n%s", sum, out.String())
	}
	out.Reset()
	sum = RunTestFiles(&out, []string{"testdata/failing.lua", "testdata/compile_error.lua", "testdata/hook_overrun.lua", "testdata/absent.lua"}, Options{})
	want := `--- FAIL: test_eq_fails
    testdata/failing.lua:14: arithmetic: got 2, want 3
--- FAIL: test_truthy_fails
    testdata/failing.lua:18: a value: got nil, want a true value
--- FAIL: test_hook_changes
    testdata/failing.lua:24: got "999", want "124"
--- FAIL: test_hook_errors
    testdata/failing.lua:28: on_answer failed: script testdata/failing.lua: on_answer: line 6: boom
--- FAIL: test_overrun
    testdata/failing.lua:32: time budget exceeded (1s)
--- FAIL: testdata/compile_error.lua
    testdata/compile_error.lua:3: compile error: syntax error near '='
--- FAIL: test_hook_overrun
    testdata/hook_overrun.lua:6: on_invite failed: script testdata/hook_overrun.lua: on_invite: line 2: time budget exceeded
--- FAIL: testdata/absent.lua
    open testdata/absent.lua: no such file or directory
1 passed, 8 failed
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if sum != (Summary{Passed: 1, Failed: 8}) {
		t.Errorf("summary %+v", sum)
	}
}

const benchScript = `
local tenants = {acme = "acme-main", globex = "globex-eu"}
local rates = {["carrier-a"] = {["44"] = 0.010}, ["pbx-a"] = {["44"] = 0.020}}

local function price(trunk, number)
  local t = rates[trunk]
  if not t then return math.huge end
  for n = #number, 1, -1 do
    local r = t[string.sub(number, 1, n)]
    if r then return r end
  end
  return math.huge
end

function on_invite(call)
  local tenant = call:header("x-tenant")
  if not tenant then return call:reject(403, "no tenant") end
  call.vars.tenant = tenant
  call:set_route(tenants[tenant] or "default")
end

function on_route(call, plan)
  local out = {}
  for i, a in ipairs(plan) do out[i] = a end
  table.sort(out, function(x, y) return price(x.sipTrunkId, call.to) < price(y.sipTrunkId, call.to) end)
  return out
end
`

// BenchmarkHookPair is the per-call overhead of an on_invite + on_route pair
// on a small realistic script.
func BenchmarkHookPair(b *testing.B) {
	e := New(Options{})
	s := load(b, e, benchScript)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c := &Call{ID: "c", From: "3312345", To: "442071234567", Username: "442071234567", SIPTrunkID: "pbx",
			Headers: []Header{{"X-Tenant", "acme"}, {"User-Agent", "PBX"}}}
		if _, err := s.OnInvite(ctx, c); err != nil {
			b.Fatal(err)
		}
		if _, err := s.OnRoute(ctx, c, samplePlan); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzOnRoute(f *testing.F) {
	for _, seed := range []string{``, `return {plan[2], plan[1]}`, `return {{type = "SIP", sipTrunkId = "x", weight = 1e300}}`,
		`plan[1].index = -0 return plan`, `return {[1] = plan[1], [3] = 1}`, `call:set_header("a", "b") return plan`} {
		f.Add(seed)
	}
	e := New(Options{Budget: 10 * time.Millisecond, MemoryLimit: 8 << 20})
	f.Fuzz(func(t *testing.T, body string) {
		if err := e.Load("f", "function on_route(call, plan)\n"+body+"\nend"); err != nil {
			return
		}
		res, err := e.Script("f").OnRoute(context.Background(), &Call{}, samplePlan)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			return
		}
		for _, a := range res.Plan {
			if a.Type == "" || a.ConnectTimeout < 1 {
				t.Fatalf("invalid attempt accepted: %+v", a)
			}
		}
	})
}
