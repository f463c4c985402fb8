package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// A route's own script and scripts replaced through the API (DESIGN §5,
// §6): a route that names a script (scriptId) runs it for its calls, from
// on_route on, after the global scripts, which still run; and a script
// PUT to /scripts/1/scripts/{id} is compiled, stored and hot-loaded, so
// that the next call runs the new version, while a source that does not
// compile is refused with 400 naming its line and changes nothing.

// Values of these tests.
const (
	versionHeader = "X-Version"
	pickedHeader  = "X-Picked" // the route script's on_attempt stamps it
	pickedValue   = "reversed"
	pickInvite    = "X-Pick-Invite" // the route script's on_invite would stamp it: it must not run
	reloadLimit   = 5 * time.Second // for a PUT script to be loaded
	scriptsPath   = "/scripts/1/scripts/"
	scriptLoaded  = "script loaded" // trunkline's log message
	textPlain     = "text/plain; charset=utf-8"
	badScriptLine = 4         // the line of scriptBroken that does not parse
	versionScript = "version" // the id of the hot-reload test's script
	pickScript    = "pick"    // the id of the route test's route script
	routeScriptOn = "route conformance: scriptId pick"
)

// scriptPick is the route's own script: its calls try the destinations
// last first, and each attempt says so. Its on_invite must never run (a
// route's script runs from on_route on: the route is not known before).
const scriptPick = `-- The route's own script: its calls try the destinations last first.
function on_invite(call)
  call:set_header("X-Pick-Invite", "ran")
end

function on_route(call, plan)
  local out = {}
  for i = #plan, 1, -1 do
    out[#out + 1] = plan[i]
  end
  return out
end

function on_attempt(call, attempt)
  call:set_header("X-Picked", "reversed")
end
`

// scriptVersion is a global script that stamps its version on every
// outbound INVITE.
func scriptVersion(v int) string {
	return fmt.Sprintf(`-- Version %d: every outbound INVITE says which version of the script ran.
function on_attempt(call, attempt)
  call:set_header("X-Version", "%d")
end
`, v, v)
}

// scriptBroken does not compile: line badScriptLine is no Lua.
const scriptBroken = `-- Version 3, with a typo: it does not compile.
function on_attempt(call, attempt)
  call:set_header("X-Version", "3")
  local x = = 3
end
`

// TestRouteScript: the route names script pick (scriptId), whose on_route
// reverses the plan; the route hunts uas-a (priority 1) then uas-b
// (priority 2), and both would answer. The call reaches uas-b, which
// answers, and never uas-a. The global tenant script of the same
// configuration still stamps X-Tenant on the INVITE (uas-b answers only
// with it), pick's on_attempt stamps X-Picked, each exactly once (pick
// runs once, not also as a global script), and pick's on_invite does not
// run.
func TestRouteScript(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua: a route's scriptId reverses its plan; a global script still runs", dir, o)

	first := startUASOnce(t, dir, "uas-a", uasAnswer, calleeIP(0), nil)
	second := startUASOnce(t, dir, "uas-b", uasAnswerTenant, calleeIP(1), nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		scripts:     []luaScript{{"tenant", scriptTenant}, {pickScript, scriptPick}},
		routeScript: pickScript,
	}, first, second)

	c := runScriptCall(t, dir, o, "uac", remote, calledNumber, "none")
	checkFinals(t, c, "INVITE", 200)
	second.finish(10 * time.Second)
	first.finish(0) // it must have had no call: stopped, not waited for
	if !second.ok() {
		t.Errorf("%s (%s) %s: its INVITE must carry %s: %s", second.label, second.scenario, second.status(), tenantHeader, tenantValue)
	}
	if n, m := len(first.requestsReceived("INVITE")), len(second.requestsReceived("INVITE")); n != 0 || m != 1 {
		t.Errorf("uas-a (priority 1) got %d INVITEs and uas-b (priority 2) %d, want 0 and 1 (%s reverses the plan)", n, m, routeScriptOn)
	}
	checkStamped(t, second, map[string]string{
		tenantHeader:  tenantValue, // the global script
		attemptHeader: "uas-b",
		pickedHeader:  pickedValue, // the route's script
	})
	for _, inv := range second.requestsReceived("INVITE") {
		if got := inv.Headers(pickInvite); len(got) != 0 {
			t.Errorf("uas-b's INVITE carries %s %q: the route script's on_invite ran, want it never to (a route's script runs from on_route on)", pickInvite, got)
		}
	}
	if in, out := callLegs(a, c); in == nil {
		t.Errorf("uac: no inbound call log in trunkline's log")
	} else if len(out) != 1 || out[0].Trunk != "uas-b" || out[0].SIPCode != 200 {
		t.Errorf("uac: outbound call logs %+v, want one, on uas-b, answered", out)
	}
	checkNoLuaErrors(t, a)
	finishAppliance(t, a)
}

