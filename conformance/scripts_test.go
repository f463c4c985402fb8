package conformance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Lua hooks on live calls (DESIGN §6, issue 6 item 5): global scripts —
// `scripts:` entries no route names, so they run for every call — that
// refuse a call, rewrite the called number, reorder the route's plan and
// stamp a header on the outbound INVITE, and one whose hooks fail. Each
// test runs its own trunkline (the scripts inline in its configuration),
// SIPp UASes for the callee trunks and SIPp UACs playing
// uac_call_route_order.xml, whose X-Route-Order header the scripts can
// read; all in parallel with the rest of the suite.

// The scenario files of these tests (TestScenarioFilesDocumented counts
// them as used).
const (
	uacCallRouteOrder = "uac_call_route_order.xml"
	uasAnswerTenant   = "uas_answer_tenant.xml"
)

var scriptScenarioFiles = []string{uacCallRouteOrder, uasAnswerTenant}

// Numbers and values of the script tests.
const (
	premiumNumber  = "9001234" // a 900 number: scriptFraud refuses it
	premiumReason  = "Premium Rate Blocked"
	ukNational     = "02071234567" // scriptNormalise makes it ukLondon
	tenantHeader   = "X-Tenant"
	tenantValue    = "acme" // uas_answer_tenant.xml checks it
	attemptHeader  = "X-Attempt-Trunk"
	scriptHookFail = "script hook failed: the call goes on without it" // trunkline's log message
)

// The scripts, as an operator would write them.
const (
	scriptFraud = `-- Fraud block: premium-rate numbers (900...) are refused before routing.
function on_invite(call)
  if string.sub(call.to, 1, 3) == "900" then
    call:reject(403, "Premium Rate Blocked")
  end
end
`
	scriptNormalise = `-- Number normalisation: a UK national number (0, then the area code)
-- becomes international (44) before routing.
function on_invite(call)
  if string.match(call.to, "^0[1-9]") then
    call:set_to("44" .. string.sub(call.to, 2))
  end
end
`
	scriptReverse = `-- Plan order on demand: X-Route-Order: reverse tries the route's
-- destinations last first; otherwise the plan is kept.
function on_route(call, plan)
  if call:header("x-route-order") ~= "reverse" then
    return
  end
  local out = {}
  for i = #plan, 1, -1 do
    out[#out + 1] = plan[i]
  end
  return out
end
`
	scriptTenant = `-- Tenant stamping: every outbound INVITE says which tenant the caller's
-- trunk belongs to, and on which trunk the attempt goes.
local tenants = {caller = "acme"}

function on_attempt(call, attempt)
  local tenant = tenants[call.sipTrunkId]
  if tenant then
    call:set_header("X-Tenant", tenant)
    call:set_header("X-Attempt-Trunk", attempt.sipTrunkId)
  end
end
`
	scriptBuggy = `-- A script with bugs: on_invite raises an error, on_route returns a plan
-- that is no plan (an attempt without its trunk). Neither may stop the call.
function on_invite(call)
  error("boom")
end

function on_route(call, plan)
  return {{type = "SIP"}}
end
`
)

