package conformance

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Trunk security (DESIGN §3 sipTrunks: type, inboundAuth, outboundAuth,
// accessCode, internationalCallsAllowed; §4.1): peers identified by digest
// credentials rather than by source (AUTHENTICATED), peers that register
// (REGISTERED), access codes, credentials trunkline answers a callee's
// challenge with, and the refusal of international calls. Each test runs
// its own trunkline and SIPps, in parallel with the rest of the suite.
//
// SIPp 3.6.1 computes MD5 digests only, and its [authentication] reads the
// first algorithm= of all the challenge headers of a 401/407 joined
// together; trunkline offers SHA-256 first and MD5 second (RFC 8760 §2.4),
// so SIPp answering trunkline's challenge exits with "createAuthHeader:
// authentication must use MD5 or AKAv1-MD5". The SIPps that authenticate
// therefore send through a challengeFilter (-rsa), which drops the SHA-256
// challenges on the way back, as an MD5-only client ignores them; the tests
// assert what trunkline offered before the filter.

// The scenario files of these tests (TestScenarioFilesDocumented counts
// them as used).
const (
	uacAuthCall  = "uac_auth_call.xml"
	uacCallKeyed = "uac_call_keyed.xml"
	uacRegister  = "uac_register.xml"
	uasChallenge = "uas_challenge.xml"
)

var authScenarioFiles = []string{uacAuthCall, uacCallKeyed, uacRegister, uasChallenge}

// Addresses of the auth tests: sources no STATIC trunk owns.
const (
	authIP     = "127.0.0.21" // the SIPp of the AUTHENTICATED trunk, and its relay
	registerIP = "127.0.0.22" // the SIPps of the REGISTERED trunk (REGISTER, UAS), and the relay
)

// Credentials of the auth tests; the outbound ones are also in
// uas_challenge.xml's -key arguments, its realm and nonces in the file.
var (
	pbxAuth      = credentials{"pbx-a", "pbx-a-secret"}
	registerAuth = credentials{"pbx-reg", "pbx-reg-secret"}
	outboundAuth = credentials{"trunkline-out", "out-secret"}
)

const (
	challengeRealm = "conformance"         // uas_challenge.xml
	challengeNonce = "conformance-nonce-1" // its first challenge's nonce
	accessCode     = "8642"
	ukMobile       = "447700900123" // the caller of TestInternationalCalls (+44)
	deBerlin       = "4930123456"   // +49: international from ukMobile
	ukLondon       = "442071234567" // +44: domestic from ukMobile
)

// TestInboundDigestAuth: a peer of an AUTHENTICATED trunk, from a source
// no STATIC trunk owns, is challenged with 407 (SHA-256 and MD5, realm
// "trunkline"); a wrong password gets 403 and no INVITE reaches the
// callee; the right one is routed and the call completes.
func TestInboundDigestAuth(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "inbound digest: an AUTHENTICATED trunk's peer answers the 407", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswer, calleeIP(0), nil)
	o.callees = []*calleeRun{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp", sipp: uas}}
	uas.waitListening(t)
	a := startApplianceWith(t, dir, applianceOpts{callers: []callerTrunk{{
		id: "pbx", trunkAuth: trunkAuth{typ: "AUTHENTICATED", inboundAuth: &pbxAuth},
	}}}, func(*appliance) []trunkSpec {
		return []trunkSpec{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp"}}
	})
	o.appliance = a
	remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)
	relay := newChallengeFilter(t, authIP, ports.one(t), remote)
	// SIPp's digest uri is sip:<remote address> unless -auth_uri says
	// otherwise; trunkline wants the Request-URI (RFC 3261 §22.4).
	authURI := calledNumber + "@" + remote

	// Wrong password: 407, then 403, and nothing reaches the callee.
	start := time.Now()
	wrong := runUAC(t, dir, "uac-wrong", uacAuthCall, authIP, remote, calledNumber, 0,
		"-au", pbxAuth.username, "-ap", "not-"+pbxAuth.password, "-rsa", relay.addr(), "-auth_uri", authURI)
	o.calls = append(o.calls, wrong)
	checkFinals(t, wrong, "INVITE", 407, 403)
	if n := invitesReceived(uas); n != 0 {
		t.Errorf("the callee got %d INVITEs after credentials with a wrong password, want none", n)
	}
	if _, ok := waitLog(a, start, func(l logLine) bool { return l.Msg == "sip credentials refused" }); !ok {
		t.Errorf("no %q log line for the wrong password", "sip credentials refused")
	}

	// The right password: 407, then the call.
	right := runUAC(t, dir, "uac", uacAuthCall, authIP, remote, calledNumber, 0,
		"-au", pbxAuth.username, "-ap", pbxAuth.password, "-rsa", relay.addr(), "-auth_uri", authURI)
	o.calls = append(o.calls, right)
	checkFinals(t, right, "INVITE", 407, 200)
	checkAuthorized(t, right, "Proxy-Authorization", pbxAuth.username, "trunkline")
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	if n := invitesReceived(uas); n != 1 {
		t.Errorf("the callee got %d INVITEs, want 1 (the authenticated call's)", n)
	}
	relay.checkOffered(t, "Proxy-Authenticate", 2)
	finishAppliance(t, a)
}

// TestRegisteredTrunk: a call routed to a REGISTERED trunk (no
// destinationHosts) fails with 480 while nothing is registered; then its
// peer registers (401, then 200 with credentials, the contact listed) and
// the next call reaches the registered contact, a SIPp UAS.
func TestRegisteredTrunk(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "REGISTERED trunk: register with digest, then take a call", dir, o)

	uas := startUASOnce(t, dir, "uas-reg", uasAnswer, registerIP, nil)
	uas.waitListening(t)
	a := startApplianceWith(t, dir, applianceOpts{}, func(*appliance) []trunkSpec {
		return []trunkSpec{{id: "pbx-reg", transport: "udp",
			trunkAuth: trunkAuth{typ: "REGISTERED", inboundAuth: &registerAuth}}}
	})
	o.appliance = a
	remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)

	early := runUAC(t, dir, "uac-early", uacReject, callerIP, remote, calledNumber, 0)
	o.calls = append(o.calls, early)
	checkFinals(t, early, "INVITE", 480)

	relay := newChallengeFilter(t, registerIP, ports.one(t), remote)
	reg := runUAC(t, dir, "register", uacRegister, registerIP, remote, registerAuth.username, 0,
		"-au", registerAuth.username, "-ap", registerAuth.password, "-rsa", relay.addr(),
		"-key", "contact_port", strconv.Itoa(uas.port))
	o.calls = append(o.calls, reg)
	checkFinals(t, reg, "REGISTER", 401, 200)
	checkAuthorized(t, reg, "Authorization", registerAuth.username, "trunkline")
	relay.checkOffered(t, "WWW-Authenticate", 1)
	for _, m := range reg.received() {
		if m.Code() == 200 && !strings.Contains(m.Header("Contact"), fmt.Sprintf("@%s:%d", registerIP, uas.port)) {
			t.Errorf("the REGISTER's 200 lists Contact %q, want the registered one (port %d)", m.Header("Contact"), uas.port)
		}
	}

	call := runUAC(t, dir, "uac", uacCall, callerIP, remote, calledNumber, 0)
	o.calls = append(o.calls, call)
	checkFinals(t, call, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("the registered contact's UAS: %s", uas.status())
	}
	finishAppliance(t, a)
}

