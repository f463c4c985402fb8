package sbc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// The called number of the call tests, matched by route "main".
const called = "447700900123"

// callYAML is the configuration of the call tests: the caller's trunk owns
// 127.0.0.1; carrier-1 and carrier-2 lead to the callee UAs (which are no
// trunk's source: their in-dialog requests are known by their dialog).
const callYAML = `
node: {id: test}
sip:
  listen: ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]
media: {rtpPorts: "24000-25999"}
sipTrunks:
  - {id: pbx, type: STATIC, sourceHosts: ["127.0.0.1/32"]%s}
  - {id: carrier-1, type: STATIC, destinationHosts: [%q]}
  - {id: carrier-2, type: STATIC, destinationHosts: [%q]}
routes:
  - id: main
    criteria: [{to: "44(.+)"}]
    destinations:
      - {type: ENDPOINT, priority: 1, connectTimeout: 1,
         value: {type: SIP, sipTrunkId: carrier-1, customHeaders: {X-Client-Ref: "ref-${to}"}}}
      - {type: ENDPOINT, priority: 2, value: {type: SIP, sipTrunkId: carrier-2, username: "2000"}}
`

// callRig is a server with a caller and two callees around it.
type callRig struct {
	t      *testing.T
	s      *Server
	caller *testUA // 127.0.0.1, trunk pbx
	c1, c2 *testUA // 127.0.0.2 (carrier-1), 127.0.0.3 (carrier-2)
	to     net.Addr
}

// newCallRig starts the UAs and a server between them. pbxExtra is added
// to the pbx trunk's YAML (", channelLimit: 1"); dest1 replaces carrier-1's
// destination when not "".
func newCallRig(t *testing.T, pbxExtra, dest1 string) *callRig {
	t.Helper()
	return newCallRigWith(t, pbxExtra, dest1, nil)
}

// newCallRigWith is newCallRig with edit (may be nil) applied to the
// server after the rig's own timings.
func newCallRigWith(t *testing.T, pbxExtra, dest1 string, edit func(*Server)) *callRig {
	t.Helper()
	r := &callRig{t: t}
	r.caller = newTestUA(t, "alice", "127.0.0.1")
	r.c1 = newTestUA(t, "bob", "127.0.0.2")
	r.c2 = newTestUA(t, "carol", "127.0.0.3")
	if dest1 == "" {
		dest1 = r.c1.addr()
	}
	cfg, err := config.Parse("call.yaml", []byte(fmt.Sprintf(callYAML, pbxExtra, dest1, r.c2.addr())))
	if err != nil {
		t.Fatal(err)
	}
	r.s = startServerWith(t, cfg, func(s *Server) {
		s.rerouteDelay = 300 * time.Millisecond
		s.cancelWait = time.Second
		s.byeWait = time.Second
		if edit != nil {
			edit(s)
		}
	})
	r.to = addr(t, r.s, "udp")
	return r
}

// call places a call from the caller with its SDP.
func (r *callRig) call(extra ...sip.Header) *outCall {
	return r.caller.invite(r.to, called, r.caller.sdp(), extra...)
}

// connect places a call that callee answers, and returns both ends.
func (r *callRig) connect(callee *testUA) (*outCall, *inInvite) {
	r.t.Helper()
	oc := r.call()
	in := callee.nextInvite()
	in.respond(180, "Ringing", nil)
	in.answer()
	ok := oc.final()
	if ok.StatusCode != 200 {
		r.t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	callee.nextAck()
	return oc, in
}

// waitCalls waits until the server has no live call.
func (r *callRig) waitCalls() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), answerWithin)
	defer cancel()
	if err := r.s.calls.wait(ctx); err != nil {
		r.t.Fatalf("%d calls still live", r.s.calls.active())
	}
}

// legs returns the call-leg records, A first.
func (r *callRig) legs(n int) []CallLog {
	r.t.Helper()
	r.waitCalls()
	logs := r.s.CallLogs()
	if len(logs) != n {
		r.t.Fatalf("%d call-leg records, want %d: %+v", len(logs), n, logs)
	}
	return logs
}

// metricsText returns the server's metrics.
func (r *callRig) metricsText() string {
	var b bytes.Buffer
	r.s.Metrics().WritePrometheus(&b)
	return b.String()
}

