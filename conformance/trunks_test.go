package conformance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/trunkline/trunkline/internal/dnstest"
)

// Trunks in depth (DESIGN §3 sipTrunks and dns, §4.1, §4.4, §4.5): tests
// that need state across several calls of one trunkline — a trunk located
// through DNS SRV whose primary target dies, a trunk flooded beyond its
// cpsLimit — so they run outside the scenario table, each with a
// trunkline, SIPp processes and (for SRV) a DNS server of its own.

// The scenario files of these tests (TestScenarioFilesDocumented counts
// them as used).
const (
	uasAnswerOptions = "uas_answer_options.xml"
	uacCallOr503     = "uac_call_or_503.xml"
)

var standaloneScenarioFiles = slices.Concat([]string{uasAnswerOptions, uacCallOr503}, authScenarioFiles, scriptScenarioFiles)

// Bounds and settings of the trunk tests.
const (
	rerouteDelay  = 4 * time.Second                                           // DESIGN §4.5a: a silent attempt gives way after this
	downLimit     = 10 * time.Second                                          // for a polling state change to show in the log
	srvSIPOptions = "{enabled: true, interval: 1s, downAfter: 1, upAfter: 1}" // 1s: the least config/validate_trunk.go allows
	manyCalls     = 1000                                                      // -m of a SIPp UAS that the runner stops
	carrierDomain = "carrier.test"
	steadyIP      = "127.0.0.11" // a second caller trunk (callers: 127.0.0.10, callees: .2, .3, ...)
)

