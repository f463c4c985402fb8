package scripts

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// invites runs on_invite n times on fresh calls and returns what each call
// left in call.vars.r. The engine has one VM, so every call reuses it (and
// its cached top level).
func invites(t *testing.T, e *Engine, src string, n int) []string {
	t.Helper()
	s := load(t, e, src)
	var out []string
	for i := 0; i < n; i++ {
		c := &Call{ID: fmt.Sprint(i), To: "123", Headers: []Header{{"X-Tenant", "acme"}}}
		if _, err := s.OnInvite(context.Background(), c); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		out = append(out, c.Vars["r"])
	}
	return out
}

func allEqual(t *testing.T, got []string, want string) {
	t.Helper()
	for i, g := range got {
		if g != want {
			t.Fatalf("call %d saw %q, want %q (all calls: %q)", i, g, want, got)
		}
	}
}

// The top level runs once per VM; whatever a hook changes of what it made
// is back as it was for the next call.
func TestTopLevelIsolation(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"top-level table fields", `
local cfg = {x = 0, name = "a"}
function on_invite(call)
  call.vars.r = cfg.x .. tostring(cfg.new) .. cfg.name
  cfg.x = cfg.x + 1
  cfg.new = "leak"
  cfg.name = nil
end`, "0nila"},
		{"global table replaced and mutated", `
config = {limit = 5}
function on_invite(call)
  call.vars.r = tostring(config.limit)
  config.limit = 99
  config = {limit = 7}
end`, "5"},
		{"nested tables and arrays", `
local rates = {["carrier-a"] = {["44"] = 0.01}, list = {1, 2, 3}}
function on_invite(call)
  call.vars.r = rates["carrier-a"]["44"] .. "/" .. #rates.list .. "/" .. tostring(rates.list[4])
  rates["carrier-a"]["44"] = 5
  rates["carrier-a"]["1"] = 1
  table.insert(rates.list, 4)
  table.remove(rates.list, 1)
end`, "0.01/3/nil"},
		{"only keys added", `
local t, arr, empty, mixed = {a = 1}, {1, 2}, {}, {1, x = 1}
function on_invite(call)
  call.vars.r = tostring(t.b) .. tostring(arr[3]) .. tostring(next(empty)) .. tostring(g) .. tostring(t[1]) .. tostring(mixed[2])
  mixed[2] = 2
  t.b = 1
  t[1] = 1
  arr[3] = 3
  empty.x = 1
  g = 1
end`, "nilnilnilnilnilnil"},
		{"array with holes", `
local t = {1, nil, 3}
function on_invite(call)
  call.vars.r = tostring(t[2]) .. #t
  t[2] = 2
  t[5] = 5
end`, "nil3"},
		{"metatable set by a hook", `
local t = {}
function on_invite(call)
  call.vars.r = tostring(getmetatable(t)) .. tostring(t.missing)
  setmetatable(t, {__index = function() return "leak" end})
end`, "nilnil"},
		{"metatable of the top level", `
local t = setmetatable({}, {__index = {d = "default"}})
function on_invite(call)
  call.vars.r = t.d
  getmetatable(t).__index.d = "leak"
  getmetatable(t).__index = {d = "leak2"}
end`, "default"},
		{"upvalues", `
local n, last = 0, nil
function on_invite(call)
  n = n + 1
  call.vars.r = n .. tostring(last)
  last = call.id
end`, "1nil"},
		{"upvalue shared by two closures", `
local n = 0
local function bump() n = n + 1 return n end
function on_invite(call) bump() call.vars.r = tostring(bump()) end`, "2"},
		{"globals and _G", `
function on_invite(call)
  call.vars.r = tostring(g1) .. tostring(rawget(_G, "g2")) .. tostring(on_answer)
  g1 = 1
  rawset(_G, "g2", 2)
  _G.on_answer = function() end
  on_invite = nil
end`, "nilnilnil"},
		{"a hook redefines a function the top level made", `
local function f() return "top" end
function get() return f() end
function on_invite(call)
  call.vars.r = get()
  get = function() return "leak" end
  f = function() return "leak" end
end`, "top"},
		{"modules", `
function on_invite(call)
  call.vars.r = tostring(string.leak) .. type(tl.log) .. tostring(math.leak)
  string.leak = 1
  rawset(tl, "log", 1)
  math.leak = 1
end`, "nilfunctionnil"},
		{"iteration order kept", `
local t = {a = 1, b = 2, c = 3, d = 4}
t.b = nil
function on_invite(call)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  call.vars.r = table.concat(ks, ",")
  t.a = nil
  t.e = 5
  t.b = 2
end`, ""}, // compared below: the same in every call
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := invites(t, New(Options{PoolSize: 1}), tc.src, 4)
			want := tc.want
			if want == "" {
				want = got[0]
			}
			allEqual(t, got, want)
		})
	}
}