func TestCallBasic(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	if res := oc.next(); res.StatusCode != 100 {
		t.Fatalf("first response %d, want 100 Trying", res.StatusCode)
	}
	in := r.c1.nextInvite()

	// The callee's INVITE: built anew, numbers and display name passed,
	// custom header expanded, SDP ours.
	inv := in.req
	if inv.Recipient.User != called || inv.To().Address.User != called {
		t.Errorf("R-URI/To user %q/%q, want %s", inv.Recipient.User, inv.To().Address.User, called)
	}
	if inv.Recipient.Host != "127.0.0.2" || inv.Recipient.Port != r.c1.port {
		t.Errorf("R-URI host %s:%d, want the destination host as configured", inv.Recipient.Host, inv.Recipient.Port)
	}
	if f := inv.From(); f.Address.User != "33123456789" || f.DisplayName != "Alice Caller" || f.Address.Host != "127.0.0.1" {
		t.Errorf("From = %s", f.Value())
	}
	if h := inv.GetHeader("X-Client-Ref"); h == nil || h.Value() != "ref-"+called {
		t.Errorf("X-Client-Ref = %v", h)
	}
	if mf := inv.MaxForwards(); mf == nil || mf.Val() != 69 {
		t.Errorf("Max-Forwards = %v, want 69", mf)
	}
	offerB := sdpAddr(t, inv.Body())
	if offerB.Addr() != netip.MustParseAddr("127.0.0.1") || int(offerB.Port()) == r.caller.rtpPort() {
		t.Errorf("callee's offer points at %v: not the relay", offerB)
	}
	hidden(t, "the callee's INVITE", inv.String(), r.caller, oc.req)

	in.respond(180, "Ringing", nil)
	if res := oc.next(); res.StatusCode != 180 {
		t.Fatalf("got %d, want 180", res.StatusCode)
	}
	ok := in.respond(200, "OK", r.c1.sdp())
	res := oc.final()
	if res.StatusCode != 200 {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	answerA := sdpAddr(t, res.Body())
	if answerA.Addr() != netip.MustParseAddr("127.0.0.1") || int(answerA.Port()) == r.c1.rtpPort() || answerA == offerB {
		t.Errorf("caller's answer points at %v: not the relay's A side", answerA)
	}
	hidden(t, "the caller's 200", res.String(), r.c1, in.req, ok)
	oc.ack(res)
	if ack := r.c1.nextAck(); ack.CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, want %d", ack.CSeq().SeqNo, inv.CSeq().SeqNo)
	}

	// RTP both ways through the relay.
	if got := r.caller.sendRTP(answerA, r.c1, "from-alice"); got != "from-alice" {
		t.Errorf("callee got %q", got)
	}
	if got := r.c1.sendRTP(offerB, r.caller, "from-bob"); got != "from-bob" {
		t.Errorf("caller got %q", got)
	}

	// The caller hangs up.
	if bye := r.caller.do(oc.d.Request(sip.BYE, nil, "")); bye.StatusCode != 200 {
		t.Fatalf("BYE got %d", bye.StatusCode)
	}
	byeB := r.c1.nextRequest(sip.BYE)
	hidden(t, "the callee's BYE", byeB.String(), r.caller, oc.req)

	logs := r.legs(2)
	a, b := logs[0], logs[1]
	if a.Leg != "A" || a.State != StateFinished || a.SIPCode != 200 || a.AnswerTime == nil || a.Reason != "caller hung up" ||
		a.Direction != DirectionInbound || a.Trunk != "pbx" || a.To != called || a.Route != "main" || a.Decision == nil {
		t.Errorf("A leg record: %+v", a)
	}
	if b.Leg != "B" || b.State != StateFinished || b.DialogID == "" || b.DialogID != a.DialogID || b.Trunk != "carrier-1" ||
		b.Direction != DirectionOutbound || b.Attempt == nil || *b.Attempt != 0 {
		t.Errorf("B leg record: %+v", b)
	}
	for _, id := range []string{"pbx", "carrier-1"} {
		if st, _ := r.s.TrunkStatus(id); st.ActiveCalls != 0 {
			t.Errorf("%s ActiveCalls = %d after the call", id, st.ActiveCalls)
		}
	}
	m := r.metricsText()
	for _, want := range []string{
		`trunkline_calls_total{direction="inbound",trunk="pbx",result="finished"} 1`,
		`trunkline_calls_total{direction="outbound",trunk="carrier-1",result="finished"} 1`,
		`trunkline_route_attempts_total{trunk="carrier-1",code="200"} 1`,
		`trunkline_calls_active 0`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, `trunkline_rtp_packets_total{dir="in"} 0`) || !strings.Contains(m, `trunkline_rtp_packets_total{dir="out"}`) {
		t.Errorf("no RTP counted:\n%s", m)
	}
}

