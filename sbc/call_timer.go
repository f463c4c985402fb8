package sbc

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028), each leg on its own: the interval and the
// refresher are negotiated per leg (the caller's INVITE and the
// appliance's 2xx; the appliance's INVITE and the callee's 2xx). When the
// appliance refreshes a leg, it sends that leg an UPDATE (a re-INVITE with
// the description it last sent, if the peer takes no UPDATE) halfway
// through the interval; when the peer refreshes and no refresh arrives
// before the session expires, both legs are hung up. A refresh one leg
// sends is answered by the appliance and never relayed to the other.

// statusIntervalTooBrief is 422 Session Interval Too Small (RFC 4028 §6).
const statusIntervalTooBrief = 422

// sessionTimer is the session timer of one leg.
type sessionTimer struct {
	interval  time.Duration // the negotiated Session-Expires
	refresher bool          // the appliance refreshes (else the peer)
	update    bool          // the peer takes UPDATE
	t         *time.Timer
}

// seconds writes a duration as a whole number of seconds.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// sessionExpires reads a message's Session-Expires (compact x): the
// interval and its refresher parameter ("uac", "uas" or "").
func sessionExpires(m interface{ GetHeader(string) sip.Header }) (time.Duration, string, bool) {
	h := m.GetHeader("Session-Expires")
	if h == nil {
		h = m.GetHeader("x")
	}
	if h == nil {
		return 0, "", false
	}
	parts := strings.Split(h.Value(), ";")
	n, err := strconv.ParseUint(strings.TrimSpace(parts[0]), 10, 32)
	if err != nil || n == 0 {
		return 0, "", false
	}
	refresher := ""
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return time.Duration(n) * time.Second, refresher, true
}

// minSEOf reads a 422's Min-SE; 0 when absent or bad.
func minSEOf(res *sip.Response) time.Duration {
	h := res.GetHeader("Min-SE")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Second
}

// allowsUpdate reports whether a message's Allow lists UPDATE.
func allowsUpdate(m interface{ GetHeaders(string) []sip.Header }) bool {
	for _, h := range m.GetHeaders("Allow") {
		for _, v := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(v), string(sip.UPDATE)) {
				return true
			}
		}
	}
	return false
}