// A hook that adds and removes a new key every call leaves gopher-lua's key
// list growing; the periodic rebuild bounds it and calls still see the top
// level as it was.
func TestTopLevelRebuild(t *testing.T) {
	got := invites(t, New(Options{PoolSize: 1}), `
local seen = {a = 1}
function on_invite(call)
  local n = 0
  for _ in pairs(seen) do n = n + 1 end
  call.vars.r = tostring(n)
  seen[call.id] = true
  seen[call.id] = nil
end`, 3*rebuildEvery+5)
	allEqual(t, got, "1")
}

// What a hook hands on through call.vars (the one Lua value that outlives a
// hook) belongs to that call: later calls on the same VM get a top level,
// call table, plan and headers of their own.
func TestEscapeThroughVars(t *testing.T) {
	e := New(Options{PoolSize: 1})
	s := load(t, e, `
local cfg = {x = 0}
local n = 0
function on_invite(call)
  cfg.x = cfg.x + 1
  call.vars.r = tostring(cfg.x)
  if call.id == "keep" then
    call.vars.cfg = cfg
    call.vars.call = call
    call.vars.hdr = call.headers
    call.vars.bump = function() n = n + 1 return n end
  end
end
function on_route(call, plan)
  if call.id == "keep" then call.vars.plan = plan[1] end
end
function on_answer(call)
  local v = call.vars
  call.vars.r = v.cfg.x .. " " .. v.call.to .. " " .. v.bump() .. v.bump() .. " " .. v.plan.sipTrunkId ..
    " " .. tostring(rawequal(v.hdr, call.headers)) .. " " .. tostring(v.hdr["X-Tenant"])
  v.cfg.x = 100
end`)
	ctx := context.Background()
	kept := &Call{ID: "keep", To: "111", Headers: []Header{{"X-Tenant", "acme"}}}
	if _, err := s.OnInvite(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OnRoute(ctx, kept, samplePlan); err != nil {
		t.Fatal(err)
	}
	// Other calls on the same VM in between.
	for i := 0; i < 3; i++ {
		c := &Call{ID: fmt.Sprint(i), To: "222", Headers: []Header{{"X-Tenant", "globex"}}}
		if _, err := s.OnInvite(ctx, c); err != nil || c.Vars["r"] != "1" {
			t.Fatalf("call %d: r = %q (%v), want a fresh top level", i, c.Vars["r"], err)
		}
		if _, err := s.OnRoute(ctx, c, samplePlan[1:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.OnAnswer(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if got, want := kept.Vars["r"], "1 111 12 pbx-a false acme"; got != want {
		t.Errorf("the kept call saw %q, want %q", got, want)
	}
	c := &Call{ID: "after"}
	if _, err := s.OnInvite(ctx, c); err != nil || c.Vars["r"] != "1" {
		t.Errorf("after: r = %q (%v), want 1", c.Vars["r"], err)
	}
}

// The reused call, plan and headers tables carry nothing from one call (or
// hook) to the next.
func TestReusedTables(t *testing.T) {
	e := New(Options{PoolSize: 1})
	s := load(t, e, `
function on_invite(call)
  call.vars.r = tostring(call.extra) .. tostring(call.route) .. tostring(call.fromName) .. tostring(call.headers["X-New"]) .. call.headers["X-Tenant"]
  call.extra = 1
  call.headers["X-New"] = "1"
  call.headers["X-Tenant"] = "changed"
  call:set_route("r")
  call:set_from("1", "Alice")
end
function on_route(call, plan)
  call.vars.r = tostring(plan[1].extra) .. tostring(getmetatable(plan[1])) .. plan[1].weight .. tostring(plan[1].phoneNumber) .. tostring(plan[1].missing)
  plan[1].extra = 1
  plan[1].weight = 0
  plan[1].phoneNumber = "1"
  setmetatable(plan[1], {__index = function() return "leak" end})
end
function on_answer(call)
  call.vars.r = tostring(call.headers["X-New"]) .. call.headers["X-Tenant"] .. tostring(call.extra)
  call.headers["X-New"] = "again"
end`)
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		c := &Call{ID: fmt.Sprint(i), Headers: []Header{{"X-Tenant", "acme"}}}
		if _, err := s.OnInvite(ctx, c); err != nil || c.Vars["r"] != "nilnilnilnilacme" {
			t.Fatalf("on_invite %d: %q %v", i, c.Vars["r"], err)
		}
		if _, err := s.OnRoute(ctx, c, samplePlan); err != nil || c.Vars["r"] != "nilnil70nilnil" {
			t.Fatalf("on_route %d: %q %v", i, c.Vars["r"], err)
		}
		for j := 0; j < 2; j++ {
			if err := s.OnAnswer(ctx, c); err != nil || c.Vars["r"] != "nilacmenil" {
				t.Fatalf("on_answer %d/%d: %q %v", i, j, c.Vars["r"], err)
			}
		}
	}
}

// A top level that calls tl.* or math.random runs for every call, as before.
func TestImpureTopLevel(t *testing.T) {
	var ticks float64
	e := New(Options{PoolSize: 1, Now: func() time.Time {
		ticks++
		return time.Unix(int64(ticks), 0)
	}})
	got := invites(t, e, `
local started = tl.now()
function on_invite(call) call.vars.r = tostring(started) end`, 3)
	if got[0] == got[1] || got[1] == got[2] {
		t.Errorf("tl.now at the top level ran once: %q", got)
	}
	kv := &mapKV{m: map[string]string{"limit": "1"}}
	s := load(t, New(Options{PoolSize: 1, KV: kv}), `
local limit = tl.kv_get("limit")
function on_invite(call) call.vars.r = limit end`)
	for _, want := range []string{"1", "2", "3"} {
		kv.Set("limit", want)
		c := &Call{}
		if _, err := s.OnInvite(context.Background(), c); err != nil || c.Vars["r"] != want {
			t.Errorf("limit = %q (%v), want %q", c.Vars["r"], err, want)
		}
	}
}

// Two versions of a script share a VM without seeing each other's top level.
func TestTopLevelPerVersion(t *testing.T) {
	e := New(Options{PoolSize: 1})
	old := load(t, e, `local v = "old" function on_invite(call) call.vars.r = v end`)
	cur := load(t, e, `local v = "new" function on_invite(call) call.vars.r = v end`)
	for i := 0; i < 3; i++ {
		for _, tc := range []struct {
			s    *Script
			want string
		}{{old, "old"}, {cur, "new"}} {
			c := &Call{}
			if _, err := tc.s.OnInvite(context.Background(), c); err != nil || c.Vars["r"] != tc.want {
				t.Fatalf("got %q (%v), want %q", c.Vars["r"], err, tc.want)
			}
		}
	}
}
