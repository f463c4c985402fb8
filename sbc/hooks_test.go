package sbc

import (
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/scripts"
)

// hookScript is a global script of the hook tests: on_invite rejects the
// called number 449990, rewrites 447000 to the number the route wants, and
// fails at run time for 448888; on_route puts carrier-2 first when the
// caller sends X-Prefer: two; on_attempt stamps X-Tenant on every INVITE.
const hookScript = `
function on_invite(call)
  if call.to == "449990" then call:reject(403, "Blocked by script") end
  if call.to == "447000" then call:set_to("447700900123") end
  if call.to == "448888" then error("boom") end
  call.vars.seen = "yes"
end

function on_route(call, plan)
  if call:header("X-Prefer") ~= "two" then return end
  local out = {}
  for i = #plan, 1, -1 do out[#out + 1] = plan[i] end
  return out
end

function on_attempt(call, attempt)
  call:set_header("X-Tenant", "acme-" .. call.vars.seen)
end
`

// withScript gives the rig's configuration a global script.
func withScript(t *testing.T, r *callRig, source string) {
	t.Helper()
	cfg := r.s.Config().Clone()
	cfg.Scripts = append(cfg.Scripts, config.Script{ID: "hooks", Source: source})
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if r.s.scripts.Script("hooks") == nil {
		t.Fatal("the script was not loaded")
	}
}

func TestHooks(t *testing.T) {
	r := newCallRig(t, "", "")
	withScript(t, r, hookScript)

	// on_invite rejects.
	if res := r.caller.invite(r.to, "449990", r.caller.sdp()).final(); res.StatusCode != 403 || res.Reason != "Blocked by script" {
		t.Errorf("rejected call: %d %s, want 403 Blocked by script", res.StatusCode, res.Reason)
	}

	// on_invite rewrites the called number; on_attempt stamps a header.
	oc := r.caller.invite(r.to, "447000", r.caller.sdp())
	in := r.c1.nextInvite()
	if in.req.Recipient.User != called {
		t.Errorf("R-URI user %q, want the rewritten %q", in.req.Recipient.User, called)
	}
	if h := in.req.GetHeader("X-Tenant"); h == nil || h.Value() != "acme-yes" {
		t.Errorf("X-Tenant %v, want acme-yes (call.vars kept across hooks)", h)
	}
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}

	// on_route reorders the plan.
	oc = r.call(sip.NewHeader("X-Prefer", "two"))
	in = r.c2.nextInvite()
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
	r.c1.noInvite()

	// A hook that fails: logged, counted, and the call goes on without it.
	oc = r.caller.invite(r.to, "448888", r.caller.sdp())
	in = r.c1.nextInvite()
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
	if m := r.metricsText(); !strings.Contains(m, `trunkline_lua_errors_total{script="hooks",hook="on_invite"} 1`) ||
		!strings.Contains(m, "trunkline_lua_hook_seconds_bucket") {
		t.Errorf("hook metrics missing:\n%s", m)
	}
}

// A script that does not compile is refused by CheckScript with its line,
// and a configuration holding it loads the rest.
func TestCheckScript(t *testing.T) {
	r := newCallRig(t, "", "")
	err := r.s.CheckScript("bad", "function on_invite(call)\n  if then\nend\n")
	if err == nil || !strings.Contains(err.Error(), "2") {
		t.Errorf("CheckScript = %v, want a compile error naming line 2", err)
	}
	withScript(t, r, hookScript)
	cfg := r.s.Config().Clone()
	cfg.Scripts = append(cfg.Scripts, config.Script{ID: "broken", Source: "if then"})
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if r.s.scripts.Script("broken") != nil || r.s.scripts.Script("hooks") == nil {
		t.Error("a broken script was loaded, or took the good one with it")
	}
}

// A route's scriptId runs for that route's calls, from on_route on, after
// the global scripts: here it reverses the plan, and the global script
// still stamps its header.
func TestRouteScript(t *testing.T) {
	r := newCallRig(t, "", "")
	cfg := r.s.Config().Clone()
	cfg.Scripts = append(cfg.Scripts,
		config.Script{ID: "pick", Source: `
function on_invite(call) call:reject(500, "route scripts get no on_invite") end
function on_route(call, plan)
  local out = {}
  for i = #plan, 1, -1 do out[#out + 1] = plan[i] end
  return out
end
`},
		config.Script{ID: "global", Source: `function on_attempt(call, a) call:set_header("X-Global", "yes") end`})
	for i := range cfg.Routes {
		if cfg.Routes[i].ID == "main" {
			cfg.Routes[i].ScriptID = "pick"
		}
	}
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	oc := r.call()
	in := r.c2.nextInvite()
	if h := in.req.GetHeader("X-Global"); h == nil || h.Value() != "yes" {
		t.Errorf("X-Global %v: the global script did not run alongside the route's", h)
	}
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486 (carrier-2 first, then the hunt stops)", res.StatusCode)
	}
	r.c1.noInvite()
}

// memKV is the replicated key/value store as a map, for tl.kv_*.
type memKV struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKV) Get(key string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok
}

func (k *memKV) Set(key, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = value
	return nil
}

// Scripts read and write the store Options.ScriptKV gives them.
func TestHookKV(t *testing.T) {
	kv := &memKV{m: map[string]string{"greeting": "hello"}}
	r := newCallRigWith(t, "", "", func(s *Server) {
		s.scripts = scripts.New(scripts.Options{KV: kv})
	})
	withScript(t, r, `
function on_invite(call) tl.kv_set("last", call.to) end
function on_attempt(call, a) call:set_header("X-Greeting", tl.kv_get("greeting")) end
`)
	oc := r.call()
	in := r.c1.nextInvite()
	if h := in.req.GetHeader("X-Greeting"); h == nil || h.Value() != "hello" {
		t.Errorf("X-Greeting %v, want hello (tl.kv_get)", h)
	}
	in.respond(486, "Busy Here", nil)
	oc.final()
	if v, _ := kv.Get("last"); v != called {
		t.Errorf("tl.kv_set stored %q, want %q", v, called)
	}
}