// TestAccessCode: a trunk with an accessCode takes initial INVITEs that
// carry it in X-Access-Code and refuses others with 403.
func TestAccessCode(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "accessCode: X-Access-Code right and wrong", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswer, calleeIP(0), nil)
	o.callees = []*calleeRun{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp", sipp: uas}}
	uas.waitListening(t)
	a := startApplianceWith(t, dir, applianceOpts{callers: []callerTrunk{{
		id: "caller", ip: callerIP, trunkAuth: trunkAuth{accessCode: accessCode},
	}}}, func(*appliance) []trunkSpec {
		return []trunkSpec{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp"}}
	})
	o.appliance = a
	remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)

	wrong := runUAC(t, dir, "uac-wrong", uacCallKeyed, callerIP, remote, calledNumber, 0,
		"-key", "from_user", "1000", "-key", "access_code", "1357")
	o.calls = append(o.calls, wrong)
	checkFinals(t, wrong, "INVITE", 403)
	if n := invitesReceived(uas); n != 0 {
		t.Errorf("the callee got %d INVITEs after a wrong access code, want none", n)
	}

	right := runUAC(t, dir, "uac", uacCallKeyed, callerIP, remote, calledNumber, 0,
		"-key", "from_user", "1000", "-key", "access_code", accessCode)
	o.calls = append(o.calls, right)
	checkFinals(t, right, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	invs := uas.requestsReceived("INVITE")
	if len(invs) != 1 {
		t.Errorf("the callee got %d INVITEs, want 1 (the call with the right code)", len(invs))
	}
	for _, m := range invs {
		if v := m.Header(accessCodeHeader); v != "" {
			t.Errorf("the caller's access code reached the callee: %s: %s", accessCodeHeader, v)
		}
	}
	finishAppliance(t, a)
}

const accessCodeHeader = "X-Access-Code"

// TestOutboundDigestAuth: a callee trunk challenges trunkline's INVITE with
// 401; trunkline ACKs it and sends the INVITE again in the same Call-ID
// with the next CSeq and the trunk's outboundAuth credentials, which the
// callee's verifyauth accepts: the caller's call completes and the caller
// never sees the challenge. With a wrong password the callee challenges
// again, and trunkline gives up the attempt: the caller gets 500.
func TestOutboundDigestAuth(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	for _, tc := range []struct {
		name     string
		password string
		want     int
	}{
		{"right_password", outboundAuth.password, 200},
		{"wrong_password", "not-" + outboundAuth.password, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := workDir(t)
			o := &outcome{}
			defer reportOnFailure(t, "outboundAuth: the callee trunk challenges with 401 ("+tc.name+")", dir, o)

			uas := startUASOnce(t, dir, "uas-a", uasChallenge, calleeIP(0),
				[]string{"-key", "auth_user", outboundAuth.username, "-key", "auth_password", outboundAuth.password})
			o.callees = []*calleeRun{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp", sipp: uas}}
			uas.waitListening(t)
			a := startApplianceWith(t, dir, applianceOpts{}, func(*appliance) []trunkSpec {
				return []trunkSpec{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp",
					trunkAuth: trunkAuth{outboundAuth: &credentials{outboundAuth.username, tc.password}}}}
			})
			o.appliance = a
			remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)

			scenario := uacCall
			if tc.want != 200 {
				scenario = uacReject
			}
			c := runUAC(t, dir, "uac", scenario, callerIP, remote, calledNumber, 0)
			o.calls = append(o.calls, c)
			checkFinals(t, c, "INVITE", tc.want)
			for _, code := range c.responseCodes("INVITE") {
				if code == 401 || code == 407 {
					t.Errorf("the caller received the callee's %d: the challenge is trunkline's to answer", code)
				}
			}
			uas.finish(10 * time.Second)
			if !uas.ok() {
				t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
			}
			checkChallengeAnswered(t, uas, tc.want == 200)
			finishAppliance(t, a)
		})
	}
}