// hidden checks that msg shows nothing of the other side: its Call-ID,
// tags, Via branch, Contact, port or SDP origin.
func hidden(t *testing.T, what, msg string, other *testUA, msgs ...interface {
	CallID() *sip.CallIDHeader
	From() *sip.FromHeader
	To() *sip.ToHeader
	Via() *sip.ViaHeader
}) {
	t.Helper()
	secrets := []string{other.name + "-contact", other.name + "-proxy", other.name + "-origin", fmt.Sprintf(":%d", other.port), fmt.Sprint(other.rtpPort())}
	if other.ip != "127.0.0.1" {
		secrets = append(secrets, other.ip)
	}
	for _, m := range msgs {
		secrets = append(secrets, callID(m))
		if tag := toTag(m); tag != "" {
			secrets = append(secrets, tag)
		}
		if f := m.From(); f != nil {
			if tag, _ := f.Params.Get("tag"); tag != "" {
				secrets = append(secrets, tag)
			}
		}
		if v := m.Via(); v != nil {
			if br, _ := v.Params.Get("branch"); br != "" {
				secrets = append(secrets, br)
			}
		}
	}
	for _, sec := range secrets {
		if strings.Contains(msg, sec) {
			t.Errorf("%s reveals %q:\n%s", what, sec, msg)
		}
	}
}

func TestCallByeFromCallee(t *testing.T) {
	r := newCallRig(t, "", "")
	_, in := r.connect(r.c1)
	d := in.dialog()
	if res := r.c1.do(d.Request(sip.BYE, nil, "")); res.StatusCode != 200 {
		t.Fatalf("callee's BYE got %d", res.StatusCode)
	}
	bye := r.caller.nextRequest(sip.BYE)
	hidden(t, "the caller's BYE", bye.String(), r.c1, in.req, in.ok)
	if logs := r.legs(2); logs[0].Reason != "callee hung up" || logs[0].State != StateFinished {
		t.Errorf("A leg record: %+v", logs[0])
	}
}

func TestCallCancelWhileRinging(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	in := r.c1.nextInvite()
	in.respond(180, "Ringing", nil)
	oc.until(180)
	if res := oc.cancel(); res.StatusCode != 200 {
		t.Fatalf("CANCEL got %d", res.StatusCode)
	}
	if res := oc.final(); res.StatusCode != 487 {
		t.Fatalf("INVITE got %d, want 487", res.StatusCode)
	}
	select {
	case <-in.cancelled:
	case <-time.After(answerWithin):
		t.Fatal("the callee saw no CANCEL")
	}
	r.c2.noInvite()
	logs := r.legs(2)
	if logs[0].State != StateCancelled || logs[0].SIPCode != 487 || logs[1].State != StateCancelled {
		t.Errorf("records: %+v", logs)
	}
}

func TestCall486NotAdvanced(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	r.c1.nextInvite().respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 || res.Reason != "Busy Here" {
		t.Fatalf("got %d %s, want 486 Busy Here", res.StatusCode, res.Reason)
	}
	r.c2.noInvite()
	logs := r.legs(2)
	if logs[0].State != StateBusy || logs[1].State != StateBusy || logs[1].SIPCode != 486 {
		t.Errorf("records: %+v", logs)
	}
}

func TestCall503Advances(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	r.c1.nextInvite().respond(503, "Service Unavailable", nil)
	in := r.c2.nextInvite()
	if in.req.Recipient.User != "2000" || in.req.To().Address.User != "2000" {
		t.Errorf("destination username not applied: R-URI %s, To %s", in.req.Recipient.String(), in.req.To().Value())
	}
	if in.req.GetHeader("X-Client-Ref") != nil {
		t.Error("carrier-1's custom header reached carrier-2")
	}
	in.answer()
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	r.c2.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c2.nextRequest(sip.BYE)
	logs := r.legs(3)
	if logs[1].SIPCode != 503 || logs[1].State != StateFailed || logs[2].State != StateFinished || logs[2].Trunk != "carrier-2" {
		t.Errorf("records: %+v", logs)
	}
	if m := r.metricsText(); !strings.Contains(m, `trunkline_route_attempts_total{trunk="carrier-1",code="503"} 1`) {
		t.Errorf("attempt not counted:\n%s", m)
	}
}