// TestSRVFailover: a trunk given as an FQDN with two SRV targets keeps
// calls flowing when the primary dies. Call 1 lands on the primary (SRV
// priority 10); the primary is then killed; call 2, placed at once, tries
// the silent primary, gives way to the backup after the re-routing delay
// and succeeds within one attempt; once OPTIONS polling has marked the
// primary's address out of service, call 3 goes straight to the backup.
// The primary comes back: polling marks it in service and call 4 lands on
// it. Both die: the trunk is out of service and call 5 is refused at once
// without an INVITE (TRUNK_DOWN).
func TestSRVFailover(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	if directMode() {
		runDirect(t, scenario{
			name:  "srv_failover",
			about: "the SRV targets' scenario answers OPTIONS and calls",
			direct: []pair{
				{name: "uac_call-uas_answer_options", call: answered(0), callee: callee{uas: uasAnswerOptions}},
				{name: "uac_options-uas_answer_options", call: call{uac: uacOptions, method: "OPTIONS", want: 200}, callee: callee{uas: uasAnswerOptions}},
			},
		})
		return
	}
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "SRV failover: primary SRV target dies; calls keep flowing on the backup", dir, o)

	primary := startUAS(t, dir, "uas-primary", 0)
	backup := startUAS(t, dir, "uas-backup", 1)
	o.callees = []*calleeRun{
		{id: "carrier", ip: primary.ip, port: primary.port, transport: "udp", sipp: primary},
		{id: "carrier", ip: backup.ip, port: backup.port, transport: "udp", sipp: backup},
	}
	srvName := "_sip._udp." + carrierDomain + "."
	ns := dnstest.Start(t,
		fmt.Sprintf("%s 1 IN SRV 10 10 %d primary.%s.", srvName, primary.port, carrierDomain),
		fmt.Sprintf("%s 1 IN SRV 20 10 %d backup.%s.", srvName, backup.port, carrierDomain),
		fmt.Sprintf("primary.%s. 1 IN A %s", carrierDomain, primary.ip),
		fmt.Sprintf("backup.%s. 1 IN A %s", carrierDomain, backup.ip),
	)
	ns.Exists(carrierDomain) // NAPTR: none, but the name exists
	primary.waitListening(t)
	backup.waitListening(t)

	a := startApplianceWith(t, dir, applianceOpts{dnsServers: []string{ns.Addr}}, func(*appliance) []trunkSpec {
		return []trunkSpec{{
			id: "carrier", host: carrierDomain, transport: "udp",
			sourceHosts: []string{primary.ip + "/32", backup.ip + "/32"},
			sipOptions:  srvSIPOptions,
		}}
	})
	o.appliance = a
	remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)
	primaryAddr := fmt.Sprintf("%s:%d", primary.ip, primary.port)

	// Call 1: the primary takes it.
	c1 := runCall(t, dir, "uac1", answered(0), "udp", remote)
	o.calls = append(o.calls, c1)
	o.wants = append(o.wants, answered(0))
	checkAnswered(t, c1)
	checkOneAttempt(t, a, c1, "carrier", 0, rerouteDelay/2)
	if n, m := invitesReceived(primary), invitesReceived(backup); n != 1 || m != 0 {
		t.Errorf("call 1: the primary (SRV priority 10) got %d INVITEs and the backup %d, want 1 and 0", n, m)
	}

	// The primary dies: its SIPp is killed, and a sink that answers
	// nothing takes its address, as a dead host would, to record what
	// still comes.
	primary.proc.kill()
	primary.killed = true
	killed := time.Now()
	dead := newSIPSink(t, primary.ip, primary.port, "udp")
	defer func() {
		if t.Failed() {
			t.Logf("received at the dead primary's address %s after its death: %q", primaryAddr, dead.snapshot())
		}
	}()

	// Call 2, at once: polling has not noticed yet, so the hunt tries the
	// silent primary, then the backup after the re-routing delay, within
	// the one attempt: the caller sees no failure.
	c2 := runCall(t, dir, "uac2", answered(0), "udp", remote)
	o.calls = append(o.calls, c2)
	o.wants = append(o.wants, answered(0))
	checkAnswered(t, c2)
	callerSawOnlyProvisionalsAnd200(t, c2)
	checkOneAttempt(t, a, c2, "carrier", rerouteDelay-500*time.Millisecond, rerouteDelay+4*time.Second)
	if n := countPrefix(dead.snapshot(), "INVITE "); n == 0 {
		t.Errorf("call 2 (placed %s after the primary died) never tried the dead primary: its address got only %q",
			c2.proc.start.Sub(killed).Round(time.Millisecond), dead.snapshot())
	}
	if n := invitesReceived(backup); n != 1 {
		t.Errorf("call 2: the backup got %d INVITEs, want 1", n)
	}
	if d, ok := setupTime(c2); ok && (d < rerouteDelay-500*time.Millisecond || d > rerouteDelay+4*time.Second) {
		t.Errorf("call 2 was answered %.2fs after its INVITE, want about %s (the silent primary, then the backup)",
			d.Seconds(), rerouteDelay)
	} else if ok {
		t.Logf("call 2 answered %.2fs after its INVITE (silent primary, then the backup)", d.Seconds())
	}

	// Polling marks the primary's address out of service (downAfter 1).
	down, ok := waitLog(a, killed, func(l logLine) bool {
		return l.Msg == "trunk address out of service" && l.SIPTrunkID == "carrier" && l.Addr == primaryAddr
	})
	if !ok {
		t.Fatalf("no %q log line for carrier %s within %s of the primary's death (sipOptions %s)",
			"trunk address out of service", primaryAddr, downLimit, srvSIPOptions)
	}
	t.Logf("primary %s marked out of service %.2fs after it died", primaryAddr, down.Time.Sub(killed).Seconds())
	for _, l := range logLines(a) {
		if l.Msg == "trunk out of service" && l.SIPTrunkID == "carrier" {
			t.Errorf("trunk carrier logged %q though its backup answers OPTIONS", l.Msg)
		}
	}
	checkTrunkStatus(t, a, "carrier", "IN_SERVICE", map[string]string{carrierDomain: "IN_SERVICE"})

	// Call 3 skips the primary: straight to the backup, well within the
	// re-routing delay, and nothing reaches the dead address but OPTIONS.
	before := countPrefix(dead.snapshot(), "INVITE ")
	c3 := runCall(t, dir, "uac3", answered(0), "udp", remote)
	o.calls = append(o.calls, c3)
	o.wants = append(o.wants, answered(0))
	checkAnswered(t, c3)
	callerSawOnlyProvisionalsAnd200(t, c3)
	checkOneAttempt(t, a, c3, "carrier", 0, rerouteDelay/2)
	if n := countPrefix(dead.snapshot(), "INVITE ") - before; n > 0 {
		t.Errorf("call 3 sent %d INVITEs to the primary that polling marked out of service", n)
	}
	if n := invitesReceived(backup); n != 2 {
		t.Errorf("after call 3 the backup got %d INVITEs, want 2", n)
	}
	if d, ok := setupTime(c3); ok {
		if d >= rerouteDelay/2 {
			t.Errorf("call 3 was answered %.2fs after its INVITE, want well under the %s re-routing delay: the primary out of service must be skipped",
				d.Seconds(), rerouteDelay)
		} else {
			t.Logf("call 3 answered %.2fs after its INVITE", d.Seconds())
		}
	}
	if got := countPrefix(dead.snapshot(), "OPTIONS "); got == 0 {
		t.Errorf("the dead primary's address received no OPTIONS: polling stopped probing it")
	}

	// RFC 3263 through the configured server.
	if n := ns.Count(srvName, dns.TypeSRV); n == 0 {
		t.Errorf("the DNS server got no SRV query for %s (queries: %v)", srvName, ns.Queries())
	}
	for _, h := range []string{"primary", "backup"} {
		if n := ns.Count(h+"."+carrierDomain+".", dns.TypeA); n == 0 {
			t.Errorf("the DNS server got no A query for %s.%s (queries: %v)", h, carrierDomain, ns.Queries())
		}
	}

	// The primary comes back on its address: polling marks it in service
	// again (upAfter 1) and call 4 lands on it, SRV priority first.
	// From before the sink goes: the first poll the revived UAS answers may
	// come as soon as it binds, before waitListening notices.
	back := time.Now()
	dead.close()
	revived := startUASAt(t, dir, "uas-primary2", primary.ip, primary.port)
	o.callees = append(o.callees, &calleeRun{id: "carrier", ip: revived.ip, port: revived.port, transport: "udp", sipp: revived})
	revived.waitListening(t)
	if _, ok := waitLog(a, back, func(l logLine) bool {
		return l.Msg == "trunk address in service" && l.SIPTrunkID == "carrier" && l.Addr == primaryAddr
	}); !ok {
		t.Fatalf("no %q log line for carrier %s within %s of its return", "trunk address in service", primaryAddr, downLimit)
	}
	c4 := runCall(t, dir, "uac4", answered(0), "udp", remote)
	o.calls = append(o.calls, c4)
	o.wants = append(o.wants, answered(0))
	checkAnswered(t, c4)
	checkOneAttempt(t, a, c4, "carrier", 0, rerouteDelay/2)
	if n, m := invitesReceived(revived), invitesReceived(backup); n != 1 || m != 2 {
		t.Errorf("call 4: the returned primary got %d INVITEs and the backup %d in all, want 1 and 2", n, m)
	}

	// Both targets die: the trunk is out of service (all addresses down)
	// and routing skips it (TRUNK_DOWN): call 5 is refused at once and no
	// INVITE goes anywhere.
	revived.proc.kill()
	backup.proc.kill()
	revived.killed, backup.killed = true, true
	allDead := time.Now()
	deadP := newSIPSink(t, primary.ip, primary.port, "udp")
	deadB := newSIPSink(t, backup.ip, backup.port, "udp")
	if _, ok := waitLog(a, allDead, func(l logLine) bool {
		return l.Msg == "trunk out of service" && l.SIPTrunkID == "carrier"
	}); !ok {
		t.Fatalf("no %q log line for carrier within %s of both targets' death", "trunk out of service", downLimit)
	}
	checkTrunkStatus(t, a, "carrier", "OUT_OF_SERVICE", map[string]string{carrierDomain: "OUT_OF_SERVICE"})
	c5 := runCall(t, dir, "uac5", call{uac: uacReject}, "udp", remote)
	o.calls = append(o.calls, c5)
	o.wants = append(o.wants, call{uac: uacReject})
	if code := c5.finalCode("INVITE"); code < 400 || !c5.ok() {
		t.Errorf("call 5 to the trunk out of service: final response %d (%s), want an error response", code, c5.status())
	}
	if inv, ok := c5.firstSent("INVITE "); ok {
		for _, m := range c5.received() {
			if m.Code() >= 400 && m.At.Sub(inv.At) > time.Second {
				t.Errorf("call 5 was refused %.2fs after its INVITE, want at once: the trunk out of service is skipped, not tried", m.At.Sub(inv.At).Seconds())
			}
		}
	}
	for _, sk := range []*sipSink{deadP, deadB} {
		if n := countPrefix(sk.snapshot(), "INVITE "); n > 0 {
			t.Errorf("call 5 sent %d INVITEs to a target of the trunk out of service: %q", n, sk.snapshot())
		}
	}
	if in, _ := callLegs(a, c5); in == nil {
		t.Errorf("uac5: no inbound call log in trunkline's log")
	} else if !slices.ContainsFunc(in.Decision.Skipped, func(s skip) bool { return s.SIPTrunkID == "carrier" && s.Reason == "TRUNK_DOWN" }) ||
		len(in.Decision.Attempts) != 0 {
		t.Errorf("uac5: route decision attempts %v, skipped %+v; want no attempt and carrier skipped as TRUNK_DOWN (DESIGN §4.4)",
			in.Decision.Attempts, in.Decision.Skipped)
	}

	for _, r := range []*sippRun{primary, revived, backup} {
		r.msgs = readMessageLog(r.file("messages"))
	}
	checkSIPpErrors(t, primary, revived, backup)
	finishAppliance(t, a)
}

