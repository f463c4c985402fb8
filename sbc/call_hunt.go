package sbc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
	"github.com/trunkline/trunkline/sbc/digest"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// attempt is one entry of the hunt plan being tried: one B leg, with its
// own Call-ID, tags and CSeq, sent to the addresses of its trunk in turn.
type attempt struct {
	n       int // position in the plan
	plan    routing.Attempt
	trunk   *config.SIPTrunk
	id      string // the leg's id
	leg     sipmsg.Dialog
	to      string // the called user sent (formatted number or destination username)
	host    string // the destination host tried last, as configured
	channel bool   // holds one of the trunk's channels

	inv         *sip.Request // the INVITE in flight
	ack         *sip.Request // the ACK of its 2xx, re-sent on retransmissions
	reack       *sip.Request // the ACK of the latest re-INVITE's 2xx
	provisional bool         // some provisional response arrived
	// rseq holds the RSeq of the last reliable provisional response
	// PRACKed, per early dialog (the callee's To tag).
	rseq map[string]uint32
	// minSE is the Min-SE of a callee's 422 (RFC 4028 §7.4): the INVITE
	// is sent again asking at least that; cseq0 is then the CSeq to
	// continue from.
	minSE time.Duration
	cseq0 uint32
	// challenge is the 401/407 challenge of the current address that the
	// INVITE is sent again to answer, with the trunk's outboundAuth; proxy
	// tells a 407's (Proxy-Authorization) from a 401's.
	challenge string
	proxy     bool

	out                  outcome
	start, answered, end time.Time
	dialogID             string
	code                 int
	reason               string
}

// outcome is how an attempt (or one address of it) ended.
type outcome int

const (
	outAnswered    outcome = iota // a 2xx: the call is bridged
	outFinal                      // a final response 300-699 (code, reason)
	outUnreachable                // no response in time, or a transport error: try the next address
	outCancelled                  // the caller cancelled: the hunt ends
	outNoAnswer                   // connectTimeout expired after the attempt rang
	outShutdown                   // the appliance is hanging up every call
)

// result is an attempt's outcome with the response that decided it.
type result struct {
	out    outcome
	code   int
	reason string
	res    *sip.Response // the 2xx of outAnswered
}