// TestCallSilentAdvances: carrier-1 swallows the INVITE; after the re-routing
// delay (shortened) the hunt moves on without a CANCEL. When carrier-1
// answers long after, the call over, its 200 is acknowledged and hung up.
func TestCallSilentAdvances(t *testing.T) {
	rc := &rawCallee{t: t, conn: udpPeer(t, "127.0.0.2")}
	r := newCallRig(t, "", rc.conn.LocalAddr().String())
	oc := r.call()
	m, from := rc.read(false)
	inv, ok := m.(*sip.Request)
	if !ok || !inv.IsInvite() {
		t.Fatalf("the silent trunk got %v, want INVITE", m)
	}
	in := r.c2.nextInvite()
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
	logs := r.legs(3)
	if logs[1].State != StateFailed || logs[1].SIPCode != 408 {
		t.Errorf("silent attempt record: %+v", logs[1])
	}

	// The late answer.
	late := sip.NewResponseFromRequest(inv, 200, "OK", r.c1.sdp())
	late.To().Params.Add("tag", "late")
	late.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "late", Host: "127.0.0.2", Port: rc.conn.LocalAddr().(*net.UDPAddr).Port}})
	late.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	rc.write(late, from)
	// Nothing but INVITE retransmissions came before: no CANCEL.
	m, _ = rc.read(true)
	if ack, ok := m.(*sip.Request); !ok || !ack.IsAck() || toTag(ack) != "late" {
		t.Fatalf("got %v, want the ACK of the late 200", m)
	}
	m, _ = rc.read(true)
	bye, ok := m.(*sip.Request)
	if !ok || bye.Method != sip.BYE || toTag(bye) != "late" {
		t.Fatalf("got %v, want BYE", m)
	}
	rc.write(sip.NewResponseFromRequest(bye, 200, "OK", nil), from)
}

// TestCallRingNoAnswer: carrier-1 rings past its connectTimeout (1 s): it is
// cancelled and the hunt moves on; the caller heard 180 once.
func TestCallRingNoAnswer(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	in1 := r.c1.nextInvite()
	in1.respond(180, "Ringing", nil)
	oc.until(180)
	select {
	case <-in1.cancelled:
	case <-time.After(answerWithin):
		t.Fatal("carrier-1 was not cancelled")
	}
	in2 := r.c2.nextInvite()
	in2.respond(180, "Ringing", nil)
	in2.answer()
	var ok *sip.Response
	for ok == nil {
		res := oc.next()
		switch {
		case res.StatusCode == 180:
			t.Error("the caller heard a second 180")
		case !res.IsProvisional():
			ok = res
		}
	}
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	r.c2.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	logs := r.legs(3)
	if logs[1].State != StateNoAnswer || logs[1].SIPCode != 480 {
		t.Errorf("unanswered attempt record: %+v", logs[1])
	}
}

func TestCallAllFail(t *testing.T) {
	cases := []struct {
		c1, c2, want int
	}{
		{503, 404, 404},
		{503, 503, 500},
		{480, 603, 603}, // 6xx first
		{500, 408, 408},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d+%d", c.c1, c.c2), func(t *testing.T) {
			r := newCallRig(t, "", "")
			if err := r.s.SetConfig(withAdvanceOn(t, r.s.Config(), 404, 408, 480, 500, 503, 603)); err != nil {
				t.Fatal(err)
			}
			oc := r.call()
			r.c1.nextInvite().respond(c.c1, "One", nil)
			r.c2.nextInvite().respond(c.c2, "Two", nil)
			if res := oc.final(); res.StatusCode != c.want {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, c.want)
			}
		})
	}
}

// withAdvanceOn returns a copy of cfg whose route main advances on codes.
func withAdvanceOn(t *testing.T, cfg *config.Config, codes ...int) *config.Config {
	t.Helper()
	next := cfg.Clone()
	next.Routes[0].AdvanceOn = codes
	return next
}

