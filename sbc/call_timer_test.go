package sbc

import (
	"bytes"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// shortTimers lets the tests negotiate session intervals of seconds.
func shortTimers(s *Server) { s.minSE = time.Second }

// TestSessionTimer422: a Session-Expires below the appliance's Min-SE (90
// s) is refused with 422 and Min-SE; the callee never hears of it.
func TestSessionTimer422(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call(sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "60"))
	res := oc.final()
	if res.StatusCode != 422 || header(res, "Min-SE") != "90" {
		t.Fatalf("got %d Min-SE %q, want 422 with Min-SE: 90", res.StatusCode, header(res, "Min-SE"))
	}
	r.c1.noInvite()
}

// TestSessionTimerPeerRefreshes: the caller refreshes its leg (refresher
// uac); the appliance answers its refreshes itself (re-INVITE with the
// same description, UPDATE without one), relaying nothing to the callee,
// whose leg has a timer of its own (asked in its INVITE). When the
// caller's refreshes stop, the session expires: BYE to both legs.
func TestSessionTimerPeerRefreshes(t *testing.T) {
	r := newCallRigWith(t, "", "", shortTimers)
	offer := r.caller.sdp()
	oc := r.caller.invite(r.to, called, offer, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "2;refresher=uac"))
	in := r.c1.nextInvite()
	if se, _, ok := sessionExpires(in.req); !ok || se != defaultSessionExpires {
		t.Errorf("callee's INVITE Session-Expires %v, want %v", in.req.GetHeader("Session-Expires"), defaultSessionExpires)
	}
	if !hasOption(in.req, "timer") {
		t.Errorf("callee's INVITE does not support timer")
	}
	in.answer()
	ok := oc.final()
	if ok.StatusCode != 200 || header(ok, "Session-Expires") != "2;refresher=uac" || !hasRequire(ok, "timer") {
		t.Fatalf("caller's 200: Session-Expires %q Require %q", header(ok, "Session-Expires"), header(ok, "Require"))
	}
	d := oc.ack(ok)
	r.c1.nextAck()

	// A refresh by re-INVITE: the same offer, answered with the same answer.
	re := d.Request(sip.INVITE, offer, "application/sdp")
	re.AppendHeader(sip.NewHeader("Session-Expires", "2;refresher=uac"))
	re.AppendHeader(sip.NewHeader("Supported", "timer"))
	res := r.caller.do(re)
	if res.StatusCode != 200 || !bytes.Equal(res.Body(), ok.Body()) || header(res, "Session-Expires") != "2;refresher=uac" {
		t.Fatalf("refresh got %d Session-Expires %q:\n%s", res.StatusCode, header(res, "Session-Expires"), res.Body())
	}
	r.caller.send(d.Ack(res.CSeq().SeqNo, nil, ""))
	// A refresh by UPDATE without a body.
	up := d.Request(sip.UPDATE, nil, "")
	up.AppendHeader(sip.NewHeader("Session-Expires", "2;refresher=uac"))
	if res := r.caller.do(up); res.StatusCode != 200 || header(res, "Session-Expires") != "2;refresher=uac" {
		t.Fatalf("UPDATE refresh got %d Session-Expires %q", res.StatusCode, header(res, "Session-Expires"))
	}
	noRequest(t, r.c1) // neither refresh crossed

	// No more refreshes: the session expires.
	r.c1.nextRequest(sip.BYE)
	r.caller.nextRequest(sip.BYE)
	if logs := r.legs(2); logs[0].Reason != "session expired" {
		t.Errorf("A leg record: %+v", logs[0])
	}
}