// TestCPSLimitFlood: a caller trunk with cpsLimit 5 flooded at 30 calls/s
// gets 503 with Retry-After: 1 beyond its token bucket (burst one second's
// worth, DESIGN §4.1) while another caller trunk, unlimited, places its
// calls at the same time, every one answered.
func TestCPSLimitFlood(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	if directMode() {
		runDirect(t, scenario{
			name:   "cps_limit_flood",
			about:  "the flood caller's scenario completes an answered call",
			direct: []pair{{name: "uac_call_or_503-uas_answer_options", call: call{uac: uacCallOr503, want: 200}, callee: callee{uas: uasAnswerOptions}}},
		})
		return
	}
	const (
		cpsLimit   = 5
		floodRate  = 30
		floodCalls = 60 // 2 s
		steadyRate = 5
		steadyN    = 10 // 2 s, alongside the flood
	)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, fmt.Sprintf("cpsLimit %d: a flood at %d calls/s on one caller trunk, %d calls/s on another",
		cpsLimit, floodRate, steadyRate), dir, o)

	callee := startUAS(t, dir, "uas-a", 0)
	o.callees = []*calleeRun{{id: "uas-a", ip: callee.ip, port: callee.port, transport: "udp", sipp: callee}}
	callee.waitListening(t)
	a := startApplianceWith(t, dir, applianceOpts{callers: []callerTrunk{
		{id: "flood", ip: callerIP, cpsLimit: cpsLimit},
		{id: "steady", ip: steadyIP},
	}}, func(*appliance) []trunkSpec {
		return []trunkSpec{{id: "uas-a", ip: callee.ip, port: callee.port, transport: "udp"}}
	})
	o.appliance = a
	remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)

	flood := startUAC(t, dir, "uac-flood", callerIP, remote, floodCalls, floodRate)
	steady := startUAC(t, dir, "uac-steady", steadyIP, remote, steadyN, steadyRate)
	o.calls = []*sippRun{flood, steady}
	flood.finish(uacLimit + 5*time.Second)
	steady.finish(uacLimit + 5*time.Second)

	fl := tally(flood)
	st := tally(steady)
	t.Logf("flood (cpsLimit %d): %d calls over %.2fs: %d answered, %d refused with 503; steady: %d answered of %d",
		cpsLimit, len(fl.final), fl.span.Seconds(), fl.count(200), fl.count(503), st.count(200), steadyN)
	for _, r := range []*sippRun{flood, steady} {
		if !r.ok() {
			t.Errorf("%s (%s) %s", r.label, r.scenario, r.status())
		}
	}

	// The flood: every call answered or refused; no more answered than the
	// bucket holds over the time the INVITEs took (burst + rate × span),
	// and hardly fewer, since INVITEs arrive far faster than tokens.
	if got := len(fl.final); got != floodCalls {
		t.Errorf("the flood got a final response to %d of its %d INVITEs", got, floodCalls)
	}
	for code, n := range fl.codes() {
		if code != 200 && code != 503 {
			t.Errorf("the flood got %d × %d, want only 200 or 503", n, code)
		}
	}
	budget := cpsLimit + cpsLimit*fl.span.Seconds()
	maxOK := int(math.Floor(budget)) + 1
	minOK := max(int(math.Floor(budget))-3, cpsLimit)
	switch ok := fl.count(200); {
	case ok > maxOK:
		t.Errorf("the flood got %d calls answered in %.2fs, want at most %d (cpsLimit %d: a burst of %d, then %d/s)",
			ok, fl.span.Seconds(), maxOK, cpsLimit, cpsLimit, cpsLimit)
	case ok < minOK:
		t.Errorf("the flood got %d calls answered in %.2fs, want at least %d (cpsLimit %d: a burst of %d, then %d/s)",
			ok, fl.span.Seconds(), minOK, cpsLimit, cpsLimit, cpsLimit)
	}
	if fl.span <= 2500*time.Millisecond {
		if n := fl.count(503); n < 30 {
			t.Errorf("the flood got %d 503s, want at least 30 of %d calls at %d/s over cpsLimit %d", n, floodCalls, floodRate, cpsLimit)
		}
		if n := fl.count(200); n > 20 {
			t.Errorf("the flood got %d calls answered, want at most 20", n)
		}
	} else {
		t.Logf("SIPp took %.2fs to place the flood (2s planned): the bounds follow the time taken", fl.span.Seconds())
	}
	for _, m := range fl.refusals {
		if ra := m.Headers("Retry-After"); len(ra) != 1 || ra[0] != "1" {
			t.Errorf("a 503 to the flood carries Retry-After %q, want exactly \"1\" (DESIGN §4.1):\n%s", ra, indent(m.Text, "    "))
			break
		}
	}

	// The other trunk keeps working.
	if ok := st.count(200); ok != steadyN || len(st.final) != steadyN {
		t.Errorf("the steady trunk (no cpsLimit) got %d of its %d calls answered (final responses: %v), want every one",
			ok, steadyN, st.codes())
	}

	// Each refusal is logged against the flooding trunk, none against the
	// other.
	refused := map[string]int{}
	for _, l := range logLines(a) {
		if l.Msg == "sip request refused" && l.Code == 503 {
			refused[l.Trunk]++
		}
	}
	if refused["flood"] != fl.count(503) || refused["steady"] != 0 {
		t.Errorf("trunkline logged 503 refusals per trunk %v, want flood: %d (the 503s the flood got), steady: 0", refused, fl.count(503))
	}

	// Only the admitted calls reached the callee.
	callee.proc.stopWithin(syscall.SIGTERM, sippStopWait)
	callee.msgs = readMessageLog(callee.file("messages"))
	if got, want := invitesReceived(callee), fl.count(200)+st.count(200); got != want {
		t.Errorf("the callee got %d INVITEs, want %d (the answered calls of both trunks)", got, want)
	}
	checkSIPpErrors(t, callee)
	finishAppliance(t, a)
}