// TestCallEarlyMedia: a 183 with SDP reaches the caller once, rewritten,
// and its early media flows through the relay before the answer. (sipgo
// handles each response on a goroutine of its own: their order may change
// on the way, so the test counts them.)
func TestCallEarlyMedia(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	in := r.c1.nextInvite()
	offerB := sdpAddr(t, in.req.Body())
	in.respond(183, "Session Progress", r.c1.sdp())
	in.respond(183, "Session Progress", r.c1.sdp())
	count := map[int]int{}
	var earlyA netip.AddrPort
	for count[183] == 0 {
		res := oc.next()
		count[res.StatusCode]++
		if res.StatusCode == 183 {
			earlyA = sdpAddr(t, res.Body())
		}
	}
	if earlyA.Addr() != netip.MustParseAddr("127.0.0.1") || int(earlyA.Port()) == r.c1.rtpPort() {
		t.Errorf("early SDP points at %v", earlyA)
	}
	if got := r.c1.sendRTP(offerB, r.caller, "ringback"); got != "ringback" {
		t.Errorf("caller got %q", got)
	}
	in.respond(180, "Ringing", nil)
	in.respond(183, "Session Progress", r.c1.sdp())
	for count[180] == 0 { // the 180 has been relayed before the answer is sent
		count[oc.next().StatusCode]++
	}
	in.answer()
	var ok *sip.Response
	for ok == nil {
		res := oc.next()
		if res.IsProvisional() {
			count[res.StatusCode]++
			continue
		}
		ok = res
	}
	if count[183] != 1 || count[180] != 1 {
		t.Errorf("the caller got %d 183 and %d 180, want one each", count[183], count[180])
	}
	if ok.StatusCode != 200 || sdpAddr(t, ok.Body()) != earlyA {
		t.Errorf("answer %d with SDP %v, want 200 with the early one %v", ok.StatusCode, sdpAddr(t, ok.Body()), earlyA)
	}
	oc.ack(ok)
	r.c1.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// TestCallReinvite: hold and resume from the caller, then a re-INVITE from
// the callee, each relayed with SDP rewritten and acknowledged.
func TestCallReinvite(t *testing.T) {
	r := newCallRig(t, "", "")
	oc, in := r.connect(r.c1)
	legB := sdpAddr(t, in.req.Body())

	hold := r.caller.sdp("a=sendonly")
	res := r.caller.do(oc.d.Request(sip.INVITE, hold, "application/sdp"))
	if res.StatusCode != 200 {
		t.Fatalf("re-INVITE got %d", res.StatusCode)
	}
	r.caller.send(oc.d.Ack(res.CSeq().SeqNo, nil, ""))
	re := r.c1.nextRequest(sip.INVITE)
	if !strings.Contains(string(re.Body()), "a=sendonly") || sdpAddr(t, re.Body()) != legB {
		t.Errorf("callee's re-INVITE SDP:\n%s", re.Body())
	}
	hidden(t, "the callee's re-INVITE", re.String(), r.caller, oc.req)
	if ack := r.c1.nextAck(); ack.CSeq().SeqNo != re.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, want %d", ack.CSeq().SeqNo, re.CSeq().SeqNo)
	}
	hidden(t, "the caller's re-INVITE answer", res.String(), r.c1, in.req, in.ok)

	// Resume, from a new RTP port of the caller's: media follows.
	moved := newTestUA(t, "alice2", "127.0.0.1")
	res = r.caller.do(oc.d.Request(sip.INVITE, moved.sdp(), "application/sdp"))
	if res.StatusCode != 200 {
		t.Fatalf("second re-INVITE got %d", res.StatusCode)
	}
	r.caller.send(oc.d.Ack(res.CSeq().SeqNo, nil, ""))
	r.c1.nextRequest(sip.INVITE)
	r.c1.nextAck()
	if got := r.c1.sendRTP(legB, moved, "to-new-port"); got != "to-new-port" {
		t.Errorf("moved caller got %q", got)
	}

	// The callee re-INVITEs.
	d := in.dialog()
	res = r.c1.do(d.Request(sip.INVITE, r.c1.sdp("a=recvonly"), "application/sdp"))
	if res.StatusCode != 200 {
		t.Fatalf("callee's re-INVITE got %d", res.StatusCode)
	}
	r.c1.send(d.Ack(res.CSeq().SeqNo, nil, ""))
	reA := r.caller.nextRequest(sip.INVITE)
	if !strings.Contains(string(reA.Body()), "a=recvonly") {
		t.Errorf("caller's re-INVITE SDP:\n%s", reA.Body())
	}
	hidden(t, "the caller's re-INVITE", reA.String(), r.c1, in.req, in.ok)
	r.caller.nextAck()

	// UPDATE from the caller, with an offer.
	res = r.caller.do(oc.d.Request(sip.UPDATE, r.caller.sdp(), "application/sdp"))
	if res.StatusCode != 200 || sdpAddr(t, res.Body()).Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("UPDATE got %d:\n%s", res.StatusCode, res.Body())
	}
	if up := r.c1.nextRequest(sip.UPDATE); sdpAddr(t, up.Body()) != legB {
		t.Errorf("callee's UPDATE SDP:\n%s", up.Body())
	}

	// INFO (DTMF) crosses with its body.
	info := d.Request(sip.INFO, []byte("Signal=5\r\nDuration=160\r\n"), "application/dtmf-relay")
	if res := r.c1.do(info); res.StatusCode != 200 {
		t.Fatalf("INFO got %d", res.StatusCode)
	}
	gotInfo := r.caller.nextRequest(sip.INFO)
	if string(gotInfo.Body()) != "Signal=5\r\nDuration=160\r\n" || gotInfo.ContentType().Value() != "application/dtmf-relay" {
		t.Errorf("relayed INFO:\n%s", gotInfo)
	}

	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// TestCallRetransmitted200: the callee repeats its 200 OK (its ACK "lost");
