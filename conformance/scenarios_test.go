package conformance

import (
	"fmt"
	"strings"
	"time"
)

// scenario is one behaviour of DESIGN §4 exercised through trunkline: SIPp
// UASes stand for the callee trunks (a route for calledNumber hunts them in
// list order), SIPp UACs place the calls. direct lists the UAC/UAS pairs
// that validate the scenario files without trunkline (-direct).
type scenario struct {
	name    string
	about   string   // the behaviour, as the issue and DESIGN put it
	callees []callee // the trunks of the route, priority 1, 2, ...
	calls   []call   // placed one after the other
	check   func(t tester, o *outcome)
	direct  []pair
}

// tester is what the checks use of *testing.T, so that a test can hand
// them a recorder (TestChecksCatchFaults).
type tester interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// callee is one trunk of the route.
type callee struct {
	uas            string        // scenario file; "" = a sink that must never be reached
	transport      string        // trunk transport: "udp" (default) or "tcp"
	pause          time.Duration // SIPp -d: how long the UAS's <pause/> lasts
	connectTimeout int           // the destination's connectTimeout in seconds; 0 = default
	args           []string      // more SIPp arguments
}

func (c callee) transportOr() string { return firstNonEmpty(c.transport, "udp") }

// call is one SIPp UAC run.
type call struct {
	uac       string
	transport string        // "udp" (default) or "tcp"; in direct mode, the callee's
	from      string        // source address; default callerIP (the caller trunk)
	pause     time.Duration // SIPp -d: how long the UAC's <pause/> lasts
	method    string        // the request whose final response is checked; default INVITE
	want      int           // that final response; 0 = none must come
	args      []string
}

func (c call) transportOr() string { return firstNonEmpty(c.transport, "udp") }
func (c call) fromOr() string      { return firstNonEmpty(c.from, callerIP) }
func (c call) methodOr() string    { return firstNonEmpty(c.method, "INVITE") }

// pair is a direct run: one UAC straight against one UAS.
type pair struct {
	name   string
	call   call
	callee callee
	check  func(t tester, o *outcome)
}

// The scenario files, named for what they do (each documents itself at the
// top).
const (
	uacCall       = "uac_call.xml"
	uacCalleeBye  = "uac_callee_bye.xml"
	uacCancel     = "uac_cancel.xml"
	uacReject     = "uac_reject.xml"
	uacOptions    = "uac_options.xml"
	uacHold       = "uac_hold.xml"
	uacEarly      = "uac_early_media.xml"
	uacUnanswered = "uac_unanswered.xml"

	uasAnswer     = "uas_answer.xml"
	uasAnswerBye  = "uas_answer_bye.xml"
	uasRing       = "uas_ring.xml"
	uasSilent     = "uas_silent.xml"
	uasHold       = "uas_hold.xml"
	uasEarly      = "uas_early_media.xml"
	uasRetrans200 = "uas_retransmit_200.xml"
	uasOptions200 = "uas_options_200.xml"
	uasOptions403 = "uas_options_403.xml"
	uasReject403  = "uas_reject_403.xml"
	uasReject480  = "uas_reject_480.xml"
	uasReject486  = "uas_reject_486.xml"
	uasReject500  = "uas_reject_500.xml"
	uasReject503  = "uas_reject_503.xml"
)

const (
	mediaPause     = 2 * time.Second          // longer than the 1.5 s of RTP a side plays
	minRTP         = rtpFixtureCount * 8 / 10 // RTP packets that must get through, of 75
	connectTimeout = 2                        // seconds, for the ring-no-answer destination
)

// answered is the plain call: answered, caller hangs up after pause.
func answered(pause time.Duration) call { return call{uac: uacCall, pause: pause, want: 200} }