// startUAS starts a SIPp UAS playing uas_answer_options.xml, the i-th
// callee address, taking calls until the runner stops it.
func startUAS(t *testing.T, dir, label string, i int) *sippRun {
	t.Helper()
	return startUASAt(t, dir, label, calleeIP(i), ports.one(t))
}

// startUASAt is startUAS on a given address.
func startUASAt(t *testing.T, dir, label, ip string, port int) *sippRun {
	t.Helper()
	r := &sippRun{
		label: label, scenario: uasAnswerOptions, ip: ip, port: port, transport: "udp",
		mediaPort: ports.block(t, mediaBlock), dir: dir, calls: manyCalls,
	}
	r.probe = newRTPProbe(t, r.ip, r.mediaPort+4, true)
	startSIPp(t, r, "", nil)
	return r
}

// startUAC starts a SIPp UAC playing uac_call_or_503.xml from ip: calls
// calls at rate per second.
func startUAC(t *testing.T, dir, label, ip, remote string, calls, rate int) *sippRun {
	t.Helper()
	r := &sippRun{
		label: label, scenario: uacCallOr503, ip: ip, port: ports.one(t), transport: "udp",
		mediaPort: ports.block(t, mediaBlock), dir: dir, remote: remote, calls: calls,
	}
	startSIPp(t, r, calledNumber, []string{"-r", fmt.Sprint(rate)})
	return r
}