// TestInternationalCalls: a caller trunk with internationalCallsAllowed
// false gets 403 for a call from +44 to +49, and nothing reaches the
// callee; its call from +44 to +44 completes.
func TestInternationalCalls(t *testing.T) {
	requireSuite(t)
	t.Parallel()
	skipDirect(t)
	dir := workDir(t)
	o := &outcome{}
	defer reportOnFailure(t, "internationalCallsAllowed: false on the caller's trunk", dir, o)

	uas := startUASOnce(t, dir, "uas-a", uasAnswer, calleeIP(0), nil)
	o.callees = []*calleeRun{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp", sipp: uas}}
	uas.waitListening(t)
	no := false
	a := startApplianceWith(t, dir, applianceOpts{
		callers: []callerTrunk{{id: "caller", ip: callerIP, trunkAuth: trunkAuth{international: &no}}},
		routeTo: "(44|49)[0-9]+", // both numbers are routed: only the trunk's rule refuses
	}, func(*appliance) []trunkSpec {
		return []trunkSpec{{id: "uas-a", ip: uas.ip, port: uas.port, transport: "udp"}}
	})
	o.appliance = a
	remote := fmt.Sprintf("%s:%d", trunklineIP, a.sipPort)

	intl := runUAC(t, dir, "uac-intl", uacCallKeyed, callerIP, remote, deBerlin, 0,
		"-key", "from_user", ukMobile, "-key", "access_code", "none")
	o.calls = append(o.calls, intl)
	checkFinals(t, intl, "INVITE", 403)
	if n := invitesReceived(uas); n != 0 {
		t.Errorf("the callee got %d INVITEs for the international call, want none", n)
	}

	domestic := runUAC(t, dir, "uac", uacCallKeyed, callerIP, remote, ukLondon, 0,
		"-key", "from_user", ukMobile, "-key", "access_code", "none")
	o.calls = append(o.calls, domestic)
	checkFinals(t, domestic, "INVITE", 200)
	uas.finish(10 * time.Second)
	if !uas.ok() {
		t.Errorf("%s (%s) %s", uas.label, uas.scenario, uas.status())
	}
	if invs := uas.requestsReceived("INVITE"); len(invs) != 1 {
		t.Errorf("the callee got %d INVITEs, want 1 (the domestic call)", len(invs))
	} else if !strings.Contains(invs[0].First(), ukLondon) {
		t.Errorf("the callee's INVITE is %q, want the domestic call to %s", invs[0].First(), ukLondon)
	}
	finishAppliance(t, a)
}

// skipDirect: the auth tests need trunkline on the path; -direct has
// nothing to validate them against (SIPp cannot challenge as trunkline
// does, nor answer uas_challenge.xml's 401 with the trunk's credentials).
func skipDirect(t *testing.T) {
	t.Helper()
	if directMode() {
		t.Skip("through trunkline only: trunkline's challenges, registrar and trunk rules have no SIPp stand-in")
	}
}

// startUASOnce starts a SIPp UAS taking one call (-m 1) on ip with an
// echoing RTP probe.
func startUASOnce(t *testing.T, dir, label, scenario, ip string, extra []string) *sippRun {
	t.Helper()
	return startUASCalls(t, dir, label, scenario, ip, 1, extra)
}

// startUASCalls is startUASOnce taking calls calls (-m) before it ends.
func startUASCalls(t *testing.T, dir, label, scenario, ip string, calls int, extra []string) *sippRun {
	t.Helper()
	for try := 1; ; try++ {
		r := &sippRun{
			label: label, scenario: scenario, ip: ip, port: ports.one(t), transport: "udp",
			mediaPort: ports.block(t, mediaBlock), dir: dir, calls: calls,
		}
		r.probe = newRTPProbe(t, r.ip, r.mediaPort+4, true)
		startSIPp(t, r, "", extra)
		// A port found free may be taken before SIPp binds it (another
		// process of the machine): SIPp then exits at once; try others.
		waitFor(5*time.Second, 10*time.Millisecond, func() bool {
			return r.proc.exited() || portTaken(r.transport, r.ip, r.port)
		})
		if !r.proc.exited() || try == 3 || !strings.Contains(tail(r.file("errors"), 5), "errno = 98") {
			return r
		}
		r.probe.close()
		t.Logf("%s: port %d taken before SIPp bound it; trying another", label, r.port)
	}
}

// runUAC runs a SIPp UAC of one call from ip to remote, calling service,
// and waits for it.
func runUAC(t *testing.T, dir, label, scenario, ip, remote, service string, pause time.Duration, extra ...string) *sippRun {
	t.Helper()
	r := &sippRun{
		label: label, scenario: scenario, ip: ip, port: ports.one(t), transport: "udp",
		mediaPort: ports.block(t, mediaBlock), dir: dir, pause: pause, remote: remote,
	}
	r.probe = newRTPProbe(t, r.ip, r.mediaPort+4, false)
	startSIPp(t, r, service, extra)
	r.finish(uacLimit + 5*time.Second)
	return r
}

// finalCodes returns the distinct final responses (by CSeq) the run
// received for method, in order: one per request it sent.
func finalCodes(r *sippRun, method string) []int {
	var out []int
	seen := map[string]bool{}
	for _, m := range r.received() {
		if m.Code() >= 200 && m.Method() == method && !seen[m.Header("CSeq")] {
			seen[m.Header("CSeq")] = true
			out = append(out, m.Code())
		}
	}
	return out
}

// checkFinals asserts that the UAC ran to the end and got exactly the
// final responses want, one per request.
func checkFinals(t *testing.T, r *sippRun, method string, want ...int) {
	t.Helper()
	if !r.ok() {
		t.Errorf("%s (%s) %s", r.label, r.scenario, r.status())
	}
	if got := finalCodes(r, method); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: final responses to its %ss = %v, want %v (every response: %v)",
			r.label, method, got, want, r.responseCodes(method))
	}
}