func scenarios() []scenario {
	return []scenario{
		{
			name:    "basic_call_with_media",
			about:   "basic call: INVITE routed to the callee, answered, RTP relayed both ways (anchored), caller hangs up (DESIGN §4.5-4.7)",
			callees: []callee{{uas: uasAnswer}},
			calls:   []call{answered(mediaPause)},
			check:   rtpBothWays(0, 0),
			direct:  []pair{{name: "uac_call-uas_answer", call: answered(mediaPause), callee: callee{uas: uasAnswer}, check: rtpBothWays(0, 0)}},
		},
		{
			name:    "callee_hangs_up",
			about:   "the callee's BYE reaches the caller, and the caller's 200 gets back (DESIGN §4.6)",
			callees: []callee{{uas: uasAnswerBye, pause: time.Second}},
			calls:   []call{{uac: uacCalleeBye, want: 200}},
			check:   requestReached("uac", "BYE"),
			direct:  []pair{{name: "uac_callee_bye-uas_answer_bye", call: call{uac: uacCalleeBye, want: 200}, callee: callee{uas: uasAnswerBye, pause: time.Second}}},
		},
		{
			name:    "caller_hangs_up",
			about:   "the caller's BYE, sent right after its ACK, reaches the callee and the callee's 200 gets back (DESIGN §4.6)",
			callees: []callee{{uas: uasAnswer}},
			calls:   []call{answered(0)},
			check:   requestReached("uas-a", "BYE"),
			direct:  []pair{{name: "uac_call-uas_answer", call: answered(0), callee: callee{uas: uasAnswer}}},
		},
		{
			name:    "caller_cancels_while_ringing",
			about:   "CANCEL from the caller while the callee rings cancels the pending attempt: callee gets CANCEL, caller gets 200 and 487 (DESIGN §4.6)",
			callees: []callee{{uas: uasRing}},
			calls:   []call{{uac: uacCancel, pause: time.Second, want: 487}},
			check:   requestReached("uas-a", "CANCEL"),
			direct:  []pair{{name: "uac_cancel-uas_ring", call: call{uac: uacCancel, pause: time.Second, want: 487}, callee: callee{uas: uasRing}}},
		},
		{
			name:    "busy_486_relayed_without_advance",
			about:   "486 from the first destination ends the hunt and is relayed; the second destination is never tried (DESIGN §4.5)",
			callees: []callee{{uas: uasReject486}, {}},
			calls:   []call{{uac: uacReject, want: 486}},
			direct:  []pair{{name: "uac_reject-uas_reject_486", call: call{uac: uacReject, want: 486}, callee: callee{uas: uasReject486}}},
		},
		{
			name:    "failover_503_then_answer",
			about:   "503 from trunk 1 advances the hunt to trunk 2, which answers; the caller never sees the 503 (DESIGN §4.5 advanceOn)",
			callees: []callee{{uas: uasReject503}, {uas: uasAnswer}},
			calls:   []call{answered(0)},
			check:   callerSawOnly(0, 100, 180, 183, 200),
			direct: []pair{
				{name: "uac_reject-uas_reject_503", call: call{uac: uacReject, want: 503}, callee: callee{uas: uasReject503}},
				{name: "uac_call-uas_answer", call: answered(0), callee: callee{uas: uasAnswer}},
			},
		},
		{
			name:    "failover_silent_trunk_after_4s",
			about:   "trunk 1 never answers (no response at all): after the 4 s re-routing delay the hunt advances to trunk 2, which answers (DESIGN §4.5a)",
			callees: []callee{{uas: uasSilent}, {uas: uasAnswer}},
			calls:   []call{answered(0)},
			check:   checkSilentFailover,
			direct: []pair{
				{name: "uac_unanswered-uas_silent", call: call{uac: uacUnanswered}, callee: callee{uas: uasSilent}},
				{name: "uac_call-uas_answer", call: answered(0), callee: callee{uas: uasAnswer}},
			},
		},
		{
			name:    "ring_no_answer_past_connect_timeout",
			about:   fmt.Sprintf("trunk 1 rings but does not answer within its connectTimeout (%d s): it is CANCELled and the hunt advances to trunk 2, which answers (DESIGN §4.5d)", connectTimeout),
			callees: []callee{{uas: uasRing, connectTimeout: connectTimeout}, {uas: uasAnswer}},
			calls:   []call{answered(0)},
			check:   checkNoAnswerFailover,
			direct: []pair{
				{name: "uac_cancel-uas_ring", call: call{uac: uacCancel, pause: connectTimeout * time.Second, want: 487}, callee: callee{uas: uasRing}},
				{name: "uac_call-uas_answer", call: answered(0), callee: callee{uas: uasAnswer}},
			},
		},
		{
			name:    "every_destination_fails_best_response",
			about:   "503, 480 and 500 from the three destinations: every one is tried, and the best final response (RFC 3261 §16.7: lowest class) 480 is relayed (DESIGN §4.5)",
			callees: []callee{{uas: uasReject503}, {uas: uasReject480}, {uas: uasReject500}},
			calls:   []call{{uac: uacReject, want: 480}},
			direct: []pair{
				{name: "uac_reject-uas_reject_503", call: call{uac: uacReject, want: 503}, callee: callee{uas: uasReject503}},
				{name: "uac_reject-uas_reject_480", call: call{uac: uacReject, want: 480}, callee: callee{uas: uasReject480}},
				{name: "uac_reject-uas_reject_500", call: call{uac: uacReject, want: 500}, callee: callee{uas: uasReject500}},
			},
		},
		{
			name:    "every_destination_503_relayed_as_500",
			about:   "503 from both destinations: the 503 selected as best is sent to the caller as 500 (RFC 3261 §16.7, DESIGN §4.5)",
			callees: []callee{{uas: uasReject503}, {uas: uasReject503}},
			calls:   []call{{uac: uacReject, want: 500}},
			direct:  []pair{{name: "uac_reject-uas_reject_503", call: call{uac: uacReject, want: 503}, callee: callee{uas: uasReject503}}},
		},
		{
			name:    "reinvite_hold_resume",
			about:   "re-INVITEs are carried across: hold (a=sendonly -> a=recvonly) and resume (sendrecv); RTP flows both ways after the resume (DESIGN §4.6)",
			callees: []callee{{uas: uasHold}},
			calls:   []call{{uac: uacHold, pause: mediaPause, want: 200}},
			check:   all(reinvitesReached(2), rtpBothWays(0, 0)),
			direct: []pair{{name: "uac_hold-uas_hold", call: call{uac: uacHold, pause: mediaPause, want: 200}, callee: callee{uas: uasHold},
				check: all(reinvitesReached(2), rtpBothWays(0, 0))}},
		},
		{
			name:    "early_media_183",
			about:   "the callee's 183 with SDP reaches the caller with SDP, and its early media RTP reaches the caller before the 200 (DESIGN §4.5)",
			callees: []callee{{uas: uasEarly, pause: mediaPause}},
			calls:   []call{{uac: uacEarly, want: 200}},
			check:   earlyMedia,
			direct:  []pair{{name: "uac_early_media-uas_early_media", call: call{uac: uacEarly, want: 200}, callee: callee{uas: uasEarly, pause: mediaPause}, check: earlyMedia}},
		},
		{
			name:  "unknown_source_403",
			about: "an INVITE and an OPTIONS from an address no trunk owns get 403, and are counted (DESIGN §4.1)",
			calls: []call{
				{uac: uacReject, from: strangerIP, want: 403},
				{uac: uacOptions, from: strangerIP, method: "OPTIONS", want: 403},
			},
			check: checkUnknownCounted(2),
			direct: []pair{
				{name: "uac_reject-uas_reject_403", call: call{uac: uacReject, from: strangerIP, want: 403}, callee: callee{uas: uasReject403}},
				{name: "uac_options-uas_options_403", call: call{uac: uacOptions, from: strangerIP, method: "OPTIONS", want: 403}, callee: callee{uas: uasOptions403}},
			},
		},
		{
			name:   "options_200",
			about:  "OPTIONS from a known trunk gets 200 (DESIGN §4.1)",
			calls:  []call{{uac: uacOptions, method: "OPTIONS", want: 200}},
			direct: []pair{{name: "uac_options-uas_options_200", call: call{uac: uacOptions, method: "OPTIONS", want: 200}, callee: callee{uas: uasOptions200}}},
		},
		{
			name:    "udp_caller_tcp_callee",
			about:   "caller leg over UDP, callee trunk with transport: TCP (DESIGN §3 transport)",
			callees: []callee{{uas: uasAnswer, transport: "tcp"}},
			calls:   []call{answered(0)},
			check:   transports("UDP", "TCP"),
			direct:  []pair{{name: "uac_call-uas_answer-tcp", call: answered(0), callee: callee{uas: uasAnswer, transport: "tcp"}, check: transports("TCP", "TCP")}},
		},
		{
			name:    "tcp_caller_udp_callee",
			about:   "caller leg over TCP, callee trunk over UDP (DESIGN §3 transport)",
			callees: []callee{{uas: uasAnswer}},
			calls:   []call{{uac: uacCall, transport: "tcp", want: 200}},
			check:   transports("TCP", "UDP"),
			direct:  []pair{{name: "uac_call-uas_answer-udp", call: answered(0), callee: callee{uas: uasAnswer}, check: transports("UDP", "UDP")}},
		},
		{
			name:    "topology_hiding",
			about:   "no address, Via, Contact, Call-ID or SDP origin of one side in what the other side receives, both ways (DESIGN §4.6)",
			callees: []callee{{uas: uasAnswerBye, pause: 500 * time.Millisecond}},
			calls:   []call{{uac: uacCalleeBye, want: 200}},
			check:   topologyHidden,
			direct:  []pair{{name: "uac_callee_bye-uas_answer_bye", call: call{uac: uacCalleeBye, want: 200}, callee: callee{uas: uasAnswerBye, pause: 500 * time.Millisecond}}},
		},
		{
			name:    "retransmitted_200_is_reacked",
			about:   "the callee sends its 200 OK again after the ACK (as if the ACK were lost): trunkline ACKs it again (STYLE: re-ACK retransmitted 2xx)",
			callees: []callee{{uas: uasRetrans200, args: []string{"-nr"}}},
			calls:   []call{answered(500 * time.Millisecond)},
			check:   acksReached(2),
			direct: []pair{{name: "uac_call-uas_retransmit_200", call: answered(500 * time.Millisecond),
				callee: callee{uas: uasRetrans200, args: []string{"-nr"}}, check: acksReached(2)}},
		},
	}
}