// TestScriptHotReload: a global script stamps X-Version: 1 on every
// outbound INVITE. Call 1 carries 1. PUT /scripts/1/scripts/version (text/
// plain) with version 2 answers 200 with the source; once trunkline says
// the script is loaded again, call 2 carries 2. A PUT of a source that
// does not compile answers 400 naming its line; GET still gives version 2
// and call 3 still carries 2.
func TestScriptHotReload(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "Lua: PUT /scripts/1/scripts/{id} hot-loads a new version; one that does not compile is refused", dir, o)

	uas := startUASCalls(t, dir, "uas-a", uasAnswer, calleeIP(0), 3, nil)
	a, remote := startScripted(t, dir, o, applianceOpts{
		scripts: []luaScript{{versionScript, scriptVersion(1)}},
	}, uas)
	path := scriptsPath + versionScript

	c1 := runScriptCall(t, dir, o, "uac-v1", remote, calledNumber, "none")
	checkFinals(t, c1, "INVITE", 200)
	checkVersion(t, uas, 1, "1")

	v2 := scriptVersion(2)
	code, body, err := a.putScript(path, v2)
	switch {
	case err != nil:
		t.Fatalf("PUT %s: %v", path, err)
	case code != http.StatusOK:
		t.Fatalf("PUT %s (version 2) answered %d, want 200 (a replaced script): %s", path, code, body)
	case body != v2:
		t.Errorf("PUT %s (version 2) answered the body %q, want the stored source %q", path, body, v2)
	}
	// The store commits the change, then every node applies it: the
	// reload may come just after the 200, so wait for it (bounded).
	start := time.Now()
	atOnce := loadedCount(a, versionScript) >= 2
	switch {
	case atOnce:
		t.Logf("version 2 was loaded when the PUT answered")
	case !waitFor(reloadLimit, 10*time.Millisecond, func() bool { return loadedCount(a, versionScript) >= 2 }):
		t.Errorf("no second %q log line for script %s within %s of the PUT: not hot-loaded", scriptLoaded, versionScript, reloadLimit)
	default:
		t.Logf("version 2 was loaded %s after the PUT answered (asynchronously)", time.Since(start).Round(time.Millisecond))
	}

	c2 := runScriptCall(t, dir, o, "uac-v2", remote, calledNumber, "none")
	checkFinals(t, c2, "INVITE", 200)
	checkVersion(t, uas, 2, "2")

	code, body, err = a.putScript(path, scriptBroken)
	switch {
	case err != nil:
		t.Fatalf("PUT %s: %v", path, err)
	case code != http.StatusBadRequest:
		t.Errorf("PUT %s of a source that does not compile answered %d, want 400: %s", path, code, body)
	default:
		text := errorText(body)
		if want := fmt.Sprintf("line %d", badScriptLine); !strings.Contains(text, want) {
			t.Errorf("PUT %s of a source that does not compile: 400 with text %q, want it to name %q (the Lua line): %s", path, text, want, body)
		}
	}
	if code, body, err := a.get(path); err != nil || code != http.StatusOK || body != v2 {
		t.Errorf("GET %s after the refused PUT: %d %v %q, want 200 and version 2's source", path, code, err, body)
	}
	c3 := runScriptCall(t, dir, o, "uac-v2-again", remote, calledNumber, "none")
	checkFinals(t, c3, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	checkVersion(t, uas, 3, "2")
	if n := loadedCount(a, versionScript); n != 2 {
		t.Errorf("%d %q log lines for script %s, want 2 (the configuration's, version 2's)", n, scriptLoaded, versionScript)
	}
	checkNoLuaErrors(t, a)
	finishAppliance(t, a)
}

// checkVersion asserts that the UAS got n INVITEs so far, the last with
// exactly one X-Version, version.
func checkVersion(t *testing.T, uas *sippRun, n int, version string) {
	t.Helper()
	var invs []sipMsg
	// The UAS's trace is written as it goes: the INVITE of a call that
	// ended is in it, but give its write a moment.
	waitFor(2*time.Second, 20*time.Millisecond, func() bool {
		invs = invitesSoFar(uas)
		return len(invs) >= n
	})
	if len(invs) != n {
		t.Errorf("call %d: the callee got %d INVITEs in all, want %d", n, len(invs), n)
		return
	}
	inv := invs[n-1]
	if got := inv.Headers(versionHeader); len(got) != 1 || got[0] != version {
		t.Errorf("call %d: the callee's INVITE carries %s %q, want exactly one, %q:\n%s", n, versionHeader, got, version, indent(inv.Text, "    "))
	}
}

// invitesSoFar are the INVITEs the run received, in its trace so far (SIPp
// writes it as it goes), one per Call-ID: retransmissions left out.
func invitesSoFar(r *sippRun) []sipMsg {
	msgs := r.msgs
	if msgs == nil {
		msgs = readMessageLog(r.file("messages"))
	}
	var out []sipMsg
	seen := map[string]bool{}
	for _, m := range msgs {
		if !m.Sent && m.Code() == 0 && m.Method() == "INVITE" && !seen[m.Header("Call-ID")] {
			seen[m.Header("Call-ID")] = true
			out = append(out, m)
		}
	}
	return out
}

// loadedCount counts trunkline's "script loaded" log lines for script id.
func loadedCount(a *appliance, id string) int {
	return len(slices.DeleteFunc(logEntries(a), func(l logEntry) bool {
		return l.str("msg") != scriptLoaded || l.str("scriptId") != id
	}))
}

// putScript sends PUT path with a Lua source as text/plain (the API
// listens on loopback without tokens).
func (a *appliance) putScript(path, source string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s:%d%s", trunklineIP, a.apiPort, path), strings.NewReader(source))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", textPlain)
	res, err := a.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res.StatusCode, string(body), err
}

// errorText is the text of an API error body (DESIGN §5), or the body
// itself when it is not one.
func errorText(body string) string {
	var e struct {
		RequestError struct {
			ServiceException struct {
				Text string `json:"text"`
			} `json:"serviceException"`
		} `json:"requestError"`
	}
	if json.Unmarshal([]byte(body), &e) != nil || e.RequestError.ServiceException.Text == "" {
		return body
	}
	return e.RequestError.ServiceException.Text
}