// TestScriptRejects: a global on_invite refuses calls to 900 numbers with
// 403 and its own reason phrase, before routing — the route would take
// them — so no INVITE reaches the callee; a call to another number goes
// through.
func TestScriptRejects(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua on_invite: call:reject(403) for a premium-rate number", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswer, calleeIP(0), nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		routeTo: "(1001|900[0-9]+)", // the route takes both: only the script refuses
		scripts: []luaScript{{"fraud", scriptFraud}},
	}, uas)

	blocked := runScriptCall(t, dir, o, "uac-blocked", remote, premiumNumber, "none")
	checkFinals(t, blocked, "INVITE", 403)
	for _, m := range blocked.received() {
		if m.Code() == 403 {
			if want := "SIP/2.0 403 " + premiumReason; m.First() != want {
				t.Errorf("the refusal's status line is %q, want %q (the script's reason)", m.First(), want)
			}
			break
		}
	}
	if n := invitesReceived(uas); n != 0 {
		t.Errorf("the callee got %d INVITEs for the call the script refused, want none", n)
	}
	if in, _ := callLegs(a, blocked); in == nil {
		t.Errorf("uac-blocked: no inbound call log in trunkline's log")
	} else if in.SIPCode != 403 || len(in.Decision.Attempts) != 0 {
		t.Errorf("uac-blocked: inbound call log with sipCode %d and %d route attempts, want 403 and none (refused before routing)",
			in.SIPCode, len(in.Decision.Attempts))
	}

	ok := runScriptCall(t, dir, o, "uac", remote, calledNumber, "none")
	checkFinals(t, ok, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	if invs := uas.requestsReceived("INVITE"); len(invs) != 1 {
		t.Errorf("the callee got %d INVITEs, want 1 (the call to %s)", len(invs), calledNumber)
	} else if !strings.HasPrefix(invs[0].First(), "INVITE sip:"+calledNumber+"@") {
		t.Errorf("the callee's INVITE is %q, want the call to %s", invs[0].First(), calledNumber)
	}
	checkNoLuaErrors(t, a)
	finishAppliance(t, a)
}

// TestScriptRewritesNumber: a global on_invite turns the UK national number
// the caller dialled into the international one (call:set_to); the route,
// which matches only the international number, takes the call, and the
// callee sees the new number in its Request-URI and To, never the old one.
func TestScriptRewritesNumber(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua on_invite: call:set_to rewrites the called number", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswer, calleeIP(0), nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		routeTo: ukLondon, // without the rewrite the call has no route
		scripts: []luaScript{{"normalise", scriptNormalise}},
	}, uas)

	c := runScriptCall(t, dir, o, "uac", remote, ukNational, "none")
	checkFinals(t, c, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	invs := uas.requestsReceived("INVITE")
	if len(invs) != 1 {
		t.Fatalf("the callee got %d INVITEs, want 1", len(invs))
	}
	inv := invs[0]
	if want := "INVITE sip:" + ukLondon + "@"; !strings.HasPrefix(inv.First(), want) {
		t.Errorf("the callee's Request-URI is %q, want it to start %q (the number the script set)", inv.First(), want)
	}
	if to := inv.Header("To"); !strings.Contains(to, "sip:"+ukLondon+"@") {
		t.Errorf("the callee's To is %q, want the user %s (the number the script set)", to, ukLondon)
	}
	if strings.Contains(inv.Text, ukNational) {
		t.Errorf("the number the caller dialled (%s) reached the callee:\n%s", ukNational, indent(inv.Text, "    "))
	}
	checkNoLuaErrors(t, a)
	finishAppliance(t, a)
}

// TestScriptReordersPlan: the route hunts uas-a (priority 1: answers) then
// uas-b (priority 2: 503). A global on_route reverses the plan when the
// caller's X-Route-Order says "reverse". Call 1 ("forward") is answered by
// uas-a and never reaches uas-b; call 2 ("reverse") reaches uas-b first,
// gets its 503, then uas-a, which answers.
func TestScriptReordersPlan(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua on_route: the plan reversed on X-Route-Order: reverse", dir, o)

	first := startUASCalls(t, dir, "uas-a", uasAnswer, calleeIP(0), 2, nil)
	second := startUASOnce(t, dir, "uas-b", uasReject503, calleeIP(1), nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		scripts: []luaScript{{"reverse", scriptReverse}},
	}, first, second)

	fwd := runScriptCall(t, dir, o, "uac-forward", remote, calledNumber, "forward")
	checkFinals(t, fwd, "INVITE", 200)
	if n, m := invitesReceived(first), invitesReceived(second); n != 1 || m != 0 {
		t.Errorf("call 1 (plan kept): uas-a got %d INVITEs and uas-b %d, want 1 and 0", n, m)
	}

	rev := runScriptCall(t, dir, o, "uac-reverse", remote, calledNumber, "reverse")
	checkFinals(t, rev, "INVITE", 200)
	callerSawOnly(1, 100, 180, 183, 200)(t, o)
	first.finish(10 * time.Second)
	second.finish(10 * time.Second)
	for _, r := range []*sippRun{first, second} {
		if !r.ok() {
			t.Errorf("%s (%s) %s", r.label, r.scenario, r.status())
		}
	}
	invA, invB := first.requestsReceived("INVITE"), second.requestsReceived("INVITE")
	if len(invA) != 2 || len(invB) != 1 {
		t.Fatalf("uas-a got %d INVITEs and uas-b %d in all, want 2 (both calls) and 1 (call 2, first)", len(invA), len(invB))
	}
	if b, a2 := invB[0].At, invA[1].At; !b.Before(a2) {
		t.Errorf("call 2 (reverse): uas-b's INVITE came %s after uas-a's, want uas-b first (the plan reversed)",
			b.Sub(a2).Round(time.Millisecond))
	} else {
		t.Logf("call 2 (reverse): uas-b got the INVITE first, uas-a %s later", a2.Sub(b).Round(time.Millisecond))
	}
	if !slices.ContainsFunc(second.sent(), func(m sipMsg) bool { return m.Code() == 503 }) {
		t.Errorf("uas-b sent no 503: call 2 cannot have gone on to uas-a because of it")
	}
	checkNoLuaErrors(t, a)
	finishAppliance(t, a)
}

