package sbc

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// Reliable provisional responses (RFC 3262), each leg on its own: toward
// the caller when its INVITE supports or requires 100rel, the relayed 180
// and 183 carry Require: 100rel and an RSeq, and are retransmitted until
// the caller's PRACK; toward callees, the INVITE offers 100rel and the
// appliance PRACKs every reliable provisional response a callee sends,
// whatever the caller supports.

// Option tags of the extensions the appliance implements.
const (
	tag100rel = "100rel"
	tagTimer  = "timer"
)

// supportedHeader is the Supported value of the appliance's requests and
// of its answers to OPTIONS.
const supportedHeader = tag100rel + ", " + tagTimer

// optionTags returns the option tags of a message's header name (Require,
// Supported, Unsupported), lower-cased, from all its occurrences; compact
// is the header's compact name, "" for none.
func optionTags(m interface{ GetHeaders(string) []sip.Header }, name, compact string) []string {
	hs := m.GetHeaders(name)
	if compact != "" {
		hs = append(hs, m.GetHeaders(compact)...)
	}
	var out []string
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// hasOption reports whether a message requires or supports tag.
func hasOption(m interface{ GetHeaders(string) []sip.Header }, tag string) bool {
	for _, t := range append(optionTags(m, "Require", ""), optionTags(m, "Supported", "k")...) {
		if t == tag {
			return true
		}
	}
	return false
}

// unsupportedTags returns the tags of a request's Require the appliance
// does not implement, comma-separated; "" when it implements them all.
func unsupportedTags(req *sip.Request) string {
	return strings.Join(sipmsg.UnsupportedRequire(req, tag100rel, tagTimer), ", ")
}

// reliable is a reliable provisional response sent to the caller, awaiting
// its PRACK (RFC 3262 §3).
type reliable struct {
	res      *sip.Response
	rseq     uint32
	interval time.Duration
	deadline time.Time
}

// respondReliable sends the caller a reliable provisional response; while
// an earlier one awaits its PRACK, it waits its turn (RFC 3262 §3: one at a
// time).
func (c *call) respondReliable(code int, reason string, body []byte) error {
	res := c.responseA(code, reason, body)
	res.AppendHeader(sip.NewHeader("Require", tag100rel))
	if c.relA != nil {
		c.relQueue = append(c.relQueue, res)
		return nil
	}
	return c.sendReliable(res)
}

// sendReliable gives res the next RSeq, sends it and arms its
// retransmission.
func (c *call) sendReliable(res *sip.Response) error {
	if c.rseqA == 0 {
		c.rseqA = uint32(newCSeq()) // any start below 2^31 (RFC 3262 §3)
	} else {
		c.rseqA++
	}
	res.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(c.rseqA), 10)))
	c.relA = &reliable{res: res, rseq: c.rseqA, interval: sip.T1, deadline: time.Now().Add(64 * sip.T1)}
	c.armRel(sip.T1)
	return c.itx.Respond(res)
}

// armRel sets the reliable provisional's retransmission timer.
func (c *call) armRel(d time.Duration) {
	if c.relT != nil {
		c.relT.Stop()
	}
	c.relT = time.NewTimer(d)
}

// stopRel forgets the reliable provisional responses of the caller's
// INVITE: it has its final response, or its PRACK came.
func (c *call) stopRel() {
	if c.relT != nil {
		c.relT.Stop()
		c.relT = nil
	}
	c.relA = nil
}

// relC is the reliable provisional's retransmission timer; nil when none.
func (c *call) relC() <-chan time.Time {
	if c.relT == nil {
		return nil
	}
	return c.relT.C
}

// retransmitRel re-sends the reliable provisional awaiting its PRACK (over
// UDP: a reliable transport needs no retransmission), the interval doubling
// each time, and gives up after 64*T1: then it reports whether the
// response given up carried a session description.
func (c *call) retransmitRel() (lostSDP bool) {
	c.relT = nil
	r := c.relA
	if r == nil || c.finalA {
		return false
	}
	if !time.Now().Before(r.deadline) {
		c.log.Info("reliable provisional response never acknowledged", "rseq", r.rseq)
		c.relA = nil
		c.sendQueuedRel()
		return len(r.res.Body()) > 0
	}
	if isUDP(r.res.Transport()) {
		if err := c.itx.Respond(r.res); err != nil {
			c.log.Debug("provisional retransmission not sent", "error", err.Error())
		}
	}
	r.interval *= 2
	c.armRel(r.interval)
	return false
}

// errNoPrack: the caller never acknowledged a reliable provisional
// response with a session description; its INVITE gets a 5xx (RFC 3262 §3).
var errNoPrack = &rejection{code: sip.StatusInternalServerError, reason: "No PRACK"}