// headers adds the timer's Session-Expires to the appliance's 2xx to a
// request that set it up or refreshed it (the appliance is its UAS), and
// Require: timer when the requester supports timers (RFC 4028 §9).
func (t *sessionTimer) headers(res *sip.Response, peerSupports bool) {
	who := "uac"
	if t.refresher {
		who = "uas"
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", seconds(t.interval)+";refresher="+who))
	if peerSupports {
		res.AppendHeader(sip.NewHeader("Require", tagTimer))
	}
}

// arm starts the timer over: the refresh due halfway through the
// interval, or the expiry at the interval less min(32 s, a third of it)
// (RFC 4028 §10).
func (t *sessionTimer) arm() {
	t.stop()
	d := t.interval / 2
	if !t.refresher {
		d = t.interval - min(32*time.Second, t.interval/3)
	}
	t.t = time.NewTimer(d)
}

func (t *sessionTimer) stop() {
	if t != nil && t.t != nil {
		t.t.Stop()
		t.t = nil
	}
}

// timerA negotiates the A leg's session timer from the caller's INVITE
// (RFC 4028 §9): none unless it asks for one; the refresher it names, else
// the caller when it supports timers, else the appliance.
func (c *call) timerA() *sessionTimer {
	se, who, ok := sessionExpires(c.inv)
	if !ok {
		return nil
	}
	t := &sessionTimer{interval: se, update: allowsUpdate(c.inv)}
	switch who {
	case "uas":
		t.refresher = true
	case "uac":
	default:
		t.refresher = !hasOption(c.inv, tagTimer)
	}
	return t
}

// timerB takes the B leg's session timer from the callee's 2xx (RFC 4028
// §7.2): none without Session-Expires; the appliance refreshes unless the
// callee names itself.
func timerB(res *sip.Response) *sessionTimer {
	se, who, ok := sessionExpires(res)
	if !ok {
		return nil
	}
	return &sessionTimer{interval: se, refresher: who != "uas", update: allowsUpdate(res)}
}

// sessionC is the channel of leg sd's session timer; nil when none runs.
func (c *call) sessionC(sd side) <-chan time.Time {
	if t := c.timers[sd]; t != nil && t.t != nil {
		return t.t.C
	}
	return nil
}

// rearmSessions starts both legs' timers over: a re-INVITE or UPDATE
// relayed with success refreshed both sessions.
func (c *call) rearmSessions() {
	for _, t := range c.timers {
		if t != nil {
			t.arm()
		}
	}
}

// sessionFired handles the expiry of leg sd's session timer: the appliance
// refreshes the leg, or — the peer being the refresher and silent — hangs
// the call up, and reports so.
func (c *call) sessionFired(sd side) bool {
	t := c.timers[sd]
	t.t = nil
	if !t.refresher {
		c.log.Info("session expired: no refresh", "side", sd.String(), "interval", t.interval.String())
		c.hangupReason = "session expired"
		c.hangupBoth()
		return true
	}
	c.refresh(sd, t)
	return false
}

// refresh sends leg sd a session refresh without change of session: an
// UPDATE without body when the peer takes UPDATE, else a re-INVITE with the
// description last sent to it (o= version unchanged, RFC 3264 §8).
func (c *call) refresh(sd side, t *sessionTimer) {
	method := sip.UPDATE
	var body []byte
	ctype := ""
	if !t.update {
		method = sip.INVITE
		if c.offer != nil || c.awaitingInitialAck() || c.refreshing(sd) {
			// An INVITE transaction is in progress: try again shortly.
			t.t = time.NewTimer(sip.T1)
			return
		}
		body, ctype = c.desc[sd].lastOut, "application/sdp"
	}
	d := c.dialogOf(sd)
	req := c.s.withLaddr(d.Request(method, body, ctype))
	req.AppendHeader(sip.NewHeader("Session-Expires", seconds(t.interval)+";refresher=uac"))
	req.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	ct, err := c.send(req, sd, nil)
	if err != nil {
		c.log.Info("session refresh not sent", "side", sd.String(), "error", err.Error())
		t.t = time.NewTimer(t.interval / 4)
		return
	}
	c.log.Debug("session refresh sent", "side", sd.String(), "method", string(method))
	c.refreshes[ct] = sd
}

// refreshing reports whether a refresh of leg sd is in flight.
func (c *call) refreshing(sd side) bool {
	for _, s := range c.refreshes {
		if s == sd {
			return true
		}
	}
	return false
}

// refreshed handles the response to a refresh of the appliance's, and
// reports whether the call ended: a 2xx (acknowledged, for a re-INVITE)
// restarts the leg's timer with the interval it confirms; 408 or 481 means
// the dialog is gone (RFC 3261 §12.2.1.2): both legs are hung up; any other
// failure leaves the timer to try again.
func (c *call) refreshed(ev evResponse, sd side) bool {
	res := ev.res
	if res.IsProvisional() {
		return false
	}
	ev.ct.final = true
	c.txEnded(ev.ct)
	delete(c.refreshes, ev.ct)
	t := c.timers[sd]
	switch {
	case res.IsSuccess():
		if ev.ct.req.IsInvite() {
			c.ackOther(sd, ev.ct.req.CSeq().SeqNo, nil)
		}
		if se, who, ok := sessionExpires(res); ok {
			t.interval, t.refresher = se, who != "uas"
		}
		t.arm()
	case res.StatusCode == sip.StatusRequestTimeout || res.StatusCode == sip.StatusCallTransactionDoesNotExists:
		c.log.Info("session refresh failed: hanging up", "side", sd.String(), "code", res.StatusCode)
		c.hangupReason = "session refresh failed"
		c.hangupBoth()
		return true
	default:
		c.log.Info("session refresh refused", "side", sd.String(), "code", res.StatusCode)
		t.t = time.NewTimer(t.interval / 4)
	}
	return false
}

// refreshDone handles the end of a refresh's transaction without a final
// response: the leg's timer tries again.
func (c *call) refreshDone(ev evTxDone, sd side) {
	c.txEnded(ev.ct)
	delete(c.refreshes, ev.ct)
	c.log.Info("session refresh unanswered", "side", sd.String(), "error", describe(ev.err))
	if t := c.timers[sd]; t != nil {
		t.t = time.NewTimer(t.interval / 4)
	}
}

// isRefresh reports whether a re-INVITE or UPDATE of leg sd is a session
// refresh with no change of session: it carries Session-Expires and either
// no body (UPDATE) or the very description the leg sent last.
func (c *call) isRefresh(sd side, req *sip.Request) bool {
	if _, _, ok := sessionExpires(req); !ok {
		return false
	}
	if len(req.Body()) == 0 {
		return req.Method == sip.UPDATE
	}
	last := c.desc[sd.other()].lastIn
	return last != nil && string(last) == string(req.Body())
}

// answerRefresh answers a session refresh of a leg's peer itself, without
// relaying it: 422 below the appliance's Min-SE, else 2xx confirming the
// interval (and, to a re-INVITE, the description last sent to the leg),
// and the leg's timer starts over.
func (c *call) answerRefresh(ev *evRequest) {
	se, who, _ := sessionExpires(ev.req)
	if se < c.s.minSE {
		res := sip.NewResponseFromRequest(ev.req, statusIntervalTooBrief, "Session Interval Too Small", nil)
		res.AppendHeader(sip.NewHeader("Min-SE", seconds(c.s.minSE)))
		ev.respond(res)
		return
	}
	t := c.timers[ev.side]
	if t == nil {
		t = &sessionTimer{update: ev.req.Method == sip.UPDATE || allowsUpdate(ev.req)}
		c.timers[ev.side] = t
	}
	t.interval, t.refresher = se, who == "uas"
	res := sip.NewResponseFromRequest(ev.req, sip.StatusOK, "OK", nil)
	res.AppendHeader(c.dialogOf(ev.side).Local.Contact())
	res.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	t.headers(res, hasOption(ev.req, tagTimer))
	if ev.req.IsInvite() {
		if body := c.desc[ev.side].lastOut; body != nil {
			ct := sip.ContentTypeHeader("application/sdp")
			res.AppendHeader(&ct)
			res.SetBody(body)
		}
		now := time.Now()
		c.waitAck(&ackWait{
			side: ev.side, cseq: ev.req.CSeq().SeqNo, tx: ev.tx, res: res,
			next: now.Add(sip.T1), interval: sip.T1, deadline: now.Add(64 * sip.T1),
		})
	}
	t.arm()
	c.log.Debug("session refreshed", "side", ev.side.String(), "method", string(ev.req.Method))
	ev.respond(res)
}