// checkAuthorized asserts that the run's second request carried digest
// credentials in header, for username and realm, in the same Call-ID as
// the first, with the next CSeq.
func checkAuthorized(t *testing.T, r *sippRun, header, username, realm string) {
	t.Helper()
	var reqs []sipMsg
	for _, m := range r.sent() {
		if m.Code() == 0 && m.Method() != "ACK" && (len(reqs) == 0 || m.Header("CSeq") != reqs[len(reqs)-1].Header("CSeq")) {
			reqs = append(reqs, m)
		}
	}
	if len(reqs) < 2 {
		t.Errorf("%s sent %d requests, want the challenged one and the one with credentials", r.label, len(reqs))
		return
	}
	first, second := reqs[0], reqs[1]
	cred := second.Header(header)
	for _, want := range []string{"Digest ", fmt.Sprintf("username=%q", username), fmt.Sprintf("realm=%q", realm), "algorithm=MD5"} {
		if !strings.Contains(cred, want) {
			t.Errorf("%s: %s of its second request is %q, want it to contain %s", r.label, header, cred, want)
		}
	}
	if first.Header("Call-ID") != second.Header("Call-ID") || cseqNumber(second)-cseqNumber(first) != 1 {
		t.Errorf("%s: the request with credentials (Call-ID %s, CSeq %s) is not the challenged one's next (Call-ID %s, CSeq %s)",
			r.label, second.Header("Call-ID"), second.Header("CSeq"), first.Header("Call-ID"), first.Header("CSeq"))
	}
}