// TestScriptStampsHeader: a global on_attempt stamps X-Tenant: acme (and
// the attempt's trunk) on the outbound INVITE; uas_answer_tenant.xml
// answers only an INVITE that carries it (check_it), and the runner reads
// both headers, once each, in the callee's trace.
func TestScriptStampsHeader(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua on_attempt: call:set_header stamps X-Tenant on the outbound INVITE", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswerTenant, calleeIP(0), nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		scripts: []luaScript{{"tenant", scriptTenant}},
	}, uas)

	c := runScriptCall(t, dir, o, "uac", remote, calledNumber, "none")
	checkFinals(t, c, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s: its INVITE must carry %s: %s", uas.label, uas.scenario, uas.status(), tenantHeader, tenantValue)
	}
	checkStamped(t, uas, map[string]string{tenantHeader: tenantValue, attemptHeader: "uas-a"})
	checkNoLuaErrors(t, a)
	finishAppliance(t, a)
}

// TestScriptErrors: a global script whose on_invite raises error("boom")
// and whose on_route returns a malformed plan, next to a sound one that
// stamps X-Tenant. The call completes on the route's plan, the sound
// script still stamps its header, each failure is logged with the script,
// the hook (and the line, for the error) and counted once in
// trunkline_lua_errors_total.
func TestScriptErrors(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua hooks that fail: error(\"boom\") in on_invite, a malformed plan from on_route", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswerTenant, calleeIP(0), nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		scripts: []luaScript{{"buggy", scriptBuggy}, {"tenant", scriptTenant}},
	}, uas)

	c := runScriptCall(t, dir, o, "uac", remote, calledNumber, "none")
	checkFinals(t, c, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	checkStamped(t, uas, map[string]string{tenantHeader: tenantValue, attemptHeader: "uas-a"})

	m, err := a.metrics()
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	want := map[string]float64{
		`trunkline_lua_errors_total{script="buggy",hook="on_invite"}`: 1,
		`trunkline_lua_errors_total{script="buggy",hook="on_route"}`:  1,
	}
	got := luaErrorSeries(m)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (every trunkline_lua_errors_total series: %v)", k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("%s = %v, want no such error", k, v)
		}
	}

	boomLine := 1 + slices.IndexFunc(strings.Split(scriptBuggy, "\n"), func(l string) bool {
		return strings.Contains(l, `error("boom")`)
	})
	failed := map[string]logEntry{}
	for _, l := range logEntries(a) {
		if l.str("msg") == scriptHookFail && l.str("scriptId") == "buggy" {
			failed[l.str("hook")] = l
		}
	}
	if l, ok := failed["on_invite"]; !ok {
		t.Errorf("no %q log line for script buggy, hook on_invite", scriptHookFail)
	} else {
		if !strings.Contains(l.str("error"), "boom") {
			t.Errorf("the on_invite failure is logged with error %q, want the script's message (boom)", l.str("error"))
		}
		if line, _ := l["line"].(float64); int(line) != boomLine {
			t.Errorf("the on_invite failure is logged at line %v, want %d (error(\"boom\")): %v", l["line"], boomLine, l)
		}
	}
	if _, ok := failed["on_route"]; !ok {
		t.Errorf("no %q log line for script buggy, hook on_route (a malformed plan is an error)", scriptHookFail)
	}
	finishAppliance(t, a)
}

