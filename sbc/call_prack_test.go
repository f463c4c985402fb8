package sbc

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// reliable183 sends the callee's 183 with SDP, reliably with RSeq rseq.
func reliable183(in *inInvite, rseq int) *sip.Response {
	return in.respond(183, "Session Progress", in.u.sdp(),
		sip.NewHeader("Require", "100rel"), sip.NewHeader("RSeq", strconv.Itoa(rseq)))
}

// nextPrack waits for the callee's next request, a PRACK, and checks its
// RAck.
func nextPrack(t *testing.T, u *testUA, in *inInvite, rseq int) *sip.Request {
	t.Helper()
	p := u.nextRequest(sip.PRACK)
	want := fmt.Sprintf("%d %d INVITE", rseq, in.req.CSeq().SeqNo)
	if h := p.GetHeader("RAck"); h == nil || h.Value() != want {
		t.Errorf("PRACK RAck = %v, want %q", h, want)
	}
	if toTag(p) != in.tag || callID(p) != callID(in.req) {
		t.Errorf("PRACK outside the early dialog:\n%s", p)
	}
	return p
}

// noRequest asserts that no in-dialog request reaches u within
// silenceWithin.
func noRequest(t *testing.T, u *testUA) {
	t.Helper()
	select {
	case r := <-u.reqs:
		t.Fatalf("%s: unexpected %s:\n%s", u.name, r.Method, r)
	case <-time.After(silenceWithin):
	}
}

// prackA sends the caller's PRACK for a reliable provisional response.
func prackA(oc *outCall, res *sip.Response, rseq uint32) *sip.Response {
	d := sipmsg.DialogFromResponse(res, oc.u.local())
	d.RouteSet = nil
	req := d.Request(sip.PRACK, nil, "")
	req.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, oc.req.CSeq().SeqNo)))
	return oc.u.do(req)
}

// TestCall100rel: a caller supporting 100rel gets the relayed 183 and 180
// reliably — Require: 100rel, increasing RSeq, retransmitted until its
// PRACK, one at a time — and the callee's reliable responses are PRACKed by
// the appliance in their early dialog, a retransmission not again.
func TestCall100rel(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call(sip.NewHeader("Supported", "100rel, timer"))
	in := r.c1.nextInvite()
	if !hasOption(in.req, "100rel") || !hasOption(in.req, "timer") {
		t.Errorf("callee's INVITE Supported = %v", in.req.GetHeader("Supported"))
	}
	reliable183(in, 1)
	nextPrack(t, r.c1, in, 1)
	early := oc.until(183)
	rseq := rseqOf(early)
	if !hasRequire(early, "100rel") || rseq == 0 || len(early.Body()) == 0 {
		t.Fatalf("caller's 183 is not reliable with SDP:\n%s", early)
	}
	// Not PRACKed yet: it comes again, the same.
	if again := oc.until(183); rseqOf(again) != rseq {
		t.Errorf("retransmitted 183 RSeq %d, want %d", rseqOf(again), rseq)
	}
	// The callee's retransmission is not PRACKed again.
	reliable183(in, 1)
	noRequest(t, r.c1)

	// The callee's reliable 180 is PRACKed in turn; the caller's waits for
	// the caller's PRACK of the 183.
	in.respond(180, "Ringing", nil, sip.NewHeader("Require", "100rel"), sip.NewHeader("RSeq", "2"))
	nextPrack(t, r.c1, in, 2)
	if res := prackA(oc, early, rseq); res.StatusCode != 200 {
		t.Fatalf("caller's PRACK got %d", res.StatusCode)
	}
	ring := oc.until(180)
	if !hasRequire(ring, "100rel") || rseqOf(ring) != rseq+1 {
		t.Fatalf("caller's 180 RSeq %d, want %d:\n%s", rseqOf(ring), rseq+1, ring)
	}
	if res := prackA(oc, ring, rseq+7); res.StatusCode != 481 {
		t.Errorf("PRACK of an unknown RSeq got %d, want 481", res.StatusCode)
	}
	if res := prackA(oc, ring, rseq+1); res.StatusCode != 200 {
		t.Fatalf("caller's second PRACK got %d", res.StatusCode)
	}

	in.answer()
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	if ack := r.c1.nextAck(); ack.CSeq().SeqNo != in.req.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, want the INVITE's %d", ack.CSeq().SeqNo, in.req.CSeq().SeqNo)
	}
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
	if logs := r.legs(2); logs[0].State != StateFinished {
		t.Errorf("A leg record: %+v", logs[0])
	}
}

// TestCall100relCalleeOnly: the caller knows nothing of 100rel; the
// callee's reliable 183 is PRACKed by the appliance all the same, and
// reaches the caller as an ordinary 183 with its early SDP.
func TestCall100relCalleeOnly(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	in := r.c1.nextInvite()
	reliable183(in, 7)
	nextPrack(t, r.c1, in, 7)
	early := oc.until(183)
	if hasRequire(early, "100rel") || early.GetHeader("RSeq") != nil || len(early.Body()) == 0 {
		t.Fatalf("caller's 183:\n%s", early)
	}
	in.answer()
	ok := oc.final()
	oc.ack(ok)
	r.c1.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}

// TestCall100relRequired: Require: 100rel is taken; an unknown extension
// is refused with 420 naming it only.
func TestCall100relRequired(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call(sip.NewHeader("Require", "100rel, foo"))
	res := oc.final()
	if res.StatusCode != 420 || header(res, "Unsupported") != "foo" {
		t.Fatalf("got %d Unsupported %q, want 420 foo", res.StatusCode, header(res, "Unsupported"))
	}
	oc = r.call(sip.NewHeader("Require", "100rel"))
	in := r.c1.nextInvite()
	in.respond(180, "Ringing", nil)
	ring := oc.until(180)
	if !hasRequire(ring, "100rel") || rseqOf(ring) == 0 {
		t.Fatalf("caller's 180 is not reliable:\n%s", ring)
	}
	prackA(oc, ring, rseqOf(ring))
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
}

// TestCall100relHolds200: the callee answers at once after its (unreliable)
// 183 with SDP; the caller got that 183 reliably, and its 200 waits for the
// caller's PRACK (RFC 3262 §3: no 2xx while a reliable provisional response
// with a session description is unacknowledged).
func TestCall100relHolds200(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call(sip.NewHeader("Supported", "100rel"))
	in := r.c1.nextInvite()
	in.respond(183, "Session Progress", r.c1.sdp())
	early := oc.until(183)
	if !hasRequire(early, "100rel") || len(early.Body()) == 0 {
		t.Fatalf("caller's 183:\n%s", early)
	}
	in.answer()
	r.c1.nextAck() // the callee's answer is acknowledged at once
	deadline := time.After(silenceWithin)
	for waiting := true; waiting; {
		select {
		case res := <-oc.resps:
			if !res.IsProvisional() {
				t.Fatalf("got %d before the PRACK", res.StatusCode)
			}
		case <-deadline:
			waiting = false
		}
	}
	if res := prackA(oc, early, rseqOf(early)); res.StatusCode != 200 {
		t.Fatalf("PRACK got %d", res.StatusCode)
	}
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}