func cseqNumber(m sipMsg) int {
	n, _ := strconv.Atoi(strings.Fields(m.Header("CSeq") + " ")[0])
	return n
}

// checkChallengeAnswered reads the challenging callee's trace: its 401 was
// ACKed in the INVITE's transaction (same branch and CSeq number); the
// INVITE came again in the same Call-ID with the next CSeq and the
// trunk's credentials for the callee's realm and nonce; then the callee
// answered (accepted) or challenged again, was ACKed, and got no third
// INVITE.
func checkChallengeAnswered(t *testing.T, uas *sippRun, accepted bool) {
	t.Helper()
	var invites []sipMsg
	for _, m := range uas.requestsReceived("INVITE") {
		if len(invites) == 0 || m.Header("CSeq") != invites[len(invites)-1].Header("CSeq") {
			invites = append(invites, m)
		}
	}
	if len(invites) != 2 {
		t.Errorf("the challenging callee got %d INVITEs (by CSeq), want 2: the first, and the one with credentials", len(invites))
		if len(invites) < 2 {
			return
		}
	}
	first, second := invites[0], invites[1]
	acks := uas.requestsReceived("ACK")
	if len(acks) == 0 {
		t.Errorf("the callee's 401 was never ACKed")
	} else {
		ack := acks[0]
		if cseqNumber(ack) != cseqNumber(first) || !strings.HasSuffix(ack.Header("CSeq"), "ACK") {
			t.Errorf("the 401's ACK has CSeq %q, want %d ACK (the challenged INVITE's)", ack.Header("CSeq"), cseqNumber(first))
		}
		if branch(ack) != branch(first) {
			t.Errorf("the 401's ACK has Via branch %q, want the challenged INVITE's %q (RFC 3261 §17.1.1.3)", branch(ack), branch(first))
		}
		if !ack.At.Before(second.At) && !ack.At.Equal(second.At) {
			t.Logf("the 401's ACK came after the INVITE with credentials")
		}
	}
	if first.Header("Call-ID") != second.Header("Call-ID") {
		t.Errorf("the INVITE with credentials has Call-ID %q, want the challenged one's %q", second.Header("Call-ID"), first.Header("Call-ID"))
	}
	if cseqNumber(second) != cseqNumber(first)+1 {
		t.Errorf("the INVITE with credentials has CSeq %q, want %d INVITE (the challenged one's + 1)", second.Header("CSeq"), cseqNumber(first)+1)
	}
	if branch(second) == branch(first) {
		t.Errorf("the INVITE with credentials reuses the challenged INVITE's branch %q: it is a new transaction", branch(first))
	}
	cred := second.Header("Authorization")
	for _, want := range []string{"Digest ", fmt.Sprintf("username=%q", outboundAuth.username),
		fmt.Sprintf("realm=%q", challengeRealm), fmt.Sprintf("nonce=%q", challengeNonce), "response="} {
		if !strings.Contains(cred, want) {
			t.Errorf("the INVITE with credentials has Authorization %q, want it to contain %s", cred, want)
		}
	}
	var answered, rechallenged bool
	for _, m := range uas.sent() {
		if m.Method() == "INVITE" && m.Code() == 200 {
			answered = true
		}
		if m.Method() == "INVITE" && m.Code() == 401 && cseqNumber(m) == cseqNumber(second) {
			rechallenged = true
		}
	}
	switch {
	case accepted && !answered:
		t.Errorf("the callee's verifyauth refused trunkline's credentials (it challenged again: %v)", rechallenged)
	case !accepted && answered:
		t.Errorf("the callee's verifyauth accepted credentials made with a wrong password")
	case !accepted && len(acks) < 2:
		t.Errorf("the callee's second 401 was not ACKed (%d ACKs)", len(acks))
	}
}

