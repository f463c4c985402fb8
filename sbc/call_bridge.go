package sbc

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// relayed is a request of one leg relayed to the other, awaiting the
// other's final response.
type relayed struct {
	from *evRequest // the request received
	ct   *clientTx  // the request sent on
	// offerless: a re-INVITE without SDP; the other leg's 2xx carries the
	// offer and the requester's ACK the answer, relayed in the other ACK.
	offerless bool
	// undo is the media state before the offer it carried, restored when
	// the offer is rejected; nil for a request without an offer.
	undo *offerUndo
}

// offerUndo is what an offer relayed from side changed: where that side's
// media went, and the description state of the other side.
type offerUndo struct {
	side side
	peer mediaPeer
	desc sdpState
	keys srtpSide // the SDES state toward the other leg
}

// undoOffer restores the media state from before an offer the other leg
// rejected: the relay sends to the sender's previous address again, and
// the description cache forgets the offer (its o= version stays spent,
// RFC 3264 §8).
func (c *call) undoOffer(u *offerUndo) {
	if u == nil {
		return
	}
	st := &c.desc[u.side.other()]
	st.lastIn, st.lastOut = u.desc.lastIn, u.desc.lastOut
	c.sdes[u.side.other()] = u.keys
	if u.peer.rtp.IsValid() && u.peer != c.peer[u.side] {
		c.log.Info("offer rejected: media back to the previous address", "side", u.side.String(), "rtp", u.peer.rtp.String())
		c.setPeer(u.side, u.peer)
	}
}

// ackWait is a 2xx the appliance sent to an INVITE, retransmitted (over
// UDP) until its ACK arrives (RFC 3261 §13.3.1.4).
type ackWait struct {
	side     side
	cseq     uint32
	tx       sip.ServerTransaction
	res      *sip.Response
	next     time.Time
	interval time.Duration
	deadline time.Time
	initial  bool // the 2xx of the call's INVITE
	// When the ACK arrives, forward an ACK to the other leg for its INVITE
	// of sequence number fwdCSeq, with the answer the ACK carries.
	forward bool
	fwdCSeq uint32
}

// connect bridges the call to an attempt that answered: it acknowledges
// the 2xx (unless the caller's answer must come first), answers the caller
// with the description rewritten for the relay's A side, and waits for the
// caller's ACK in the bridge loop.
func (c *call) connect(att *attempt, res *sip.Response) error {
	att.answered = time.Now()
	att.leg.RemoteTag = toTag(res)
	if ct := res.Contact(); ct != nil {
		att.leg.RemoteTarget = *ct.Address.Clone()
	}
	att.leg.RouteSet = sipmsg.RouteSet(res)
	c.b = att
	var body []byte
	hasSDP := len(res.Body()) > 0 && isSDP(res.ContentType())
	switch {
	case hasSDP:
		out, err := c.carrySDP(sideB, res.Body(), c.offerless)
		if err != nil {
			c.log.Info("answer SDP not usable", "error", err.Error())
			return c.dropAnswer(att, &rejection{code: sip.StatusNotAcceptableHere, reason: "Not Acceptable Here"})
		}
		body = out
	case !c.offerless && c.earlySDP:
		body = c.desc[sideA].lastOut // the answer came in a provisional response
	default:
		return c.dropAnswer(att, &rejection{code: sip.StatusNotAcceptableHere, reason: "Not Acceptable Here"})
	}
	if !c.offerless {
		att.ack = c.s.withLaddr(att.leg.Ack(att.inv.CSeq().SeqNo, nil, ""))
		c.writeAck(att.ack)
	}
	if err := c.awaitPrack(); err != nil {
		return c.dropAnswer(att, err)
	}
	if c.isCancelled() {
		return c.dropAnswer(att, errInternal)
	}
	c.answered = att.answered
	c.dialogID = newID()
	att.dialogID = c.dialogID
	c.timers[sideA], c.timers[sideB] = c.timerA(), timerB(res)
	if err := c.respondA(sip.StatusOK, "OK", body); err != nil {
		c.log.Warn("200 OK to the caller not sent", "error", err.Error())
	}
	c.rearmSessions()
	if c.hooks != nil {
		c.hookAnswer()
	}
	now := time.Now()
	c.waitAck(&ackWait{
		side: sideA, cseq: c.inv.CSeq().SeqNo, tx: c.itx, res: c.a2xx,
		next: now.Add(sip.T1), interval: sip.T1, deadline: now.Add(64 * sip.T1),
		initial: true, forward: c.offerless, fwdCSeq: att.inv.CSeq().SeqNo,
	})
	c.log.Debug("call connected", "attempt", att.n, "dialogId", c.dialogID)
	return nil
}