// all runs several checks.
func all(checks ...func(tester, *outcome)) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		for _, c := range checks {
			c(t, o)
		}
	}
}

// runByLabel finds a SIPp run of the outcome by label ("uac", "uas-a").
func runByLabel(t tester, o *outcome, label string) *sippRun {
	t.Helper()
	for _, r := range o.runs() {
		if r.label == label {
			return r
		}
	}
	t.Errorf("no SIPp run %q", label)
	return nil
}

// requestReached asserts that the run received a request of the method.
func requestReached(label, method string) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		if r := runByLabel(t, o, label); r != nil && len(r.requestsReceived(method)) == 0 {
			t.Errorf("%s received no %s", label, method)
		}
	}
}

// callerSawOnly asserts that the i-th call received no response to its
// INVITE outside codes.
func callerSawOnly(i int, codes ...int) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		for _, c := range o.uac(i).responseCodes("INVITE") {
			ok := false
			for _, w := range codes {
				ok = ok || c == w
			}
			if !ok {
				t.Errorf("%s received %d to its INVITE; it must see only %v", o.uac(i).label, c, codes)
			}
		}
	}
}

// rtpBothWays asserts that RTP flowed both ways between call ci and callee
// ui: the callee's probe received the caller's RTP, the caller's probe
// received the callee's echo; each side got it from the address it was
// told in SDP (symmetric RTP, RFC 4961, DESIGN §4.7); through trunkline,
// trunkline_rtp_packets_total counts at least that much in and out.
func rtpBothWays(ci, ui int) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		uac, uas := o.uac(ci), o.uas(ui)
		if !gotAnswer(uac) {
			t.Logf("no RTP check: the call was not answered")
			return
		}
		if uas.rtp.Packets < minRTP {
			t.Errorf("caller -> callee: the callee received %d RTP packets, want >= %d of the %d the caller played",
				uas.rtp.Packets, minRTP, rtpFixtureCount)
		}
		if uac.rtp.Packets < minRTP {
			t.Errorf("callee -> caller: the caller received %d RTP packets, want >= %d (the callee echoed %d)",
				uac.rtp.Packets, minRTP, uas.rtp.Echoed)
		}
		if n := uac.rtp.Types[rtpFixturePT]; n != uac.rtp.Packets {
			t.Errorf("the caller received payload types %v, want only %d (PCMA)", uac.rtp.Types, rtpFixturePT)
		}
		t.Logf("RTP: caller -> callee %d packets, callee -> caller %d packets (of %d played)",
			uas.rtp.Packets, uac.rtp.Packets, rtpFixtureCount)
		// The SDP each side last received says where its RTP comes from.
		answer, ok := lastSDP(uac.received(), true)
		checkSources(t, "caller", uac.rtp, answer, ok)
		offer, ok := lastSDP(uas.received(), false)
		checkSources(t, "callee", uas.rtp, offer, ok)
		if o.direct {
			return
		}
		relayed := float64(uac.rtp.Packets + uas.rtp.Packets)
		for _, dir := range []string{"in", "out"} {
			name := fmt.Sprintf("trunkline_rtp_packets_total{dir=%q}", dir)
			v, ok := o.metrics[name]
			switch {
			case !ok:
				t.Errorf("GET /metrics has no %s series (DESIGN §5)", name)
			case v < relayed:
				t.Errorf("%s = %v, want >= %v (the RTP packets the two probes received through trunkline)", name, v, relayed)
			}
		}
	}
}

