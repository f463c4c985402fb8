package conformance

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestChecksCatchFaults feeds each scenario check a synthetic trace of
// what a faulty trunkline would do, and a clean one: a check that passes
// both proves nothing, so a green conformance run would mean nothing.
func TestChecksCatchFaults(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.Local)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	cases := []struct {
		name  string
		check func(tester, *outcome)
		good  *outcome
		bad   *outcome
	}{
		{
			name:  "topology hiding",
			check: topologyHidden,
			good:  topologyOutcome(at, false),
			bad:   topologyOutcome(at, true),
		},
		{
			name:  "RTP both ways",
			check: rtpBothWays(0, 0),
			good:  rtpOutcome(at, rtpFixtureCount, rtpFixtureCount, true, true),
			bad:   rtpOutcome(at, 3, rtpFixtureCount, true, true),
		},
		{
			name:  "RTP back to the caller",
			check: rtpBothWays(0, 0),
			good:  rtpOutcome(at, rtpFixtureCount, rtpFixtureCount, true, true),
			bad:   rtpOutcome(at, rtpFixtureCount, 0, true, true),
		},
		{
			name:  "RTP from the advertised port (RFC 4961)",
			check: rtpBothWays(0, 0),
			good:  rtpOutcome(at, rtpFixtureCount, rtpFixtureCount, true, true),
			bad:   rtpOutcome(at, rtpFixtureCount, rtpFixtureCount, false, true),
		},
		{
			name:  "RTP metric present",
			check: rtpBothWays(0, 0),
			good:  rtpOutcome(at, rtpFixtureCount, rtpFixtureCount, true, true),
			bad:   rtpOutcome(at, rtpFixtureCount, rtpFixtureCount, true, false),
		},
		{
			name:  "re-ACK of a retransmitted 200",
			check: acksReached(2),
			good:  calleeGot(at, "INVITE", "ACK", "ACK", "BYE"),
			bad:   calleeGot(at, "INVITE", "ACK", "BYE"),
		},
		{
			name:  "re-INVITEs carried across",
			check: reinvitesReached(2),
			good:  calleeGot(at, "INVITE", "ACK", "INVITE", "ACK", "INVITE", "ACK", "BYE"),
			bad:   calleeGot(at, "INVITE", "ACK", "INVITE", "ACK", "BYE"),
		},
		{
			name:  "CANCEL relayed",
			check: requestReached("uas-a", "CANCEL"),
			good:  calleeGot(at, "INVITE", "CANCEL", "ACK"),
			bad:   calleeGot(at, "INVITE"),
		},
		{
			name:  "the caller never sees the 503",
			check: callerSawOnly(0, 100, 180, 183, 200),
			good:  callerGot(at, 100, 180, 200),
			bad:   callerGot(at, 100, 503, 200),
		},
		{
			name:  "advance after 4 s of silence",
			check: checkSilentFailover,
			good:  twoTrunks(at, []string{"INVITE@0"}, []string{"INVITE@4010"}),
			bad:   twoTrunks(at, []string{"INVITE@0"}, []string{"INVITE@700"}),
		},
		{
			name:  "no CANCEL without a provisional response",
			check: checkSilentFailover,
			good:  twoTrunks(at, []string{"INVITE@0"}, []string{"INVITE@4010"}),
			bad:   twoTrunks(at, []string{"INVITE@0", "CANCEL@4000"}, []string{"INVITE@4010"}),
		},
		{
			name:  "CANCEL after connectTimeout",
			check: checkNoAnswerFailover,
			good:  twoTrunks(at, []string{"INVITE@0", "CANCEL@2005"}, []string{"INVITE@2010"}),
			bad:   twoTrunks(at, []string{"INVITE@0", "CANCEL@6000"}, []string{"INVITE@6010"}),
		},
		{
			name:  "trunk 2 only after trunk 1 is CANCELled",
			check: checkNoAnswerFailover,
			good:  twoTrunks(at, []string{"INVITE@0", "CANCEL@2005"}, []string{"INVITE@2010"}),
			bad:   twoTrunks(at, []string{"INVITE@0", "CANCEL@2005"}, []string{"INVITE@1000"}),
		},
		{
			name:  "early media before the 200",
			check: earlyMedia,
			good:  earlyOutcome(at, at(100)),
			bad:   earlyOutcome(at, at(3000)),
		},
		{
			name:  "transports",
			check: transports("UDP", "TCP"),
			good:  transportOutcome(at, "UDP", "TCP"),
			bad:   transportOutcome(at, "UDP", "UDP"),
		},
		{
			name:  "unknown sources counted",
			check: checkUnknownCounted(2),
			good:  &outcome{metrics: map[string]float64{"trunkline_sip_unknown_source_total": 2}},
			bad:   &outcome{metrics: map[string]float64{"trunkline_sip_unknown_source_total": 1}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var good, bad recorder
			c.check(&good, c.good)
			c.check(&bad, c.bad)
			if len(good.errors) > 0 {
				t.Errorf("the clean trace fails the check:\n%s", strings.Join(good.errors, "\n"))
			}
			if len(bad.errors) == 0 {
				t.Errorf("the faulty trace passes the check")
			}
		})
	}
}