// dropAnswer hangs up a 2xx the call cannot use, and returns why.
func (c *call) dropAnswer(att *attempt, why error) error {
	if att.ack == nil {
		att.ack = c.s.withLaddr(att.leg.Ack(att.inv.CSeq().SeqNo, nil, ""))
		c.writeAck(att.ack)
	}
	c.b = nil
	c.hangup(&att.leg, sideB)
	return why
}

// dialogOf returns the dialog of a leg of the bridged call.
func (c *call) dialogOf(sd side) *sipmsg.Dialog {
	if sd == sideA {
		return &c.a
	}
	return &c.b.leg
}

// bridge relays the two legs of a connected call until one hangs up, the
// caller never acknowledges the answer, or the appliance ends every call.
func (c *call) bridge() {
	for {
		select {
		case ev := <-c.inbox:
			switch ev := ev.(type) {
			case *evRequest:
				if c.inDialog(ev) {
					return
				}
			case evResponse:
				if sd, ok := c.refreshes[ev.ct]; ok {
					if c.refreshed(ev, sd) {
						return
					}
					continue
				}
				c.relayResponse(ev)
			case evTxDone:
				if sd, ok := c.refreshes[ev.ct]; ok {
					c.refreshDone(ev, sd)
					continue
				}
				c.relayDone(ev)
			case evStray2xx:
				c.stray(ev.res)
			}
		case <-c.sessionC(sideA):
			if c.sessionFired(sideA) {
				return
			}
		case <-c.sessionC(sideB):
			if c.sessionFired(sideB) {
				return
			}
		case <-c.rtxC():
			if c.retransmit() {
				c.log.Warn("no ACK from the caller: hanging up")
				c.hangupReason = "no ACK"
				c.hangupBoth()
				return
			}
		case <-c.ctx.Done():
			c.log.Info("hanging up: the appliance is stopping")
			c.hangupReason = "shutdown"
			c.hangupBoth()
			return
		}
	}
}

// inDialog handles a request within the bridged call, and reports whether
// it ended the call.
func (c *call) inDialog(ev *evRequest) bool {
	if ev.side == sideB && callID(ev.req) != c.b.leg.CallID {
		// A dialog of an attempt that lost: only its BYE is welcome.
		if ev.req.Method == sip.BYE {
			ev.reply(sip.StatusOK, "OK")
		} else if !ev.req.IsAck() {
			ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		}
		return false
	}
	d := c.dialogOf(ev.side)
	if toTag(ev.req) != d.LocalTag {
		if !ev.req.IsAck() {
			ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		}
		return false
	}
	switch ev.req.Method {
	case sip.ACK:
		c.acked(ev)
	case sip.BYE:
		ev.reply(sip.StatusOK, "OK")
		if ev.side == sideA {
			c.hangupReason = "caller hung up"
		} else {
			c.hangupReason = "callee hung up"
		}
		c.log.Debug("call ended", "by", ev.side.String())
		other := ev.side.other()
		c.hangup(c.dialogOf(other), other)
		return true
	case sip.INVITE, sip.UPDATE:
		c.relayOffer(ev)
	case sip.INFO:
		c.relayRequest(ev)
	case sip.PRACK:
		c.prack(ev)
	case sip.OPTIONS:
		ev.respond(optionsResponse(ev.req))
	default:
		code, reason, allow := statusOf(errMethodNotAllowed)
		res := sip.NewResponseFromRequest(ev.req, code, reason, nil)
		if allow {
			res.AppendHeader(sip.NewHeader("Allow", allowHeader))
		}
		ev.respond(res)
	}
	return false
}

// relayOffer relays a re-INVITE or an UPDATE to the other leg, with its
// description rewritten and the relay pointed at the sender's new media
// address (hold, resume, new ports). One offer is in flight at a time: a
// second one, from either leg, gets 491 (RFC 3261 §14.2, RFC 3311 §5.2).
func (c *call) relayOffer(ev *evRequest) {
	if ev.side == sideA {
		c.impliedAck()
	}
	if ev.req.Method == sip.UPDATE && len(ev.req.Body()) == 0 && c.isRefresh(ev.side, ev.req) {
		c.answerRefresh(ev) // no offer: no glare
		return
	}
	if c.offer != nil || c.awaitingInitialAck() {
		ev.reply(sip.StatusRequestPending, "Request Pending")
		return
	}
	if c.isRefresh(ev.side, ev.req) {
		c.answerRefresh(ev)
		return
	}
	var body []byte
	var undo *offerUndo
	offerless := len(ev.req.Body()) == 0
	if !offerless {
		undo = &offerUndo{side: ev.side, peer: c.peer[ev.side], desc: c.desc[ev.side.other()], keys: c.sdes[ev.side.other()]}
		if !isSDP(ev.req.ContentType()) {
			res := sip.NewResponseFromRequest(ev.req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil)
			res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
			ev.respond(res)
			return
		}
		out, err := c.carrySDP(ev.side, ev.req.Body(), true)
		if err != nil {
			c.log.Info("offer not usable", "error", err.Error())
			ev.reply(sip.StatusNotAcceptableHere, "Not Acceptable Here")
			return
		}
		body = out
	}
	r := c.forward(ev, body, "application/sdp")
	if r == nil {
		c.undoOffer(undo)
		return
	}
	r.offerless = offerless && ev.req.IsInvite()
	r.undo = undo
	c.offer = r
}