// gotAnswer reports whether the run received a 200 to its INVITE.
func gotAnswer(r *sippRun) bool {
	for _, c := range r.responseCodes("INVITE") {
		if c == 200 {
			return true
		}
	}
	return false
}

// lastSDP returns the last received message with SDP: a response (the
// caller's answer) or a request (the callee's offer).
func lastSDP(msgs []sipMsg, response bool) (sipMsg, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if (m.Code() != 0) == response && strings.Contains(m.Body(), "m=audio") {
			return m, true
		}
	}
	return sipMsg{}, false
}

func checkSources(t tester, who string, s rtpStats, sdp sipMsg, found bool) {
	t.Helper()
	if !found {
		t.Errorf("the %s received no SDP", who)
		return
	}
	want, ok := sdpMedia(sdp)
	if !ok {
		t.Errorf("the %s's SDP has no usable c=/m=audio: %q", who, sdp.Body())
		return
	}
	for src, n := range s.Sources {
		if src != want {
			t.Errorf("the %s received %d RTP packets from %s, but its SDP (%s) says %s (symmetric RTP, DESIGN §4.7)",
				who, n, src, sdp.First(), want)
		}
	}
}

// reinvitesReached asserts that the callee got n re-INVITEs (distinct
// CSeq numbers after the first INVITE).
func reinvitesReached(n int) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		seen := map[string]bool{}
		for _, m := range o.uas(0).requestsReceived("INVITE") {
			seen[m.Header("CSeq")] = true
		}
		if got := len(seen) - 1; got < n {
			t.Errorf("the callee received %d re-INVITEs, want %d (hold and resume)", max(got, 0), n)
		}
	}
}