// recorder collects what a check reports.
type recorder struct{ errors []string }

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }

// sip builds a traced message; text uses LF line ends.
func sip(at time.Time, sent bool, text string) sipMsg {
	return sipMsg{At: at, Sent: sent, Transport: "UDP", Text: strings.TrimLeft(text, "\n")}
}

func request(at time.Time, method string, cseq int) sipMsg {
	return sip(at, false, fmt.Sprintf("%s sip:1001@127.0.0.2:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK%d\nCSeq: %d %s\n", method, cseq, cseq, method))
}

func response(at time.Time, code int, method string) sipMsg {
	return sip(at, false, fmt.Sprintf("SIP/2.0 %d Reason\nVia: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bKx\nCSeq: 1 %s\n", code, method))
}

func withSDP(m sipMsg, ip string, port int) sipMsg {
	m.Text += fmt.Sprintf("Content-Type: application/sdp\n\nv=0\no=x 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio %d RTP/AVP 8\n", ip, ip, port)
	return m
}

// calleeGot: the callee received these requests, one per CSeq (the ACK
// shares its INVITE's).
func calleeGot(at func(int) time.Time, methods ...string) *outcome {
	uas := &sippRun{label: "uas-a"}
	cseq := 0
	for i, m := range methods {
		if m != "ACK" && m != "CANCEL" {
			cseq++
		}
		uas.msgs = append(uas.msgs, request(at(i*10), m, cseq))
	}
	return &outcome{callees: []*calleeRun{{sipp: uas}}, calls: []*sippRun{{label: "uac"}}}
}

func callerGot(at func(int) time.Time, codes ...int) *outcome {
	uac := &sippRun{label: "uac"}
	for i, c := range codes {
		uac.msgs = append(uac.msgs, response(at(i*10), c, "INVITE"))
	}
	return &outcome{calls: []*sippRun{uac}}
}

// twoTrunks: what trunks 1 and 2 received, as "METHOD@ms".
func twoTrunks(at func(int) time.Time, a, b []string) *outcome {
	o := &outcome{}
	for i, got := range [][]string{a, b} {
		r := &sippRun{label: fmt.Sprintf("uas-%c", 'a'+i)}
		for _, g := range got {
			var method string
			var ms int
			fmt.Sscanf(strings.Replace(g, "@", " ", 1), "%s %d", &method, &ms)
			r.msgs = append(r.msgs, request(at(ms), method, 1))
		}
		o.callees = append(o.callees, &calleeRun{sipp: r})
	}
	return o
}

func rtpOutcome(at func(int) time.Time, toCallee, toCaller int, symmetric, metric bool) *outcome {
	anchorA := netip.MustParseAddrPort("127.0.0.1:20000") // what the caller is told
	anchorB := netip.MustParseAddrPort("127.0.0.1:20002") // what the callee is told
	fromA := anchorA
	if !symmetric {
		fromA = netip.MustParseAddrPort("127.0.0.1:20010")
	}
	uac := &sippRun{label: "uac",
		msgs: []sipMsg{withSDP(response(at(10), 200, "INVITE"), "127.0.0.1", 20000)},
		rtp:  rtpStats{Packets: toCaller, Sources: map[netip.AddrPort]int{fromA: toCaller}, Types: map[uint8]int{8: toCaller}}}
	uas := &sippRun{label: "uas-a",
		msgs: []sipMsg{withSDP(request(at(5), "INVITE", 1), "127.0.0.1", 20002)},
		rtp:  rtpStats{Packets: toCallee, Echoed: toCallee, Sources: map[netip.AddrPort]int{anchorB: toCallee}, Types: map[uint8]int{8: toCallee}}}
	m := map[string]float64{}
	if metric {
		m[`trunkline_rtp_packets_total{dir="in"}`] = float64(toCaller + toCallee)
		m[`trunkline_rtp_packets_total{dir="out"}`] = float64(toCaller + toCallee)
	}
	return &outcome{calls: []*sippRun{uac}, callees: []*calleeRun{{sipp: uas}}, metrics: m}
}