// awaitPrack holds the caller's 2xx until its PRACK of the reliable
// provisional response in flight when that one carried a session
// description (RFC 3262 §3: no 2xx before), meanwhile handling the call's
// events as the hunt does.
func (c *call) awaitPrack() error {
	for c.relA != nil && len(c.relA.res.Body()) > 0 {
		select {
		case ev := <-c.inbox:
			switch ev := ev.(type) {
			case *evRequest:
				c.earlyRequest(ev)
			case evResponse:
				c.otherResponse(ev)
			case evTxDone:
				c.txEnded(ev.ct)
			case evStray2xx:
				c.stray(ev.res)
			}
		case <-c.relC():
			if c.retransmitRel() {
				return errNoPrack
			}
		case <-c.cancelled:
			return errInternal // the CANCEL earned 487 already
		case <-c.ctx.Done():
			return errDraining
		}
	}
	return nil
}

// sendQueuedRel sends the next reliable provisional waiting its turn.
func (c *call) sendQueuedRel() {
	if len(c.relQueue) == 0 || c.finalA {
		c.relQueue = nil
		return
	}
	res := c.relQueue[0]
	c.relQueue = c.relQueue[1:]
	if err := c.sendReliable(res); err != nil {
		c.log.Debug("provisional response not sent", "error", err.Error())
	}
}

// prack answers a PRACK. From the caller, one acknowledging the reliable
// provisional in flight (RAck: its RSeq, the INVITE's CSeq) stops its
// retransmission and lets the next one go; one acknowledging an earlier
// response is answered 200 again; anything else matches nothing (481, RFC
// 3262 §3). A callee never has reliable provisional responses of ours.
func (c *call) prack(ev *evRequest) {
	rseq, cseq, method, ok := parseRAck(ev.req)
	switch {
	case ev.side != sideA || !ok || cseq != c.inv.CSeq().SeqNo || method != sip.INVITE || c.rseqA == 0:
		ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	case c.relA != nil && rseq == c.relA.rseq:
		ev.reply(sip.StatusOK, "OK")
		c.stopRel()
		c.sendQueuedRel()
	case rseq <= c.rseqA && (c.relA == nil || rseq < c.relA.rseq):
		ev.reply(sip.StatusOK, "OK")
	default:
		ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}

// parseRAck reads a PRACK's RAck: response-num CSeq-num Method.
func parseRAck(req *sip.Request) (rseq, cseq uint32, method sip.RequestMethod, ok bool) {
	h := req.GetHeader("RAck")
	if h == nil {
		return 0, 0, "", false
	}
	f := strings.Fields(h.Value())
	if len(f) != 3 {
		return 0, 0, "", false
	}
	r, err1 := strconv.ParseUint(f[0], 10, 32)
	n, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	return uint32(r), uint32(n), sip.RequestMethod(strings.ToUpper(f[2])), true
}

// rseqOf returns a response's RSeq, 0 when it has none (or a bad one).
func rseqOf(res *sip.Response) uint32 {
	h := res.GetHeader("RSeq")
	if h == nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// prackB acknowledges a callee's reliable provisional response (Require:
// 100rel with an RSeq) with a PRACK within its early dialog (RFC 3262 §4),
// and reports whether the response is new: a retransmission, or one out of
// RSeq order, is neither acknowledged nor processed further.
func (c *call) prackB(att *attempt, res *sip.Response) bool {
	if res.StatusCode == 100 || !hasRequire(res, tag100rel) {
		return true
	}
	rseq := rseqOf(res)
	if rseq == 0 {
		return true // not a valid reliable response: treat it as unreliable
	}
	tag := toTag(res)
	if att.rseq == nil {
		att.rseq = map[string]uint32{}
	}
	if last, ok := att.rseq[tag]; ok && rseq != last+1 {
		return false
	}
	att.rseq[tag] = rseq
	d := att.leg // the early dialog: the leg's own, with this callee's tag
	d.RemoteTag = tag
	if ct := res.Contact(); ct != nil {
		d.RemoteTarget = *ct.Address.Clone()
	}
	d.RouteSet = sipmsg.RouteSet(res)
	req := d.Request(sip.PRACK, nil, "")
	att.leg.CSeq = d.CSeq
	req.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, att.inv.CSeq().SeqNo)))
	if _, err := c.send(c.s.withLaddr(req), sideB, nil); err != nil {
		c.log.Info("PRACK not sent", "error", err.Error())
	}
	return true
}

// hasRequire reports whether a message's Require lists tag.
func hasRequire(m interface{ GetHeaders(string) []sip.Header }, tag string) bool {
	for _, t := range optionTags(m, "Require", "") {
		if t == tag {
			return true
		}
	}
	return false
}