// branch is the branch parameter of a message's top Via.
func branch(m sipMsg) string {
	_, b, _ := strings.Cut(m.Header("Via"), "branch=")
	b, _, _ = strings.Cut(b, ";")
	return strings.TrimSpace(b)
}

// challengeFilter relays one SIPp's UDP traffic to trunkline (SIPp sends
// to it with -rsa; trunkline answers the source, which is the filter) and
// trunkline's back, dropping from 401/407 responses every challenge that
// is not MD5: what an MD5-only client would do with them, and what SIPp
// 3.6.1 cannot (see the top of this file). It records each challenge
// response's headers as trunkline sent them.
type challengeFilter struct {
	conn      *net.UDPConn
	trunkline *net.UDPAddr
	done      chan struct{}

	mu         sync.Mutex
	client     *net.UDPAddr
	challenges [][]string // per 401/407: its challenge headers, in order, as received
}

func newChallengeFilter(t *testing.T, ip string, port int, trunkline string) *challengeFilter {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp", trunkline)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
	if err != nil {
		t.Fatalf("challenge filter: %v", err)
	}
	f := &challengeFilter{conn: conn, trunkline: to, done: make(chan struct{})}
	go f.run()
	t.Cleanup(f.close)
	return f
}

func (f *challengeFilter) addr() string { return f.conn.LocalAddr().String() }