func earlyOutcome(at func(int) time.Time, firstRTP time.Time) *outcome {
	src := netip.MustParseAddrPort("127.0.0.1:20000")
	uac := &sippRun{label: "uac", msgs: []sipMsg{
		withSDP(response(at(5), 183, "INVITE"), "127.0.0.1", 20000),
		withSDP(response(at(2000), 200, "INVITE"), "127.0.0.1", 20000),
	}, rtp: rtpStats{Packets: rtpFixtureCount, First: firstRTP, Sources: map[netip.AddrPort]int{src: rtpFixtureCount}}}
	return &outcome{calls: []*sippRun{uac}}
}

func transportOutcome(at func(int) time.Time, caller, callee string) *outcome {
	uac := &sippRun{label: "uac", msgs: []sipMsg{response(at(1), 200, "INVITE")}}
	inv := request(at(0), "INVITE", 1)
	inv.Transport = callee
	inv.Text = strings.Replace(inv.Text, "SIP/2.0/UDP", "SIP/2.0/"+callee, 1)
	uac.msgs[0].Transport = caller
	return &outcome{calls: []*sippRun{uac}, callees: []*calleeRun{{sipp: &sippRun{label: "uas-a", msgs: []sipMsg{inv}}}}}
}

// topologyOutcome: a call between the caller (127.0.0.10:5062) and the
// callee (127.0.0.2:5064) through trunkline (127.0.0.1:5060); leaky copies
// the caller's Via and Call-ID into the callee's INVITE.
func topologyOutcome(at func(int) time.Time, leaky bool) *outcome {
	uacInvite := sip(at(0), true, `
INVITE sip:1001@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bK-inv-1-1
From: <sip:1000@127.0.0.10:5062>;tag=1UAC1
To: <sip:1001@127.0.0.1:5060>
Call-ID: 1-1@127.0.0.10
CSeq: 1 INVITE
Contact: <sip:1000@127.0.0.10:5062>

v=0
o=conformance-uac 1 1 IN IP4 127.0.0.10
c=IN IP4 127.0.0.10
m=audio 6004 RTP/AVP 8`)
	uasInvite := `
INVITE sip:1001@127.0.0.2:5064 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.trunkline
From: <sip:1000@127.0.0.1>;tag=tl1
To: <sip:1001@127.0.0.2:5064>
Call-ID: b-leg-call-id
CSeq: 1 INVITE
Contact: <sip:127.0.0.1:5060>

v=0
o=trunkline 1 1 IN IP4 127.0.0.1
c=IN IP4 127.0.0.1
m=audio 20002 RTP/AVP 8`
	if leaky {
		uasInvite = strings.Replace(uasInvite, "Call-ID: b-leg-call-id", "Call-ID: 1-1@127.0.0.10", 1)
		uasInvite = strings.Replace(uasInvite, "From: ", "Via: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bK-inv-1-1\nFrom: ", 1)
	}
	uas200 := sip(at(2), true, `
SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.trunkline
To: <sip:1001@127.0.0.2:5064>;tag=1UAS1
Call-ID: b-leg-call-id
CSeq: 1 INVITE
Contact: <sip:callee@127.0.0.2:5064>

v=0
o=conformance-uas 1 1 IN IP4 127.0.0.2
c=IN IP4 127.0.0.2
m=audio 6104 RTP/AVP 8`)
	uac200 := sip(at(3), false, `
SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bK-inv-1-1
To: <sip:1001@127.0.0.1:5060>;tag=tl2
Call-ID: 1-1@127.0.0.10
CSeq: 1 INVITE
Contact: <sip:127.0.0.1:5060>

v=0
o=trunkline 2 1 IN IP4 127.0.0.1
c=IN IP4 127.0.0.1
m=audio 20000 RTP/AVP 8`)
	uac := &sippRun{label: "uac", ip: "127.0.0.10", port: 5062, msgs: []sipMsg{uacInvite, uac200}}
	uas := &sippRun{label: "uas-a", ip: "127.0.0.2", port: 5064, msgs: []sipMsg{sip(at(1), false, uasInvite), uas200}}
	return &outcome{calls: []*sippRun{uac}, callees: []*calleeRun{{sipp: uas}}}
}