// checkAnswered asserts that a single call's UAC ran to the end with 200.
func checkAnswered(t *testing.T, r *sippRun) {
	t.Helper()
	if !r.ok() {
		t.Errorf("%s (%s) %s", r.label, r.scenario, r.status())
	}
	if got := r.finalCode("INVITE"); got != 200 {
		t.Errorf("%s: final response to INVITE = %d, want 200 (responses: %v)", r.label, got, r.responseCodes("INVITE"))
	}
}

// callerSawOnlyProvisionalsAnd200: a failover inside the attempt is
// invisible to the caller.
func callerSawOnlyProvisionalsAnd200(t *testing.T, r *sippRun) {
	t.Helper()
	for _, c := range r.responseCodes("INVITE") {
		if c != 100 && c != 180 && c != 183 && c != 200 {
			t.Errorf("%s received %d to its INVITE; the failover must be invisible (only 100/180/183/200)", r.label, c)
		}
	}
}

// setupTime is how long the call's first INVITE waited for its 200.
func setupTime(r *sippRun) (time.Duration, bool) {
	inv, ok := r.firstSent("INVITE ")
	if !ok {
		return 0, false
	}
	for _, m := range r.received() {
		if m.Code() == 200 && m.Method() == "INVITE" {
			return m.At.Sub(inv.At), true
		}
	}
	return 0, false
}