// hunt tries the plan's attempts in order (DESIGN §4.5) and returns the one
// that answered, or nil when the call ended without an answer (the caller
// then has its final response).
func (c *call) hunt() *attempt {
	var finals []result
	advanceOn := c.advanceOn()
	for i, pa := range c.decision.Attempts {
		if c.isCancelled() {
			break
		}
		if c.ctx.Err() != nil {
			c.failA(errDraining)
			return nil
		}
		switch pa.Type {
		case routing.AttemptSIP, routing.AttemptPhone:
		default:
			c.log.Info("attempt skipped: destination type not built yet", "index", i, "type", pa.Type)
			finals = append(finals, result{out: outFinal, code: sip.StatusTemporarilyUnavailable, reason: "Temporarily Unavailable"})
			continue
		}
		trunk := findTrunk(c.st.cfg, pa.SIPTrunkID)
		if trunk == nil || len(trunk.DestinationHosts) == 0 && trunk.Type != config.TrunkRegistered {
			c.log.Warn("attempt skipped: trunk has no destination", "index", i, "sipTrunkId", pa.SIPTrunkID)
			finals = append(finals, result{out: outFinal, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"})
			continue
		}
		if callee := cmp.Or(pa.PhoneNumber, c.to); !internationalAllowed(trunk) && routing.International(c.from, callee) {
			c.log.Info("attempt skipped: international call on a trunk that does not allow them", "index", i, "sipTrunkId", trunk.ID)
			finals = append(finals, result{out: outFinal, code: sip.StatusForbidden, reason: "Forbidden"})
			continue
		}
		if !c.s.channels.acquire(trunk) {
			c.log.Info("attempt skipped: trunk at its channelLimit", "index", i, "sipTrunkId", trunk.ID)
			finals = append(finals, result{out: outFinal, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"})
			continue
		}
		att := c.newAttempt(i, pa, trunk)
		r := c.try(att)
		att.end = time.Now()
		att.code, att.reason, att.out = r.code, r.reason, r.out
		c.s.metrics.attempt(trunk.ID, r)
		if r.out != outAnswered {
			c.releaseChannel(att)
		}
		switch r.out {
		case outAnswered:
			if err := c.connect(att, r.res); err != nil {
				att.code, att.reason, _ = statusOf(err)
				att.answered = time.Time{}
				c.releaseChannel(att)
				c.failA(err) // 487 when the caller cancelled meanwhile
				return nil
			}
			return att
		case outCancelled:
			c.failA(errInternal) // the caller's CANCEL earned 487 already
			return nil
		case outShutdown:
			c.failA(errDraining)
			return nil
		case outFinal:
			if !slices.Contains(advanceOn, r.code) {
				c.relayFinal(r)
				return nil
			}
		}
		finals = append(finals, r)
	}
	if c.isCancelled() {
		c.failA(errInternal)
		return nil
	}
	best := bestResponse(finals)
	c.log.Debug("hunt failed", "attempts", len(c.attempts), "code", best.code)
	c.relayFinal(best)
	return nil
}

// releaseChannel gives back the trunk channel an attempt holds.
func (c *call) releaseChannel(att *attempt) {
	if att.channel {
		att.channel = false
		c.s.channels.release(att.trunk)
	}
}

// advanceOn returns the codes that make the hunt move on, for the call's
// route (config.DefaultAdvanceOn without one).
func (c *call) advanceOn() []int {
	for i := range c.st.cfg.Routes {
		if r := &c.st.cfg.Routes[i]; r.ID == c.route && len(r.AdvanceOn) > 0 {
			return r.AdvanceOn
		}
	}
	return config.DefaultAdvanceOn
}

// relayFinal sends the caller a final response decided by the hunt: its
// code and reason only, nothing of the callee's headers.
func (c *call) relayFinal(r result) {
	if c.isCancelled() || c.finalA {
		c.failA(errInternal)
		return
	}
	c.log.Debug("call failed", "code", r.code, "reason", r.reason)
	if r.code == sip.StatusUnauthorized || r.code == sip.StatusProxyAuthRequired {
		// The far end's challenge is not the caller's to answer: the
		// appliance's credentials toward the trunk failed.
		r.code, r.reason = sip.StatusInternalServerError, "Server Internal Error"
	}
	if err := c.respondA(r.code, r.reason, nil); err != nil {
		c.log.Debug("final response not sent", "error", err.Error())
	}
}

// bestResponse picks the response relayed when every attempt failed (RFC
// 3261 §16.7): a 6xx first, else the lowest class, the first within it; a
// 503 is sent as 500, and no attempt at all as 480.
func bestResponse(finals []result) result {
	best := result{out: outFinal, code: sip.StatusTemporarilyUnavailable, reason: "Temporarily Unavailable"}
	found := false
	for _, r := range finals {
		switch {
		case !found:
			best, found = r, true
		case r.code >= 600 && best.code < 600:
			best = r
		case best.code >= 600:
		case r.code/100 < best.code/100:
			best = r
		}
	}
	if best.code == sip.StatusServiceUnavailable {
		best.code, best.reason = sip.StatusInternalServerError, "Server Internal Error"
	}
	return best
}

// newAttempt builds the B leg of an attempt: its Call-ID, tags and the
// From and To the callee will see.
func (c *call) newAttempt(n int, pa routing.Attempt, trunk *config.SIPTrunk) *attempt {
	att := &attempt{n: n, plan: pa, trunk: trunk, id: newID(), channel: true, start: time.Now()}
	switch {
	case pa.Username != "":
		att.to = pa.Username // sent as configured, never reformatted
	case pa.PhoneNumber != "":
		att.to = formatNumber(trunk.NumberFormat, pa.PhoneNumber, "")
	default:
		att.to = formatNumber(trunk.NumberFormat, c.to, c.toRaw)
	}
	att.leg = sipmsg.Dialog{
		CallID:    newID(),
		LocalURI:  sip.Uri{Scheme: "sip", User: formatNumber(trunk.NumberFormat, c.from, c.fromRaw)},
		LocalName: c.fromName,
		LocalTag:  newTag(),
		CSeq:      0,
	}
	c.attempts = append(c.attempts, att)
	key := keyB(att.leg.CallID)
	c.keys = append(c.keys, key)
	c.s.dialogs.add(key, c)
	return att
}

// formatNumber writes a normalised number as a trunk expects it; a value
// that is not a number (a SIP user name) passes as received.
func formatNumber(format, number, received string) string {
	if number == "" || !allDigits(number) {
		if received != "" {
			return received
		}
		return number
	}
	return routing.Format(format, number, received)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// try sends the attempt's INVITE to its trunk's destination hosts in turn
// (FAILOVER; ROUND_ROBIN starts at the next host each call), and to each
// address a host resolves to (RFC 3263 order, without those OPTIONS polling
// found out of service), until one answers other than 503. A REGISTERED
// trunk's destinations are its registered contacts.
func (c *call) try(att *attempt) result {
	transport := trunkTransport(att.trunk)
	last := result{out: outUnreachable, code: sip.StatusRequestTimeout, reason: "Request Timeout"}
	if att.trunk.Type == config.TrunkRegistered && len(att.trunk.DestinationHosts) == 0 {
		targets := c.s.registeredTargets(att.trunk.ID)
		if len(targets) == 0 {
			c.log.Info("destination not registered", "sipTrunkId", att.trunk.ID)
			return result{out: outUnreachable, code: sip.StatusTemporarilyUnavailable, reason: "Temporarily Unavailable"}
		}
		att.host = targets[0].host
		r, _ := c.tryTargets(att, targets, transport, last)
		return r
	}
	hosts := att.trunk.DestinationHosts
	first := 0
	if att.trunk.Strategy == config.StrategyRoundRobin {
		first = c.s.rr.nextHost(att.trunk.ID, len(hosts))
	}
	for k := range hosts {
		host := hosts[(first+k)%len(hosts)]
		att.host = host
		ctx, cancel := context.WithTimeout(c.ctx, c.s.rerouteDelay)
		targets, err := c.s.resolveTargets(ctx, host, transport)
		cancel()
		if err != nil || len(targets) == 0 {
			c.log.Info("destination host does not resolve", "host", host, "error", describe(err))
			last = result{out: outUnreachable, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
			continue
		}
		var done bool
		if last, done = c.tryTargets(att, c.liveTargets(att, targets), transport, last); done {
			return last
		}
	}
	return last
}

// tryTargets sends the attempt's INVITE to each target in turn. Within the
// attempt, a target that is unreachable, silent or answers 503 gives way to
// the next one (RFC 3263 §4.3); any other outcome is the attempt's (done).
// last is the outcome so far, returned when no target settles it.
func (c *call) tryTargets(att *attempt, targets []target, transport string, last result) (r result, done bool) {
	for _, tg := range targets {
		att.challenge = "" // a challenge holds for the address that sent it
		if transport == config.TransportTLS {
			if err := c.s.dialTLS(c.ctx, tg.addr, tlsName(tg)); err != nil {
				c.log.Info("TLS connection failed", "sipTrunkId", att.trunk.ID, "target", tg.addr.String(), "error", err.Error())
				last = result{out: outUnreachable, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
				continue
			}
		}
		r := c.tryTarget(att, tg, transport)
		if r.out != outUnreachable && !(r.out == outFinal && r.code == sip.StatusServiceUnavailable) {
			return r, true
		}
		last = r
		if c.isCancelled() {
			return result{out: outCancelled, code: sip.StatusRequestTerminated, reason: "Request Terminated"}, true
		}
	}
	return last, false
}

// tlsName is the name a TLS target's certificate must hold: the trunk's
// host as configured when it is a name (RFC 5922 §4: the domain, not an
// SRV target's name), else none (the address is checked).
func tlsName(tg target) string {
	if _, err := netip.ParseAddr(tg.host); err == nil {
		return ""
	}
	return tg.host
}

// liveTargets drops the addresses OPTIONS polling marked out of service,
// unless that drops them all: a poll may be wrong, and a call is worth a
// try.
func (c *call) liveTargets(att *attempt, targets []target) []target {
	live := targets[:0:0]
	for _, tg := range targets {
		if c.s.addressDown(att.trunk.ID, tg.addr) {
			c.log.Debug("destination address skipped: out of service", "sipTrunkId", att.trunk.ID, "addr", tg.addr.String())
			continue
		}
		live = append(live, tg)
	}
	if len(live) == 0 {
		return targets
	}
	return live
}

// buildInvite builds the attempt's INVITE toward one address: a new
// request, nothing of the caller's but the From user and display name, the
// called user, and the offer rewritten for the relay's B side.
func (c *call) buildInvite(att *attempt, tg target, transport string) (*sip.Request, error) {
	local, ok := c.s.local(transport, tg.addr.Addr())
	if !ok {
		// No listener of the trunk's transport: fall back on the other one
		// for the Via and Contact, and let sipgo dial.
		var okOther bool
		if local, okOther = c.s.local(otherTransport(transport), tg.addr.Addr()); !okOther {
			return nil, errors.New("no SIP listener")
		}
		local = c.s.retransport(local, transport)
	}
	scheme := "sip"
	if att.trunk.TLS {
		// tls: true asks TLS on every hop: a sips: R-URI, To and Contact.
		scheme, local.Secure = "sips", true
	}
	att.leg.Local = local
	att.leg.LocalURI.Host = local.Host
	att.leg.RemoteURI = sip.Uri{Scheme: scheme, User: att.to, Host: tg.host, Port: tg.port}
	att.leg.RemoteTarget = att.leg.RemoteURI
	att.leg.CSeq = att.cseq0
	var body []byte
	if !c.offerless {
		var err error
		c.resetMediaB()
		if body, err = c.carrySDP(sideA, c.inv.Body(), true); err != nil {
			return nil, &rejection{code: sip.StatusNotAcceptableHere, reason: "Not Acceptable Here"}
		}
	}
	req := att.leg.Request(sip.INVITE, body, "application/sdp")
	if mf := req.MaxForwards(); mf != nil && c.maxForwards > 0 {
		*mf = sip.MaxForwardsHeader(c.maxForwards - 1)
	}
	req.AppendHeader(sip.NewHeader("Allow", allowHeader))
	req.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	req.AppendHeader(sip.NewHeader("Session-Expires", seconds(max(c.s.sessionExpires, att.minSE))))
	req.AppendHeader(sip.NewHeader("Min-SE", seconds(c.s.minSE)))
	if d := att.plan.Destination; d != nil && d.Value != nil {
		names := make([]string, 0, len(d.Value.CustomHeaders))
		for name := range d.Value.CustomHeaders {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if !sipmsg.ValidHeaderName(name) {
				c.log.Warn("custom header skipped: invalid name", "header", name)
				continue
			}
			req.AppendHeader(sip.NewHeader(name, sipmsg.ExpandHeader(d.Value.CustomHeaders[name], c.to, c.from)))
		}
	}
	if c.hooks != nil {
		c.hookAttempt(att, req)
	}
	if att.challenge != "" {
		if err := c.authorize(att, req); err != nil {
			return nil, err
		}
	}
	req.SetDestination(tg.addr.String())
	c.s.withLaddr(req)
	return req, nil
}

// answerable reports whether res is a 401/407 the attempt answers: the
// trunk has outboundAuth, the address has not challenged this attempt yet
// (a second challenge means the credentials are wrong), and it offers a
// Digest challenge we compute. It returns the chosen challenge.
func (c *call) answerable(att *attempt, res *sip.Response) (challenge string, proxy bool, ok bool) {
	if att.trunk.OutboundAuth == nil || att.challenge != "" {
		return "", false, false
	}
	name := ""
	switch res.StatusCode {
	case sip.StatusUnauthorized:
		name = "WWW-Authenticate"
	case sip.StatusProxyAuthRequired:
		name = "Proxy-Authenticate"
	default:
		return "", false, false
	}
	var values []string
	for _, h := range res.GetHeaders(name) {
		values = append(values, h.Value())
	}
	ch, err := digest.Choose(values)
	if err != nil {
		c.log.Info("challenge not answered", "code", res.StatusCode, "error", err.Error())
		return "", false, false
	}
	return ch, res.StatusCode == sip.StatusProxyAuthRequired, true
}

// authorize adds the credentials answering att.challenge to req.
func (c *call) authorize(att *attempt, req *sip.Request) error {
	cred := att.trunk.OutboundAuth
	v, err := c.s.digest.Answer(att.challenge, string(req.Method), req.Recipient.String(), cred.Username, cred.Password, req.Body())
	if err != nil {
		return fmt.Errorf("answering the challenge: %w", err)
	}
	name := "Authorization"
	if att.proxy {
		name = "Proxy-Authorization"
	}
	req.AppendHeader(sip.NewHeader(name, v))
	return nil
}

func otherTransport(t string) string {
	if t == "UDP" {
		return "TCP"
	}
	return "UDP"
}

// tryTarget sends the attempt's INVITE to one address and follows it to
// its outcome: the response loop of DESIGN §4.5.
func (c *call) tryTarget(att *attempt, tg target, transport string) result {
	inv, err := c.buildInvite(att, tg, transport)
	if err != nil {
		code, reason, _ := statusOf(err)
		c.log.Warn("INVITE not built", "error", err.Error())
		return result{out: outFinal, code: code, reason: reason}
	}
	att.inv = inv
	if !slices.Contains(c.peers, tg.addr.Addr()) {
		c.peers = append(c.peers, tg.addr.Addr())
		c.s.peers.add(tg.addr.Addr())
	}
	log := c.log.With("attempt", att.n, "sipTrunkId", att.trunk.ID, "target", tg.addr.String(), "bCallId", att.leg.CallID)
	ct, err := c.send(inv, sideB, att)
	if err != nil {
		log.Info("INVITE not sent", "error", err.Error())
		return result{out: outUnreachable, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
	}
	log.Debug("attempt started", "host", tg.host)
	reroute := time.NewTimer(c.s.rerouteDelay)
	defer reroute.Stop()
	var connect *time.Timer
	var connectC <-chan time.Time
	defer func() {
		if connect != nil {
			connect.Stop()
		}
	}()
	for {
		select {
		case ev := <-c.inbox:
			switch ev := ev.(type) {
			case evResponse:
				if ev.ct != ct {
					c.otherResponse(ev)
					continue
				}
				res := ev.res
				if res.IsProvisional() {
					if !c.prackB(att, res) {
						continue
					}
					if !att.provisional {
						att.provisional = true
						reroute.Stop()
						connect = time.NewTimer(time.Duration(att.plan.ConnectTimeout) * time.Second)
						connectC = connect.C
					}
					c.provisional(att, res)
					continue
				}
				ct.final = true
				c.txEnded(ct)
				if res.IsSuccess() {
					log.Debug("attempt answered")
					return result{out: outAnswered, code: res.StatusCode, reason: res.Reason, res: res}
				}
				if ch, proxy, ok := c.answerable(att, res); ok {
					log.Debug("challenged: INVITE again with credentials", "code", res.StatusCode)
					att.challenge, att.proxy, att.cseq0 = ch, proxy, att.leg.CSeq
					reroute.Stop()
					return c.tryTarget(att, tg, transport)
				}
				if mse := minSEOf(res); res.StatusCode == statusIntervalTooBrief && att.minSE == 0 && mse > 0 {
					log.Debug("session interval too small: INVITE again", "minSE", mse.String())
					att.minSE, att.cseq0 = mse, att.leg.CSeq
					reroute.Stop()
					return c.tryTarget(att, tg, transport)
				}
				log.Debug("attempt failed", "code", res.StatusCode, "reason", res.Reason)
				return result{out: outFinal, code: res.StatusCode, reason: res.Reason}
			case evTxDone:
				c.txEnded(ev.ct)
				if ev.ct != ct {
					continue
				}
				log.Debug("attempt unreachable", "error", describe(ev.err))
				if errors.Is(ev.err, sip.ErrTransactionTimeout) {
					return result{out: outUnreachable, code: sip.StatusRequestTimeout, reason: "Request Timeout"}
				}
				return result{out: outUnreachable, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
			case *evRequest:
				c.earlyRequest(ev)
			case evStray2xx:
				c.stray(ev.res)
			}
		case <-c.relC():
			c.retransmitRel()
		case <-c.cancelled:
			log.Debug("attempt cancelled by the caller")
			c.abandon(att, ct)
			return result{out: outCancelled, code: sip.StatusRequestTerminated, reason: "Request Terminated"}
		case <-reroute.C:
			// No response at all: nothing to CANCEL (RFC 3261 §9.1); the
			// transaction ends here, a late 2xx is hung up as a stray.
			log.Debug("attempt silent: re-routing", "after", c.s.rerouteDelay.String())
			ct.tx.Terminate()
			return result{out: outUnreachable, code: sip.StatusRequestTimeout, reason: "Request Timeout"}
		case <-connectC:
			log.Debug("attempt not answered within connectTimeout", "connectTimeout", att.plan.ConnectTimeout)
			c.abandon(att, ct)
			return result{out: outNoAnswer, code: sip.StatusTemporarilyUnavailable, reason: "No Answer"}
		case <-c.ctx.Done():
			c.abandon(att, ct)
			return result{out: outShutdown, code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
		}
	}
}

// abandon stops an attempt in flight: CANCEL when it sent a provisional
// response (else it cannot be cancelled: its transaction just ends), then a
// bounded wait for its final response. A 2xx that raced the CANCEL is
// acknowledged and hung up.
func (c *call) abandon(att *attempt, ct *clientTx) {
	if !att.provisional {
		ct.tx.Terminate()
		return
	}
	if _, err := c.send(sipmsg.Cancel(att.inv), sideB, nil); err != nil {
		c.log.Info("CANCEL not sent", "error", err.Error())
		ct.tx.Terminate()
		return
	}
	res, timedOut := c.awaitFinal(ct, c.s.cancelWait, c.earlyRequest)
	switch {
	case timedOut:
		ct.tx.Terminate()
	case res != nil && res.IsSuccess():
		c.killStray(res)
	}
}

// awaitFinal waits, at most limit, for the final response of ct, handling
// meanwhile what else reaches the call: responses of other transactions,
// requests (onRequest), stray 2xx and reliable provisional retransmissions.
// It returns the final response — nil when the transaction ended without
// one — or timedOut.
func (c *call) awaitFinal(ct *clientTx, limit time.Duration, onRequest func(*evRequest)) (res *sip.Response, timedOut bool) {
	wait := time.NewTimer(limit)
	defer wait.Stop()
	for {
		select {
		case ev := <-c.inbox:
			switch ev := ev.(type) {
			case evResponse:
				if ev.ct != ct {
					c.otherResponse(ev)
					continue
				}
				if ev.res.IsProvisional() {
					continue
				}
				ct.final = true
				c.txEnded(ct)
				return ev.res, false
			case evTxDone:
				c.txEnded(ev.ct)
				if ev.ct == ct {
					return nil, false
				}
			case *evRequest:
				onRequest(ev)
			case evStray2xx:
				c.stray(ev.res)
			}
		case <-c.relC():
			c.retransmitRel()
		case <-wait.C:
			return nil, true
		}
	}
}

// otherResponse handles a response to a transaction the current step is
// not waiting for: a 2xx to an INVITE of an earlier attempt is hung up.
func (c *call) otherResponse(ev evResponse) {
	if ev.res.IsProvisional() {
		return
	}
	ev.ct.final = true
	c.txEnded(ev.ct)
	if ev.ct.req.IsInvite() && ev.res.IsSuccess() && ev.ct.att != c.b {
		c.killStray(ev.res)
	}
}

// stray handles a 2xx no transaction took. A retransmission within the
// call's dialogs is acknowledged again (RFC 3261 §13.2.2.4) — except while
// a late offer's answer is awaited, when the ACK is not sent yet; any other
// answer is hung up.
func (c *call) stray(res *sip.Response) {
	id, tag, cseq := callID(res), toTag(res), res.CSeq().SeqNo
	var acks []*sip.Request
	switch b := c.b; {
	case id == c.a.CallID && tag == c.a.RemoteTag:
		acks = []*sip.Request{c.reackA}
	case b != nil && id == b.leg.CallID && tag == b.leg.RemoteTag:
		acks = []*sip.Request{b.ack, b.reack}
	default:
		c.killStray(res)
		return
	}
	for _, ack := range acks {
		if ack != nil && ack.CSeq().SeqNo == cseq {
			c.writeAck(ack)
		}
	}
}

// toTag returns the To tag of a message.
func toTag(m interface{ To() *sip.ToHeader }) string {
	if to := m.To(); to != nil {
		return sipmsg.Tag(to.Params)
	}
	return ""
}

// provisional relays an attempt's 180 or 183 to the caller: the first of
// each, and the first with a session description (early media through the
// relay). Other provisional responses stop at the appliance.
func (c *call) provisional(att *attempt, res *sip.Response) {
	code := res.StatusCode
	if code != 180 && code != 183 {
		return
	}
	var body []byte
	if len(res.Body()) > 0 && isSDP(res.ContentType()) && !c.offerless {
		out, err := c.carrySDP(sideB, res.Body(), false)
		if err != nil {
			c.log.Info("early SDP not usable", "error", err.Error())
		} else {
			body = out
		}
	}
	switch {
	case body != nil && !c.earlySDP:
		c.earlySDP = true
	case code == 180 && !c.sent180:
	case code == 183 && !c.sent183 && body == nil:
	default:
		return
	}
	if code == 180 {
		c.sent180 = true
	} else {
		c.sent183 = true
	}
	reason := res.Reason
	if reason == "" {
		reason = "Ringing"
	}
	send := c.respondA
	if c.rel100A {
		send = c.respondReliable
	}
	if err := send(code, reason, body); err != nil {
		c.log.Debug("provisional response not sent", "error", err.Error())
	}
}

// earlyRequest answers a request within a dialog that is not established:
// BYE from the caller ends the call like a CANCEL; UPDATE and INFO cannot
// be relayed before the answer (500 with Retry-After, RFC 3311 §5.2);
// anything else matches no dialog.
func (c *call) earlyRequest(ev *evRequest) {
	switch {
	case ev.req.IsAck():
		return
	case ev.side == sideA && ev.req.Method == sip.BYE:
		ev.reply(sip.StatusOK, "OK")
		c.cancel()
	case ev.side == sideB && ev.req.Method == sip.BYE:
		ev.reply(sip.StatusOK, "OK")
	case ev.req.Method == sip.PRACK && toTag(ev.req) == c.a.LocalTag:
		c.prack(ev)
	case ev.req.Method == sip.UPDATE || ev.req.Method == sip.INFO:
		res := sip.NewResponseFromRequest(ev.req, sip.StatusInternalServerError, "Not Yet", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "1"))
		ev.respond(res)
	default:
		ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}