// the appliance acknowledges it again.
func TestCallRetransmitted200(t *testing.T) {
	r := newCallRig(t, "", "")
	oc, in := r.connect(r.c1)
	if err := in.tx.Respond(in.ok); err != nil {
		t.Fatal(err)
	}
	r.c1.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// TestCallShutdownHangsUp: a call outliving the drain is hung up on both
// sides, and nothing of the server is left running.
func TestCallShutdownHangsUp(t *testing.T) {
	before := goleak.IgnoreCurrent()
	// Registered first, run last: after the UAs are closed too.
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	r := newCallRig(t, "", "")
	r.connect(r.c1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.s.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown reported no live call")
	}
	r.caller.nextRequest(sip.BYE)
	r.c1.nextRequest(sip.BYE)
	if logs := r.s.CallLogs(); len(logs) != 2 || logs[0].Reason != "shutdown" {
		t.Errorf("records: %+v", logs)
	}
}

func TestCallLimits(t *testing.T) {
	t.Run("channelLimit", func(t *testing.T) {
		r := newCallRig(t, ", channelLimit: 1", "")
		oc, _ := r.connect(r.c1)
		second := r.call()
		if res := second.final(); res.StatusCode != 503 {
			t.Fatalf("second call got %d, want 503", res.StatusCode)
		}
		if st, _ := r.s.TrunkStatus("pbx"); st.ActiveCalls != 1 {
			t.Errorf("pbx ActiveCalls = %d, want 1", st.ActiveCalls)
		}
		r.caller.do(oc.d.Request(sip.BYE, nil, ""))
		r.c1.nextRequest(sip.BYE)
	})
	t.Run("cpsLimit", func(t *testing.T) {
		r := newCallRig(t, ", cpsLimit: 1", "")
		first := r.call()
		in := r.c1.nextInvite()
		second := r.call()
		res := second.final()
		if res.StatusCode != 503 || header(res, "Retry-After") != "1" {
			t.Fatalf("second call got %d Retry-After %q, want 503 with Retry-After: 1", res.StatusCode, header(res, "Retry-After"))
		}
		in.respond(486, "Busy Here", nil)
		first.final()
	})
}

func TestCallRefused(t *testing.T) {
	r := newCallRig(t, "", "")
	cases := []struct {
		name   string
		to     string
		header sip.Header
		body   []byte
		code   int
	}{
		{"no route", "999", nil, nil, 404},
		{"Require", called, sip.NewHeader("Require", "foo"), nil, 420},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hs []sip.Header
			if c.header != nil {
				hs = append(hs, c.header)
			}
			oc := r.caller.invite(r.to, c.to, r.caller.sdp(), hs...)
			if res := oc.final(); res.StatusCode != c.code {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, c.code)
			}
		})
	}
}