func (f *challengeFilter) run() {
	defer close(f.done)
	buf := make([]byte, 65535)
	for {
		n, from, err := f.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		msg := string(buf[:n])
		f.mu.Lock()
		var to *net.UDPAddr
		if from.String() == f.trunkline.String() {
			to = f.client
			msg = f.filter(msg)
		} else {
			f.client, to = from, f.trunkline
		}
		f.mu.Unlock()
		if to != nil {
			f.conn.WriteToUDP([]byte(msg), to)
		}
	}
}

// filter drops the challenges of a 401/407 that are not MD5. f.mu is held.
func (f *challengeFilter) filter(msg string) string {
	if !strings.HasPrefix(msg, "SIP/2.0 401 ") && !strings.HasPrefix(msg, "SIP/2.0 407 ") {
		return msg
	}
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	var kept, offered []string
	for _, line := range strings.Split(head, "\r\n") {
		name, value, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "www-authenticate", "proxy-authenticate":
			offered = append(offered, strings.TrimSpace(line))
			if challengeAlgorithm(value) != "MD5" {
				continue
			}
		}
		kept = append(kept, line)
	}
	f.challenges = append(f.challenges, offered)
	return strings.Join(kept, "\r\n") + "\r\n\r\n" + body
}

// challengeAlgorithm is a challenge's algorithm parameter, upper case;
// MD5 when absent (RFC 3261 §22.4).
func challengeAlgorithm(challenge string) string {
	i := strings.Index(strings.ToLower(challenge), "algorithm=")
	if i < 0 {
		return "MD5"
	}
	v := challenge[i+len("algorithm="):]
	if j := strings.IndexAny(v, ", \t"); j >= 0 {
		v = v[:j]
	}
	return strings.ToUpper(strings.Trim(v, `"`))
}

func (f *challengeFilter) close() {
	f.conn.Close()
	<-f.done
}

// checkOffered asserts what trunkline offered in each of the n challenges
// the filter saw: header, once with SHA-256 then once with MD5 (RFC 8760
// §2.4: preferred first), realm "trunkline", qop auth, the same nonce.
func (f *challengeFilter) checkOffered(t *testing.T, header string, n int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.challenges) != n {
		t.Errorf("trunkline sent %d challenges through the filter, want %d", len(f.challenges), n)
	}
	for _, offered := range f.challenges {
		var algs []string
		for _, h := range offered {
			name, value, _ := strings.Cut(h, ":")
			if !strings.EqualFold(name, header) {
				t.Errorf("trunkline challenged with %s, want %s", name, header)
			}
			if !strings.Contains(value, `realm="trunkline"`) || !strings.Contains(value, `qop="auth"`) {
				t.Errorf("challenge %q: want realm \"trunkline\" and qop \"auth\"", h)
			}
			algs = append(algs, challengeAlgorithm(value))
		}
		if fmt.Sprint(algs) != "[SHA-256 MD5]" {
			t.Errorf("trunkline's challenge offers %v, want [SHA-256 MD5] (RFC 8760 §2.4): %q", algs, offered)
		}
	}
}