// earlyMedia asserts that the caller received the callee's early media
// before the 200 OK.
func earlyMedia(t tester, o *outcome) {
	t.Helper()
	uac := o.uac(0)
	if !gotAnswer(uac) && len(uac.responseCodes("INVITE")) < 2 {
		t.Logf("no early media check: the call got no further than %v", uac.responseCodes("INVITE"))
		return
	}
	if uac.rtp.Packets < minRTP {
		t.Errorf("the caller received %d RTP packets of early media, want >= %d of the %d the callee played after its 183",
			uac.rtp.Packets, minRTP, rtpFixtureCount)
	}
	for _, m := range uac.received() {
		if m.Code() == 200 && m.Method() == "INVITE" {
			if !uac.rtp.First.IsZero() && !uac.rtp.First.Before(m.At) {
				t.Errorf("the first early RTP packet reached the caller at %s, after the 200 OK (%s)",
					uac.rtp.First.Format("15:04:05.000"), m.At.Format("15:04:05.000"))
			}
			break
		}
	}
	if sdp, ok := lastSDP(uac.received(), true); ok {
		checkSources(t, "caller", uac.rtp, sdp, true)
	}
}

// firstRequestAt is when the run first received a request of the method.
func firstRequestAt(t tester, r *sippRun, method string) (time.Time, bool) {
	t.Helper()
	rs := r.requestsReceived(method)
	if len(rs) == 0 {
		t.Errorf("%s received no %s", r.label, method)
		return time.Time{}, false
	}
	return rs[0].At, true
}