// TestCallLateOffer: an INVITE without SDP; the callee offers in its 200,
// the caller answers in its ACK, which the appliance carries to the
// callee's ACK — both rewritten.
func TestCallLateOffer(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.caller.invite(r.to, called, nil)
	in := r.c1.nextInvite()
	if len(in.req.Body()) != 0 {
		t.Fatalf("callee's INVITE has a body:\n%s", in.req.Body())
	}
	in.answer()
	ok := oc.final()
	offerA := sdpAddr(t, ok.Body())
	if offerA.Addr() != netip.MustParseAddr("127.0.0.1") || int(offerA.Port()) == r.c1.rtpPort() {
		t.Fatalf("caller's offer points at %v", offerA)
	}
	d := sipmsg.DialogFromResponse(ok, r.caller.local())
	d.RouteSet = nil
	oc.d = &d
	r.caller.send(d.Ack(ok.CSeq().SeqNo, r.caller.sdp(), "application/sdp"))
	ack := r.c1.nextAck()
	answerB := sdpAddr(t, ack.Body())
	if answerB.Addr() != netip.MustParseAddr("127.0.0.1") || int(answerB.Port()) == r.caller.rtpPort() || answerB == offerA {
		t.Fatalf("callee's answer (in the ACK) points at %v", answerB)
	}
	if got := r.caller.sendRTP(offerA, r.c1, "late-a"); got != "late-a" {
		t.Errorf("callee got %q", got)
	}
	if got := r.c1.sendRTP(answerB, r.caller, "late-b"); got != "late-b" {
		t.Errorf("caller got %q", got)
	}
	r.caller.do(d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// TestCallBigInviteOverTCP: a B-leg INVITE too big for a datagram goes to
// the UDP trunk over TCP, and the dialog stays there.
func TestCallBigInviteOverTCP(t *testing.T) {
	r := newCallRig(t, "", "")
	next := r.s.Config().Clone()
	next.Routes[0].Destinations[0].Value.CustomHeaders["X-Big"] = strings.Repeat("x", 1000)
	if err := r.s.SetConfig(next); err != nil {
		t.Fatal(err)
	}
	oc, in := r.connect(r.c1)
	if tr := in.req.Transport(); tr != "TCP" {
		t.Fatalf("the big INVITE came over %s, want TCP", tr)
	}
	if v := in.req.Via(); v.Transport != "TCP" {
		t.Errorf("Via %s", v.Value())
	}
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	if bye := r.c1.nextRequest(sip.BYE); bye.Transport() != "TCP" {
		t.Errorf("BYE came over %s, want TCP", bye.Transport())
	}
}

// TestCallDropUnknown: with sip.dropUnknown, the callee's trunk is no
// source, yet its answers and its BYE get through: it is a destination.
func TestCallDropUnknown(t *testing.T) {
	r := newCallRig(t, "", "")
	next := r.s.Config().Clone()
	next.SIP.DropUnknown = true
	if err := r.s.SetConfig(next); err != nil {
		t.Fatal(err)
	}
	_, in := r.connect(r.c1)
	d := in.dialog()
	if res := r.c1.do(d.Request(sip.BYE, nil, "")); res.StatusCode != 200 {
		t.Fatalf("callee's BYE got %d", res.StatusCode)
	}
	r.caller.nextRequest(sip.BYE)
}

// TestCall200RetransmittedUntilAck: the appliance repeats its 200 OK to a
// caller that has not acknowledged it (UDP), and stops once it does.
func TestCall200RetransmittedUntilAck(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	in := r.c1.nextInvite()
	in.answer()
	ok := oc.final()
	r.c1.nextAck()
	select {
	case again := <-r.caller.strays:
		if again.StatusCode != 200 || callID(again) != callID(ok) || toTag(again) != toTag(ok) {
			t.Fatalf("retransmission differs:\n%s", again)
		}
	case <-time.After(answerWithin):
		t.Fatal("the 200 OK was not retransmitted")
	}
	oc.ack(ok)
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// rawCallee is a callee trunk played with a bare UDP socket, for what a
// sipgo UA would not do (answer a cancelled INVITE).
type rawCallee struct {
	t    *testing.T
	conn *net.UDPConn
}

// read returns the next request or response that arrives, skipping
// retransmissions of the INVITE when skipInvite.
func (rc *rawCallee) read(skipInvite bool) (sip.Message, net.Addr) {
	rc.t.Helper()
	buf := make([]byte, 65535)
	for {
		rc.conn.SetReadDeadline(time.Now().Add(answerWithin))
		n, from, err := rc.conn.ReadFrom(buf)
		if err != nil {
			rc.t.Fatalf("raw callee: %v", err)
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			rc.t.Fatalf("raw callee got unparsable %q: %v", buf[:n], err)
		}
		if req, ok := m.(*sip.Request); ok && skipInvite && req.IsInvite() {
			continue
		}
		return m, from
	}
}

func (rc *rawCallee) write(m sip.Message, to net.Addr) {
	rc.t.Helper()
	if _, err := rc.conn.WriteTo([]byte(m.String()), to); err != nil {
		rc.t.Fatal(err)
	}
}

// TestCall2xxRacingCancel: the callee answers an INVITE the appliance has
// just cancelled (connectTimeout); the appliance acknowledges that answer
// and hangs it up, and the hunt goes on.
func TestCall2xxRacingCancel(t *testing.T) {
	rc := &rawCallee{t: t, conn: udpPeer(t, "127.0.0.2")}
	r := newCallRig(t, "", rc.conn.LocalAddr().String())
	oc := r.call()
	m, from := rc.read(false)
	inv := m.(*sip.Request)
	ringing := sip.NewResponseFromRequest(inv, 180, "Ringing", nil)
	ringing.To().Params.Add("tag", "racer")
	rc.write(ringing, from)

	m, _ = rc.read(true) // the CANCEL, after connectTimeout (1 s)
	cancel, ok := m.(*sip.Request)
	if !ok || cancel.Method != sip.CANCEL {
		t.Fatalf("got %v, want CANCEL", m)
	}
	rc.write(sip.NewResponseFromRequest(cancel, 200, "OK", nil), from)
	answer := sip.NewResponseFromRequest(inv, 200, "OK", r.c1.sdp())
	answer.To().Params.Add("tag", "racer")
	answer.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "racer", Host: "127.0.0.2", Port: rc.conn.LocalAddr().(*net.UDPAddr).Port}})
	answer.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	rc.write(answer, from)

	m, _ = rc.read(true)
	if ack, ok := m.(*sip.Request); !ok || !ack.IsAck() || toTag(ack) != "racer" {
		t.Fatalf("got %v, want the ACK of the late 200", m)
	}
	m, _ = rc.read(true)
	bye, ok := m.(*sip.Request)
	if !ok || bye.Method != sip.BYE || toTag(bye) != "racer" {
		t.Fatalf("got %v, want BYE", m)
	}
	rc.write(sip.NewResponseFromRequest(bye, 200, "OK", nil), from)

	r.c2.nextInvite().respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("caller got %d, want 486", res.StatusCode)
	}
}