// TestSessionTimerApplianceRefreshes: the appliance is the refresher of
// both legs — the caller asks refresher=uas, the callee's 2xx names the
// appliance (uac) — and refreshes each with a re-INVITE carrying the
// description it last sent that leg, acknowledged, each on its own timer.
func TestSessionTimerApplianceRefreshes(t *testing.T) {
	r := newCallRigWith(t, "", "", shortTimers)
	oc := r.caller.invite(r.to, called, r.caller.sdp(), sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "2;refresher=uas"))
	in := r.c1.nextInvite()
	in.respond(200, "OK", r.c1.sdp(), sip.NewHeader("Session-Expires", "2;refresher=uac"), sip.NewHeader("Require", "timer"))
	ok := oc.final()
	if header(ok, "Session-Expires") != "2;refresher=uas" {
		t.Fatalf("caller's 200 Session-Expires %q", header(ok, "Session-Expires"))
	}
	d := oc.ack(ok)
	r.c1.nextAck()

	reA := r.caller.nextRequest(sip.INVITE)
	if se, who, _ := sessionExpires(reA); se != 2*time.Second || who != "uac" || !bytes.Equal(reA.Body(), ok.Body()) {
		t.Errorf("caller's refresh: Session-Expires %v, body:\n%s", reA.GetHeader("Session-Expires"), reA.Body())
	}
	if ack := r.caller.nextAck(); ack.CSeq().SeqNo != reA.CSeq().SeqNo {
		t.Errorf("caller's ACK CSeq %d, want %d", ack.CSeq().SeqNo, reA.CSeq().SeqNo)
	}
	reB := r.c1.nextRequest(sip.INVITE)
	if _, _, ok := sessionExpires(reB); !ok || !bytes.Equal(reB.Body(), in.req.Body()) {
		t.Errorf("callee's refresh: Session-Expires %v, body:\n%s", reB.GetHeader("Session-Expires"), reB.Body())
	}
	if ack := r.c1.nextAck(); ack.CSeq().SeqNo != reB.CSeq().SeqNo {
		t.Errorf("callee's ACK CSeq %d, want %d", ack.CSeq().SeqNo, reB.CSeq().SeqNo)
	}
	r.caller.do(d.Request(sip.BYE, nil, ""))
	untilRequest(t, r.c1, sip.BYE)
	if logs := r.legs(2); logs[0].Reason != "caller hung up" {
		t.Errorf("A leg record: %+v", logs[0])
	}
}

// untilRequest waits for an in-dialog request of method at u, skipping
// others (refreshes).
func untilRequest(t *testing.T, u *testUA, method sip.RequestMethod) *sip.Request {
	t.Helper()
	deadline := time.After(answerWithin)
	for {
		select {
		case r := <-u.reqs:
			if r.Method == method {
				return r
			}
		case <-deadline:
			t.Fatalf("%s: no %s within %v", u.name, method, answerWithin)
			return nil
		}
	}
}

// TestSessionTimerCallee422: a callee refusing the asked interval with 422
// gets the INVITE again, in the same call leg with a higher CSeq, asking
// its Min-SE (RFC 4028 §7.4); the caller sees none of it.
func TestSessionTimerCallee422(t *testing.T) {
	r := newCallRig(t, "", "")
	oc := r.call()
	in := r.c1.nextInvite()
	in.respond(422, "Session Interval Too Small", nil, sip.NewHeader("Min-SE", "3600"))
	again := r.c1.nextInvite()
	if se, _, _ := sessionExpires(again.req); se != time.Hour {
		t.Errorf("second INVITE Session-Expires %v, want 3600", again.req.GetHeader("Session-Expires"))
	}
	if callID(again.req) != callID(in.req) || again.req.CSeq().SeqNo <= in.req.CSeq().SeqNo {
		t.Errorf("second INVITE Call-ID %s CSeq %d, after %s CSeq %d", callID(again.req), again.req.CSeq().SeqNo, callID(in.req), in.req.CSeq().SeqNo)
	}
	again.answer()
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	if ack := r.c1.nextAck(); ack.CSeq().SeqNo != again.req.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, want %d", ack.CSeq().SeqNo, again.req.CSeq().SeqNo)
	}
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c1.nextRequest(sip.BYE)
}