// checkSilentFailover: trunk 2 gets its INVITE about 4 s after trunk 1
// got its own; trunk 1, which never sent a provisional response, gets no
// CANCEL (RFC 3261 §9.1).
func checkSilentFailover(t tester, o *outcome) {
	t.Helper()
	a, aok := firstRequestAt(t, o.uas(0), "INVITE")
	b, bok := firstRequestAt(t, o.uas(1), "INVITE")
	if aok && bok {
		if d := b.Sub(a); d < 3500*time.Millisecond || d > 6*time.Second {
			t.Errorf("trunk 2 got its INVITE %.2fs after trunk 1, want about 4s (the re-routing delay)", d.Seconds())
		}
	}
	if n := len(o.uas(0).requestsReceived("CANCEL")); n > 0 {
		t.Errorf("the silent trunk 1 received a CANCEL though it never sent a provisional response (RFC 3261 §9.1: MUST NOT)")
	}
}

// checkNoAnswerFailover: trunk 1 rings and is CANCELled connectTimeout
// after its INVITE; trunk 2 gets its INVITE after that.
func checkNoAnswerFailover(t tester, o *outcome) {
	t.Helper()
	inv, iok := firstRequestAt(t, o.uas(0), "INVITE")
	cancel, cok := firstRequestAt(t, o.uas(0), "CANCEL")
	b, bok := firstRequestAt(t, o.uas(1), "INVITE")
	if iok && cok {
		want := connectTimeout * time.Second
		if d := cancel.Sub(inv); d < want-300*time.Millisecond || d > want+2*time.Second {
			t.Errorf("trunk 1 was CANCELled %.2fs after its INVITE, want about its connectTimeout %s", d.Seconds(), want)
		}
	}
	if cok && bok && b.Before(cancel) {
		t.Errorf("trunk 2 got its INVITE (%s) before trunk 1 was CANCELled (%s)", b.Format("15:04:05.000"), cancel.Format("15:04:05.000"))
	}
}

// checkUnknownCounted: trunkline_sip_unknown_source_total counts the
// requests from the stranger.
func checkUnknownCounted(n int) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		const name = "trunkline_sip_unknown_source_total"
		if v, ok := o.metrics[name]; !ok || v < float64(n) {
			t.Errorf("%s = %v (present: %v), want >= %d", name, v, ok, n)
		}
	}
}