// relayRequest relays an INFO (DTMF, ...) to the other leg with its body
// as it came.
func (c *call) relayRequest(ev *evRequest) {
	ct := ""
	if h := ev.req.ContentType(); h != nil {
		ct = sipmsg.SanitizeValue(h.Value())
	}
	c.forward(ev, ev.req.Body(), ct)
}

// forward sends the other leg a request of the same method within its
// dialog, and tracks it until its answer.
func (c *call) forward(ev *evRequest, body []byte, contentType string) *relayed {
	to := ev.side.other()
	d := c.dialogOf(to)
	req := c.s.withLaddr(d.Request(ev.req.Method, body, contentType))
	if ev.req.Method == sip.INVITE || ev.req.Method == sip.UPDATE {
		req.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	}
	ct, err := c.send(req, to, nil)
	if err != nil {
		c.log.Info("request not relayed", "method", string(ev.req.Method), "error", err.Error())
		ev.reply(sip.StatusServiceUnavailable, "Service Unavailable")
		return nil
	}
	r := &relayed{from: ev, ct: ct}
	c.relays[ct] = r
	return r
}

// relayResponse relays the final response of a relayed request back to
// its sender: the code and reason, the description rewritten (INVITE,
// UPDATE) or the body as it came (INFO); the appliance acknowledges a 2xx
// to its re-INVITE itself.
func (c *call) relayResponse(ev evResponse) {
	r := c.relays[ev.ct]
	if r == nil {
		c.otherResponse(ev)
		return
	}
	res := ev.res
	if res.IsProvisional() {
		return
	}
	ev.ct.final = true
	c.txEnded(ev.ct)
	delete(c.relays, ev.ct)
	if c.offer == r {
		c.offer = nil
	}
	method := ev.ct.req.Method
	to, from := ev.ct.side, r.from.side
	if !res.IsSuccess() {
		c.undoOffer(r.undo)
	}
	out := sip.NewResponseFromRequest(r.from.req, res.StatusCode, res.Reason, nil)
	switch {
	case method == sip.INFO || !res.IsSuccess():
		if len(res.Body()) > 0 && res.ContentType() != nil {
			ct := sip.ContentTypeHeader(sipmsg.SanitizeValue(res.ContentType().Value()))
			out.AppendHeader(&ct)
			out.SetBody(res.Body())
		}
	case len(res.Body()) > 0 && isSDP(res.ContentType()):
		body, err := c.carrySDP(to, res.Body(), r.offerless)
		if err != nil {
			c.log.Info("answer not usable", "error", err.Error())
			out = sip.NewResponseFromRequest(r.from.req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
			break
		}
		ct := sip.ContentTypeHeader("application/sdp")
		out.AppendHeader(c.dialogOf(from).Local.Contact())
		out.AppendHeader(&ct)
		out.SetBody(body)
	default:
		out.AppendHeader(c.dialogOf(from).Local.Contact())
	}
	if (method == sip.INVITE || method == sip.UPDATE) && res.IsSuccess() {
		c.rearmSessions() // both sessions were refreshed
	}
	if method == sip.INVITE && res.IsSuccess() {
		cseq := ev.ct.req.CSeq().SeqNo
		if !r.offerless {
			c.ackOther(to, cseq, nil)
		}
		now := time.Now()
		c.waitAck(&ackWait{
			side: from, cseq: r.from.req.CSeq().SeqNo, tx: r.from.tx, res: out,
			next: now.Add(sip.T1), interval: sip.T1, deadline: now.Add(64 * sip.T1),
			forward: r.offerless, fwdCSeq: cseq,
		})
	}
	r.from.respond(out)
}

// ackOther acknowledges a 2xx from leg sd to the appliance's INVITE of
// sequence number cseq, with body (an answer) when not nil.
func (c *call) ackOther(sd side, cseq uint32, body []byte) {
	d := c.dialogOf(sd)
	ct := ""
	if len(body) > 0 {
		ct = "application/sdp"
	}
	ack := c.s.withLaddr(d.Ack(cseq, body, ct))
	if sd == sideB {
		if cseq == c.b.inv.CSeq().SeqNo {
			c.b.ack = ack
		} else {
			c.b.reack = ack
		}
	} else {
		c.reackA = ack
	}
	c.writeAck(ack)
}

// relayDone handles the end of a relayed request's transaction without a
// final response: its sender gets 408 or 503.
func (c *call) relayDone(ev evTxDone) {
	c.txEnded(ev.ct)
	r := c.relays[ev.ct]
	if r == nil {
		return
	}
	delete(c.relays, ev.ct)
	if c.offer == r {
		c.offer = nil
	}
	c.undoOffer(r.undo)
	code, reason := sip.StatusServiceUnavailable, "Service Unavailable"
	if ev.err != nil && isTimeout(ev.err) {
		code, reason = sip.StatusRequestTimeout, "Request Timeout"
	}
	r.from.reply(code, reason)
}

// acked handles an ACK from a leg: it stops the retransmission of the 2xx
// it acknowledges and, for a late offer, carries its answer to the other
// leg's ACK. Other ACKs are absorbed.
func (c *call) acked(ev *evRequest) {
	cseq := ev.req.CSeq().SeqNo
	for i, w := range c.waiting {
		if w.side != ev.side || w.cseq != cseq {
			continue
		}
		c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
		c.armRtx()
		if !w.forward {
			return
		}
		var body []byte
		if len(ev.req.Body()) > 0 && isSDP(ev.req.ContentType()) {
			out, err := c.carrySDP(ev.side, ev.req.Body(), false)
			if err != nil {
				c.log.Info("answer in ACK not usable", "error", err.Error())
			} else {
				body = out
			}
		}
		c.ackOther(ev.side.other(), w.fwdCSeq, body)
		return
	}
}

// impliedAck takes a new request of the caller's as proof that it has the
// call's 2xx: its ACK (sent before, handled in any order by sipgo) may
// still be on its way. Not for a late offer, whose ACK carries the answer.
func (c *call) impliedAck() {
	for i, w := range c.waiting {
		if w.initial && !w.forward {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			c.armRtx()
			return
		}
	}
}

// awaitingInitialAck reports whether the caller has not yet acknowledged
// the call's 2xx: no re-INVITE may start before (RFC 3261 §14.1).
func (c *call) awaitingInitialAck() bool {
	for _, w := range c.waiting {
		if w.initial {
			return true
		}
	}
	return false
}

// waitAck starts retransmitting a 2xx until its ACK.
func (c *call) waitAck(w *ackWait) {
	c.waiting = append(c.waiting, w)
	c.armRtx()
}

// armRtx sets the retransmission timer to the earliest one due.
func (c *call) armRtx() {
	if c.rtx != nil {
		c.rtx.Stop()
		c.rtx = nil
	}
	var next time.Time
	for _, w := range c.waiting {
		if next.IsZero() || w.next.Before(next) {
			next = w.next
		}
	}
	if !next.IsZero() {
		c.rtx = time.NewTimer(time.Until(next))
	}
}

// rtxC is the retransmission timer's channel; nil when none is due.
func (c *call) rtxC() <-chan time.Time {
	if c.rtx == nil {
		return nil
	}
	return c.rtx.C
}

// retransmit re-sends the 2xx responses due (UDP only: a reliable transport
// needs none), doubling their interval up to T2, and reports whether the
// call's own 2xx went unacknowledged for 64*T1.
func (c *call) retransmit() bool {
	c.rtx = nil
	now := time.Now()
	keep := c.waiting[:0]
	lost := false
	for _, w := range c.waiting {
		switch {
		case !now.Before(w.deadline):
			c.log.Info("2xx never acknowledged", "side", w.side.String(), "cseq", w.cseq)
			if w.initial {
				lost = true
			}
			continue
		case !now.Before(w.next):
			if isUDP(w.res.Transport()) {
				if err := w.tx.Respond(w.res); err != nil {
					c.log.Debug("2xx retransmission not sent", "error", err.Error())
				}
			}
			w.interval = min(2*w.interval, sip.T2)
			w.next = now.Add(w.interval)
		}
		keep = append(keep, w)
	}
	c.waiting = keep
	c.armRtx()
	return lost
}

// hangupBoth sends BYE to both legs and waits for their answers.
func (c *call) hangupBoth() {
	c.hangup(&c.a, sideA)
	c.hangup(&c.b.leg, sideB)
}

// hangup sends BYE on dialog d of leg sd and waits, bounded, for its
// answer, meanwhile answering a BYE crossing it.
func (c *call) hangup(d *sipmsg.Dialog, sd side) {
	bye := c.s.withLaddr(d.Request(sip.BYE, nil, ""))
	ct, err := c.send(bye, sd, nil)
	if err != nil {
		c.log.Info("BYE not sent", "side", sd.String(), "error", err.Error())
		return
	}
	c.awaitFinal(ct, c.s.byeWait, func(ev *evRequest) {
		switch {
		case ev.req.IsAck():
		case ev.req.Method == sip.BYE: // crossing ours
			ev.reply(sip.StatusOK, "OK")
		default:
			ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		}
	})
}