// invitesReceived counts the distinct INVITEs (Call-IDs, so
// retransmissions count once) in the run's message trace so far; SIPp
// writes the trace as it goes.
func invitesReceived(r *sippRun) int {
	msgs := r.msgs
	if msgs == nil {
		msgs = readMessageLog(r.file("messages"))
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		if !m.Sent && m.Code() == 0 && m.Method() == "INVITE" {
			ids[m.Header("Call-ID")] = true
		}
	}
	return len(ids)
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// callTally is the outcome of each call of a many-call UAC run.
type callTally struct {
	final    map[string]int // Call-ID -> first final response to its INVITE
	refusals []sipMsg       // the 503s (first per call)
	span     time.Duration  // from the first INVITE sent to the last
}

func tally(r *sippRun) callTally {
	c := callTally{final: map[string]int{}}
	var first, last time.Time
	for _, m := range r.msgs {
		if m.Sent && m.Code() == 0 && m.Method() == "INVITE" {
			if first.IsZero() {
				first = m.At
			}
			last = m.At
		}
		if m.Sent || m.Code() < 200 || m.Method() != "INVITE" {
			continue
		}
		id := m.Header("Call-ID")
		if _, seen := c.final[id]; seen {
			continue
		}
		c.final[id] = m.Code()
		if m.Code() == 503 {
			c.refusals = append(c.refusals, m)
		}
	}
	c.span = last.Sub(first)
	return c
}

func (c callTally) count(code int) int {
	n := 0
	for _, v := range c.final {
		if v == code {
			n++
		}
	}
	return n
}

func (c callTally) codes() map[int]int {
	out := map[int]int{}
	for _, v := range c.final {
		out[v]++
	}
	return out
}

// checkSIPpErrors asserts that SIPp runs the runner stopped logged no
// scenario error (an unexpected message, a failed check): their exit code
// says nothing, since they were stopped.
func checkSIPpErrors(t *testing.T, runs ...*sippRun) {
	t.Helper()
	for _, r := range runs {
		b, err := os.ReadFile(r.file("errors"))
		if err != nil {
			continue // SIPp writes the file on the first error
		}
		var errs []string
		for _, l := range strings.Split(string(b), "\n") {
			// SIPp's own timing notes are no scenario errors.
			if strings.Contains(l, "Overload warning") || strings.TrimSpace(l) == "" ||
				strings.HasPrefix(l, "The following events occurred") {
				continue
			}
			errs = append(errs, l)
		}
		if len(errs) > 0 {
			t.Errorf("%s (%s) logged errors:\n%s", r.label, r.scenario, indent(strings.Join(errs, "\n"), "    "))
		}
	}
}

// finishAppliance waits for trunkline to have no call, stops it and
// asserts a clean exit (DESIGN §2) without a data race.
func finishAppliance(t *testing.T, a *appliance) {
	t.Helper()
	m, idle, err := a.waitIdle()
	a.stop()
	switch {
	case err != nil:
		t.Errorf("GET /metrics: %v", err)
	case !idle:
		t.Errorf("trunkline_calls_active = %v %s after every SIPp ended, want 0", m["trunkline_calls_active"], idleLimit)
	}
	if !a.exitedOK {
		t.Errorf("trunkline serve %s, want exit 0 after a drain (DESIGN §2)", a.stopNote)
	}
	if b, err := os.ReadFile(a.proc.stderr); err == nil && strings.Contains(string(b), "WARNING: DATA RACE") {
		t.Errorf("trunkline (built with -race) reported a data race; see %s", a.proc.stderr)
	}
}

// logLine is what the tests read of one JSON line of trunkline's log.
type logLine struct {
	Time       time.Time `json:"time"`
	Level      string    `json:"level"`
	Msg        string    `json:"msg"`
	SIPTrunkID string    `json:"sipTrunkId"`
	Addr       string    `json:"addr"`
	Host       string    `json:"host"`
	State      string    `json:"state"`
	Trunk      string    `json:"trunk"`  // "sip request refused"
	Code       int       `json:"code"`   // "sip request refused"
	CallID     string    `json:"callId"` // "sip request refused"
	CallLog    *callLog  `json:"callLog"`
}

// callLog is what the tests read of a "call leg" line (DESIGN §4.8).
type callLog struct {
	SIPCallID  string    `json:"sipCallId"`
	DialogID   string    `json:"dialogId"`
	Leg        string    `json:"leg"`
	Attempt    int       `json:"attempt"`
	Trunk      string    `json:"trunk"`
	StartTime  time.Time `json:"startTime"`
	AnswerTime time.Time `json:"answerTime"`
	SIPCode    int       `json:"sipCode"`
	Decision   struct {
		Attempts []json.RawMessage `json:"attempts"`
		Skipped  []skip            `json:"skipped"`
	} `json:"decision"` // the inbound leg's route decision trace
}

type skip struct {
	SIPTrunkID string `json:"sipTrunkId"`
	Reason     string `json:"reason"`
}

// waitLog waits up to downLimit for a line of trunkline's log at or after
// since that matches.
func waitLog(a *appliance, since time.Time, match func(logLine) bool) (logLine, bool) {
	var found logLine
	ok := waitFor(downLimit, 50*time.Millisecond, func() bool {
		for _, l := range logLines(a) {
			if !l.Time.Before(since) && match(l) {
				found = l
				return true
			}
		}
		return false
	})
	return found, ok
}

// callLegs waits (bounded) for the call logs of a call placed by a
// single-call UAC: its inbound leg, found by the UAC's Call-ID, and the
// outbound legs of the same dialog.
func callLegs(a *appliance, uac *sippRun) (in *callLog, out []callLog) {
	inv, ok := uac.firstSent("INVITE ")
	if !ok {
		return nil, nil
	}
	id := inv.Header("Call-ID")
	waitFor(2*time.Second, 50*time.Millisecond, func() bool {
		in, out = nil, nil
		lines := logLines(a)
		for _, l := range lines {
			if l.CallLog != nil && l.CallLog.Leg == "A" && l.CallLog.SIPCallID == id {
				in = l.CallLog
			}
		}
		if in == nil {
			return false
		}
		if in.DialogID == "" {
			return true // never connected: no dialog to find outbound legs by
		}
		for _, l := range lines {
			if l.CallLog != nil && l.CallLog.Leg == "B" && l.CallLog.DialogID == in.DialogID {
				out = append(out, *l.CallLog)
			}
		}
		return len(out) > 0
	})
	return in, out
}

// checkOneAttempt asserts that the call's log shows one outbound attempt,
// on trunk, answered within [least, most] of its start.
func checkOneAttempt(t *testing.T, a *appliance, uac *sippRun, trunk string, least, most time.Duration) {
	t.Helper()
	in, out := callLegs(a, uac)
	switch {
	case in == nil:
		t.Errorf("%s: no inbound call log in trunkline's log", uac.label)
		return
	case len(out) != 1:
		t.Errorf("%s: %d outbound call logs for dialog %s, want exactly 1 (one attempt): %+v", uac.label, len(out), in.DialogID, out)
		return
	}
	b := out[0]
	if b.Trunk != trunk || b.Attempt != 0 || b.SIPCode != 200 {
		t.Errorf("%s: outbound leg on trunk %q, attempt %d, code %d; want trunk %s, attempt 0, 200", uac.label, b.Trunk, b.Attempt, b.SIPCode, trunk)
	}
	if d := b.AnswerTime.Sub(b.StartTime); d < least || d > most {
		t.Errorf("%s: its one attempt was answered %.2fs after it started (call log), want %s..%s", uac.label, d.Seconds(), least, most)
	}
}

// logLines parses trunkline's log so far (lines that are not JSON are
// skipped).
func logLines(a *appliance) []logLine {
	f, err := os.Open(a.proc.stderr)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// checkTrunkStatus asserts GET /calls/1/sip-trunks/{id}/status: the
// trunk's optionsStatus and each host's status.
func checkTrunkStatus(t *testing.T, a *appliance, id, options string, hosts map[string]string) {
	t.Helper()
	code, body, err := a.get("/calls/1/sip-trunks/" + id + "/status")
	if err != nil || code != 200 {
		t.Errorf("GET /calls/1/sip-trunks/%s/status: %d %v %s", id, code, err, body)
		return
	}
	var st struct {
		OptionsStatus string `json:"optionsStatus"`
		Hosts         []struct {
			Host   string `json:"host"`
			Status string `json:"status"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Errorf("GET /calls/1/sip-trunks/%s/status: %v: %s", id, err, body)
		return
	}
	if st.OptionsStatus != options {
		t.Errorf("trunk %s: optionsStatus %q, want %q (%s)", id, st.OptionsStatus, options, body)
	}
	for host, want := range hosts {
		i := slices.IndexFunc(st.Hosts, func(h struct {
			Host   string `json:"host"`
			Status string `json:"status"`
		}) bool {
			return h.Host == host
		})
		if i < 0 {
			t.Errorf("trunk %s: no host %q in %s", id, host, body)
		} else if st.Hosts[i].Status != want {
			t.Errorf("trunk %s host %s: status %q, want %q (%s)", id, host, st.Hosts[i].Status, want, body)
		}
	}
}