// transports asserts the transport each side's SIP travelled on, from the
// SIPp traces: the caller's ("UDP"/"TCP") and the callee's.
func transports(caller, callee string) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		for _, c := range []struct {
			r    *sippRun
			want string
		}{{o.uac(0), caller}, {o.uas(0), callee}} {
			for _, m := range c.r.received() {
				if m.Transport != c.want {
					t.Errorf("%s received %q over %s, want %s", c.r.label, m.First(), m.Transport, c.want)
					break
				}
			}
			if len(c.r.received()) == 0 {
				t.Errorf("%s received nothing", c.r.label)
			}
			if via := firstVia(c.r.received()); via != "" && c.r == o.uas(0) && !strings.HasPrefix(via, "SIP/2.0/"+c.want) {
				t.Errorf("%s got a request with Via %q, want transport %s", c.r.label, via, c.want)
			}
		}
	}
}

func firstVia(msgs []sipMsg) string {
	for _, m := range msgs {
		if m.Code() == 0 {
			return m.Header("Via")
		}
	}
	return ""
}

// acksReached asserts that the callee received n ACKs: one per 200 OK it
// sent.
func acksReached(n int) func(tester, *outcome) {
	return func(t tester, o *outcome) {
		t.Helper()
		if got := len(o.uas(0).requestsReceived("ACK")); got < n {
			t.Errorf("the callee sent its 200 OK twice and received %d ACKs, want %d: the retransmitted 200 was not re-ACKed", got, n)
		}
	}
}

// topologyHidden: nothing that identifies one side reaches the other.
// From what the caller sent: its address (Via, Contact, From host, SDP
// c=/o=), its Call-ID, its Via branch, its SDP origin and media port. From
// what the callee sent: the same. Each must be absent from every message
// the other side received.
func topologyHidden(t tester, o *outcome) {
	t.Helper()
	uac, uas := o.uac(0), o.uas(0)
	check := func(from, to *sippRun) {
		inv, ok := from.firstSent("")
		if !ok {
			t.Errorf("%s sent nothing", from.label)
			return
		}
		needles := map[string]string{
			"address":         from.ip,
			"SDP origin user": map[bool]string{true: "conformance-uac", false: "conformance-uas"}[from == uac],
		}
		if from == uac {
			needles["Call-ID"] = inv.Header("Call-ID")
			if v := inv.Header("Via"); strings.Contains(v, "branch=") {
				needles["Via branch"] = v[strings.Index(v, "branch=")+len("branch="):]
			}
		} else if bye, ok := from.firstSent("BYE "); ok {
			needles["Via"] = bye.Header("Via")
			if v := bye.Header("Via"); strings.Contains(v, "branch=") {
				needles["Via branch"] = v[strings.Index(v, "branch=")+len("branch="):]
			}
		}
		if sdp, ok := firstSentSDP(from); ok {
			if ap, ok := sdpMedia(sdp); ok {
				needles["SDP media port"] = fmt.Sprintf("m=audio %d ", ap.Port())
			}
		}
		for what, needle := range needles {
			if needle == "" {
				continue
			}
			for _, m := range to.received() {
				if strings.Contains(m.Text, needle) {
					t.Errorf("%s's %s (%q) reached %s in %q:\n%s", from.label, what, needle, to.label, m.First(), indent(m.Text, "    "))
					break
				}
			}
		}
	}
	check(uac, uas)
	check(uas, uac)
	// The two legs are two dialogs: the callee's Call-ID is not the caller's.
	if inv, ok := uac.firstSent("INVITE "); ok {
		if got := uas.requestsReceived("INVITE"); len(got) > 0 && got[0].Header("Call-ID") == inv.Header("Call-ID") {
			t.Errorf("the callee's INVITE carries the caller's Call-ID %q", inv.Header("Call-ID"))
		}
	}
}

func firstSentSDP(r *sippRun) (sipMsg, bool) {
	for _, m := range r.sent() {
		if strings.Contains(m.Body(), "m=audio") {
			return m, true
		}
	}
	return sipMsg{}, false
}