// startScripted makes the started UASes the callee trunks uas-a, uas-b,
// ... of the route (in that order), waits for them to listen, and starts
// trunkline with opts; it returns trunkline and its SIP address.
func startScripted(t *testing.T, dir string, o *outcome, opts applianceOpts, uases ...*sippRun) (*appliance, string) {
	t.Helper()
	var specs []trunkSpec
	for i, u := range uases {
		id := fmt.Sprintf("uas-%c", 'a'+i)
		o.callees = append(o.callees, &calleeRun{id: id, ip: u.ip, port: u.port, transport: "udp", sipp: u})
		specs = append(specs, trunkSpec{id: id, ip: u.ip, port: u.port, transport: "udp"})
	}
	for _, u := range uases {
		u.waitListening(t)
	}
	a := startApplianceWith(t, dir, opts, func(*appliance) []trunkSpec { return specs })
	o.appliance = a
	// Every script compiled and loaded: a refusal would otherwise show
	// only as a call that behaves as if it had none.
	for _, sc := range opts.scripts {
		loaded := false
		for _, l := range logEntries(a) {
			if l.str("scriptId") != sc.id {
				continue
			}
			switch l.str("msg") {
			case "script loaded":
				loaded = true
			case "script not loaded":
				t.Fatalf("trunkline did not load script %s: %s", sc.id, l.str("error"))
			}
		}
		if !loaded {
			t.Errorf("no %q log line for script %s", "script loaded", sc.id)
		}
	}
	return a, fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)
}

// runScriptCall places one call of uac_call_route_order.xml from the caller
// trunk to number with X-Route-Order: order.
func runScriptCall(t *testing.T, dir string, o *outcome, label, remote, number, order string) *sippRun {
	t.Helper()
	r := runUAC(t, dir, label, uacCallRouteOrder, callerIP, remote, number, 0, "-key", "route_order", order)
	o.calls = append(o.calls, r)
	return r
}

// checkStamped asserts that every INVITE the UAS received carries each of
// headers exactly once, with the value given.
func checkStamped(t *testing.T, uas *sippRun, headers map[string]string) {
	t.Helper()
	invs := uas.requestsReceived("INVITE")
	if len(invs) == 0 {
		t.Errorf("%s received no INVITE", uas.label)
	}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, inv := range invs {
		for _, name := range names {
			if got := inv.Headers(name); len(got) != 1 || got[0] != headers[name] {
				t.Errorf("%s's INVITE carries %s %q, want exactly one, %q:\n%s", uas.label, name, got, headers[name], indent(inv.Text, "    "))
			}
		}
	}
}

// checkNoLuaErrors asserts that no hook failed: every
// trunkline_lua_errors_total series is 0.
func checkNoLuaErrors(t *testing.T, a *appliance) {
	t.Helper()
	m, err := a.metrics()
	if err != nil {
		t.Errorf("GET /metrics: %v", err)
		return
	}
	for k, v := range luaErrorSeries(m) {
		if v != 0 {
			t.Errorf("%s = %v, want no hook failure", k, v)
		}
	}
	for _, l := range logEntries(a) {
		if l.str("msg") == scriptHookFail {
			t.Errorf("trunkline logged a hook failure: %v", l)
		}
	}
}

// luaErrorSeries are the trunkline_lua_errors_total series of a /metrics
// read.
func luaErrorSeries(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "trunkline_lua_errors_total") {
			out[k] = v
		}
	}
	return out
}

// logEntry is one JSON line of trunkline's log, every field.
type logEntry map[string]any

func (l logEntry) str(key string) string { s, _ := l[key].(string); return s }

// logEntries parses trunkline's log so far (lines that are not JSON are
// skipped).
func logEntries(a *appliance) []logEntry {
	f, err := os.Open(a.proc.stderr)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		var l logEntry
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}