// TestCallReinviteRejected: the callee rejects the caller's re-INVITE
// moving its media; the relay sends to the caller's previous address
// again, and the same move offered later is carried anew.
func TestCallReinviteRejected(t *testing.T) {
	r := newCallRig(t, "", "")
	oc, in := r.connect(r.c1)
	legB := sdpAddr(t, in.req.Body())
	r.c1.mu.Lock()
	r.c1.reinvite = func(req *sip.Request) *sip.Response {
		return sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
	}
	r.c1.mu.Unlock()
	moved := rtpOnlyUA(t, "alice2", "127.0.0.1")
	res := r.caller.do(oc.d.Request(sip.INVITE, moved.sdp(), "application/sdp"))
	if res.StatusCode != 488 {
		t.Fatalf("re-INVITE got %d, want the callee's 488", res.StatusCode)
	}
	r.caller.send(oc.d.Ack(res.CSeq().SeqNo, nil, ""))
	r.c1.nextRequest(sip.INVITE)
	if got := r.c1.sendRTP(legB, r.caller, "still-here"); got != "still-here" {
		t.Errorf("caller got %q", got)
	}

	// The callee now accepts the same move: media follows it.
	r.c1.mu.Lock()
	r.c1.reinvite = nil
	r.c1.mu.Unlock()
	res = r.caller.do(oc.d.Request(sip.INVITE, moved.sdp(), "application/sdp"))
	if res.StatusCode != 200 {
		t.Fatalf("second re-INVITE got %d", res.StatusCode)
	}
	r.caller.send(oc.d.Ack(res.CSeq().SeqNo, nil, ""))
	r.c1.nextRequest(sip.INVITE)
	r.c1.nextAck()
	if got := r.c1.sendRTP(legB, moved, "moved"); got != "moved" {
		t.Errorf("moved caller got %q", got)
	}
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// rtpOnlyUA is a peer with an RTP socket and no SIP: where a caller moves
// its media.
func rtpOnlyUA(t *testing.T, name, ip string) *testUA {
	t.Helper()
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rtp.Close() })
	return &testUA{t: t, name: name, ip: ip, rtp: rtp}
}
