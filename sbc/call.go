package sbc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/media"
	"github.com/trunkline/trunkline/media/sdp"
	"github.com/trunkline/trunkline/media/srtp"
	"github.com/trunkline/trunkline/routing"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// Default timings of the call path; Server fields, so that tests can
// shorten them.
const (
	// defaultRerouteDelay: an attempt that earns no response at all within
	// it is abandoned (DESIGN §4.5 a).
	defaultRerouteDelay = 4 * time.Second
	// defaultCancelWait bounds the wait for the final response of an
	// attempt the appliance cancelled.
	defaultCancelWait = 2 * time.Second
	// defaultByeWait bounds the wait for the answer to a BYE the appliance
	// sent when a call ends.
	defaultByeWait = 2 * time.Second
	// defaultMinSE is the appliance's Min-SE (RFC 4028 §5: at least 90 s).
	defaultMinSE = 90 * time.Second
	// defaultSessionExpires is the session interval asked of callees (RFC
	// 4028 §4 recommends 1800 s).
	defaultSessionExpires = 1800 * time.Second
	// hangupWait bounds the end of the calls that outlived the drain.
	hangupWait = 5 * time.Second
	// inboxSize is the depth of a call's event queue.
	inboxSize = 32
	// mtuLimit: a request bigger than this goes over TCP, not UDP (RFC 3261
	// §18.1.1; sipgo refuses UDP messages above 1300 bytes).
	mtuLimit = 1300
)

// call is one inbound call: its A leg, the hunt for a B leg and the bridge
// between the two (DESIGN §4.5-4.6). The goroutine of the INVITE's handler
// owns it until it ends: it alone reads and writes the fields below. Other
// goroutines — sipgo's request handlers and the pumps of the call's client
// transactions — hand it events through inbox, and never touch its state.
type call struct {
	s   *Server
	st  *state
	log *slog.Logger

	ctx       context.Context // derived from the server's call context
	cancelCtx context.CancelFunc
	inbox     chan event
	quit      chan struct{}  // closed when the owner stops reading inbox
	cancelled chan struct{}  // closed when the caller CANCELs
	cancelOne *sync.Once     // closes cancelled
	pumps     sync.WaitGroup // one per client transaction in flight

	id    string // the inbound leg's id
	trunk *config.SIPTrunk
	inv   *sip.Request
	itx   sip.ServerTransaction
	a     sipmsg.Dialog // the A leg; the appliance is its UAS
	// finalA is set once the INVITE of the A leg has its final response.
	finalA bool
	a2xx   *sip.Response // the 2xx of the call's INVITE
	reackA *sip.Request  // the ACK of the latest re-INVITE's 2xx sent to A
	// hangupReason says why a connected call ended.
	hangupReason string

	// The call's numbers: normalised (E.164 digits) and as received.
	from, to       string
	fromRaw, toRaw string
	fromName       string // the caller's display name, sanitised
	maxForwards    uint32

	// Routing and outcome.
	decision        routing.Decision
	route           string
	start, answered time.Time
	dialogID        string
	endCode         int // the A leg's final response
	endReason       string

	// Media and what the caller was told before the answer.
	offerless        bool // the caller's INVITE had no SDP (late offer)
	sent180, sent183 bool
	earlySDP         bool // a provisional with SDP reached the caller
	relay            *media.Relay
	hooks            *hooks       // the call's Lua scripts; nil when none
	desc             [2]sdpState  // per side: the description last sent to it
	sdes             [2]srtpSide  // per side: SDES (RFC 4568) toward it
	peer             [2]mediaPeer // per side: where its description said it receives

	// Reliable provisional responses to the caller (RFC 3262): rel100A
	// when its INVITE supports or requires 100rel; rseqA the last RSeq
	// sent; relA the one awaiting its PRACK, relQueue those waiting their
	// turn, relT the retransmission timer.
	rel100A  bool
	rseqA    uint32
	relA     *reliable
	relQueue []*sip.Response
	relT     *time.Timer

	// Session timers (RFC 4028), one per leg (nil: none), and the
	// refreshes the appliance sent, by leg.
	timers    [2]*sessionTimer
	refreshes map[*clientTx]side

	attempts []*attempt
	b        *attempt // the connected attempt
	txs      map[*clientTx]struct{}
	keys     []string     // this call's entries in the dialog table
	peers    []netip.Addr // addresses the call sent INVITEs to (Server.peers)
	// killed holds the To tags of stray 2xx already hung up.
	killed map[string]bool

	// Bridged state: relayed requests awaiting an answer, 2xx awaiting ACK.
	relays  map[*clientTx]*relayed
	offer   *relayed // the re-INVITE or UPDATE with an offer in flight
	waiting []*ackWait
	rtx     *time.Timer
}

// sdpState is what a leg was last sent, so that an unchanged description
// keeps its o= version (RFC 3264 §8) and a changed one increments it.
type sdpState struct {
	origin  sdp.Origin
	lastIn  []byte
	lastOut []byte
}

// mediaPeer is where a leg's description said it receives RTP and RTCP
// (RTCP invalid: the port above RTP), as last given to the relay.
type mediaPeer struct{ rtp, rtcp netip.AddrPort }

// event is what the owner goroutine receives in its inbox.
type event any

// evResponse is a response to one of the call's client transactions.
type evResponse struct {
	ct  *clientTx
	res *sip.Response
}

// evTxDone reports the end of a client transaction before a final
// response: Timer B or F, a transport error, or a termination.
type evTxDone struct {
	ct  *clientTx
	err error
}

// evStray2xx is a 2xx to one of the call's INVITEs that no transaction took:
// a retransmission, or an answer racing the end of its attempt.
type evStray2xx struct{ res *sip.Response }

// evRequest is a request within one of the call's dialogs. The handler
// that received it waits until the owner answers it (respond), or the call
// ends.
type evRequest struct {
	side side
	req  *sip.Request
	tx   sip.ServerTransaction
	log  *slog.Logger
	once sync.Once
	done chan struct{}
}

// respond sends the request's final response, once.
func (r *evRequest) respond(res *sip.Response) {
	r.once.Do(func() {
		if err := r.tx.Respond(res); err != nil {
			r.log.Debug("sip response not sent", "method", string(r.req.Method), "code", res.StatusCode, "error", err.Error())
		}
		close(r.done)
	})
}

// reply answers the request with code and reason and no body.
func (r *evRequest) reply(code int, reason string) {
	r.respond(sip.NewResponseFromRequest(r.req, code, reason, nil))
}

// clientTx is a client transaction of the call, with the goroutine
// (pump) that passes its responses to the owner.
type clientTx struct {
	req   *sip.Request
	tx    sip.ClientTransaction
	side  side     // where the request went
	att   *attempt // the attempt it belongs to; nil for in-dialog requests
	final bool     // a final response arrived
}

// newID returns 128 random bits in hex: call and leg ids, Call-IDs.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newTag returns a From/To tag.
func newTag() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newCSeq returns a first local CSeq number, 1..65536: well below 2^31
// (RFC 3261 §8.1.1.5), leaving room for the dialog's requests.
func newCSeq() uint32 {
	var b [2]byte
	rand.Read(b[:])
	return uint32(b[0])<<8 | uint32(b[1]) + 1
}

// newSessionID returns an SDP o= session id: random, below 2^63 (RFC 4566
// §5.2 asks for a number that fits a 64-bit signed integer).
func newSessionID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// handleInvite runs a call from a new INVITE of a known trunk to its end.
// The goroutine sipgo gave the request owns the call until it connects; the
// bridged call is handed to a goroutine of its own.
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction, trunk *config.SIPTrunk, st *state) {
	if err := tx.Respond(sip.NewResponseFromRequest(req, sip.StatusTrying, "Trying", nil)); err != nil {
		s.log.Debug("100 Trying not sent", "error", err.Error())
	}
	if err := s.admit(req, trunk); err != nil {
		s.refuseCall(req, tx, err, trunk)
		return
	}
	if !s.calls.start() {
		s.refuseCall(req, tx, errDraining, trunk)
		return
	}
	if !s.channels.acquire(trunk) {
		s.calls.end()
		s.refuseCall(req, tx, errChannelLimit, trunk)
		return
	}
	c := s.newCall(req, tx, trunk, st)
	if !c.run() {
		c.finish()
		return
	}
	// Connected: the caller has its 2xx, so sipgo keeps the INVITE
	// transaction for its timers when this handler returns. The bridged
	// call goes on on a fresh goroutine, whose stack holds the bridge loop
	// alone instead of sipgo's frames and the setup's high-water mark —
	// most of what a live call costs in memory.
	if !s.owners.add() { // closing down: stay on this goroutine
		defer c.finish()
		c.bridge()
		return
	}
	go func() {
		defer s.owners.done()
		defer c.finish()
		c.bridge()
	}()
}

// refuseCall answers an INVITE refused before its call exists, and records
// its A leg.
func (s *Server) refuseCall(req *sip.Request, tx sip.ServerTransaction, err error, trunk *config.SIPTrunk) {
	s.reject(req, tx, err, trunk)
	code, reason, _ := statusOf(err)
	now := time.Now()
	s.recordLeg(CallLog{
		CallID:    newID(),
		SIPCallID: callID(req),
		Leg:       sideA.String(),
		Direction: DirectionInbound,
		Trunk:     trunk.ID,
		From:      routing.Normalize(trunk.NumberFormat, trunk.CountryCode, req.From().Address.User),
		To:        routing.Normalize(trunk.NumberFormat, trunk.CountryCode, req.To().Address.User),
		StartTime: now,
		EndTime:   now,
		SIPCode:   code,
		Reason:    reason,
		State:     legState(code, false),
	})
}

// admit checks what refuses an INVITE before a call exists: its trunk is
// disabled or over its call rate; it requires extensions the appliance does
// not support; its body is not SDP.
func (s *Server) admit(req *sip.Request, trunk *config.SIPTrunk) error {
	if trunk.AdminStatus == config.Disabled {
		return errTrunkDisabled
	}
	if !s.cps.allow(trunk) {
		return errCPSLimit
	}
	if !internationalAllowed(trunk) && routing.International(
		routing.Normalize(trunk.NumberFormat, trunk.CountryCode, req.From().Address.User),
		routing.Normalize(trunk.NumberFormat, trunk.CountryCode, req.To().Address.User)) {
		return errInternational
	}
	if tags := unsupportedTags(req); tags != "" {
		return badExtension(tags)
	}
	if len(req.Body()) > 0 && !isSDP(req.ContentType()) {
		return errNotSDP
	}
	if se, _, ok := sessionExpires(req); ok && se < s.minSE {
		return &rejection{code: statusIntervalTooBrief, reason: "Session Interval Too Small", minSE: seconds(s.minSE)}
	}
	return nil
}

// internationalAllowed reports a trunk's internationalCallsAllowed (true
// when not set).
func internationalAllowed(t *config.SIPTrunk) bool {
	return t.InternationalCallsAllowed == nil || *t.InternationalCallsAllowed
}

// isSDP reports whether a Content-Type is application/sdp.
func isSDP(ct *sip.ContentTypeHeader) bool {
	if ct == nil {
		return false
	}
	v, _, _ := strings.Cut(ct.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(v), "application/sdp")
}

func (s *Server) newCall(req *sip.Request, tx sip.ServerTransaction, trunk *config.SIPTrunk, st *state) *call {
	ctx, cancel := context.WithCancel(s.callCtx)
	c := &call{
		s: s, st: st, ctx: ctx, cancelCtx: cancel,
		inbox:     make(chan event, inboxSize),
		quit:      make(chan struct{}),
		cancelled: make(chan struct{}),
		cancelOne: new(sync.Once),
		id:        newID(),
		trunk:     trunk,
		inv:       req,
		itx:       tx,
		start:     time.Now(),
		txs:       map[*clientTx]struct{}{},
		relays:    map[*clientTx]*relayed{},
		refreshes: map[*clientTx]side{},
		killed:    map[string]bool{},
	}
	c.log = s.log.With("callId", c.id, "sipCallId", callID(req), "trunk", trunk.ID)
	from, to := req.From(), req.To()
	c.fromRaw, c.toRaw = from.Address.User, to.Address.User
	c.fromName = sipmsg.SanitizeDisplayName(from.DisplayName)
	c.from = routing.Normalize(trunk.NumberFormat, trunk.CountryCode, c.fromRaw)
	c.to = routing.Normalize(trunk.NumberFormat, trunk.CountryCode, c.toRaw)
	c.maxForwards = 70
	c.rel100A = hasOption(req, tag100rel)
	if mf := req.MaxForwards(); mf != nil {
		c.maxForwards = mf.Val()
	}
	local, _ := s.local(strings.ToUpper(req.Transport()), sourceOf(req))
	local.Secure = strings.EqualFold(req.Recipient.Scheme, "sips")
	c.a = sipmsg.Dialog{
		CallID:     callID(req),
		LocalURI:   *to.Address.Clone(),
		LocalName:  to.DisplayName,
		LocalTag:   newTag(),
		RemoteURI:  *from.Address.Clone(),
		RemoteName: from.DisplayName,
		RemoteTag:  sipmsg.Tag(from.Params),
		RouteSet:   sipmsg.RouteSetUAS(req),
		CSeq:       newCSeq(),
		Local:      local,
	}
	if ct := req.Contact(); ct != nil {
		c.a.RemoteTarget = *ct.Address.Clone()
	} else {
		c.a.RemoteTarget = *from.Address.Clone()
	}
	c.keys = append(c.keys, keyA(c.a.CallID, c.a.RemoteTag))
	s.dialogs.add(c.keys[0], c)
	// The callback must not capture c: sipgo keeps the transaction, and so
	// the callback, for up to 64*T1 after the final response (Timer L).
	once, cancelled := c.cancelOne, c.cancelled
	if !tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) }) {
		c.cancel() // the CANCEL came first
	}
	if testHookNewCall != nil {
		testHookNewCall(c)
	}
	return c
}

// testHookNewCall, when set (by tests, before any server starts), sees
// every call created.
var testHookNewCall func(*call)

// cancel notes the caller's CANCEL; sipgo has answered it and sent 487.
func (c *call) cancel() {
	c.cancelOne.Do(func() { close(c.cancelled) })
}

func (c *call) isCancelled() bool {
	select {
	case <-c.cancelled:
		return true
	default:
		return false
	}
}

// run sets the call up: decide, take media, hunt. It reports whether the
// call connected, to be bridged; otherwise the caller has its final answer.
func (c *call) run() bool {
	req := &routing.Request{
		From:       c.from,
		To:         c.to,
		Username:   c.inv.Recipient.User,
		SIPTrunkID: c.trunk.ID,
	}
	if c.hooks = c.newHooks(); c.hooks != nil {
		if rej := c.hookInvite(); rej != nil {
			c.failA(rej)
			return false
		}
		req.From, req.To, req.Headers, req.Route = c.from, c.to, c.hookHeaders(), c.hooks.call.Route
	} else {
		req.Headers = headersOf(c.inv)
	}
	c.decision = c.st.routes.Decide(req, time.Now(), c.s, nil)
	if c.decision.Route != nil {
		c.route = *c.decision.Route
	}
	if c.hooks != nil && len(c.decision.Attempts) > 0 {
		c.hookRoute()
	}
	c.log.Debug("call received", "from", c.from, "to", c.to, "action", c.decision.Action,
		"route", c.route, "attempts", len(c.decision.Attempts), "skipped", len(c.decision.Skipped))
	for _, sk := range c.decision.Skipped {
		c.log.Debug("destination skipped", "index", sk.Index, "sipTrunkId", sk.SIPTrunkID, "reason", sk.Reason)
	}
	switch {
	case c.decision.Action == config.ActionNoAction:
		c.failA(errNoAction)
		return false
	case c.decision.Action == config.ActionForwardToSubscription:
		c.log.Info("FORWARD_TO_SUBSCRIPTION is not built yet", "callsConfigurationId", c.decision.CallsConfigurationID)
		c.failA(errNotAvailable)
		return false
	case c.decision.Route == nil && c.decision.Action == config.ActionForwardToCallRouting:
		c.failA(errNoRoute)
		return false
	case len(c.decision.Attempts) == 0:
		c.failA(errNotAvailable)
		return false
	}
	if err := c.openMedia(); err != nil {
		c.failA(err)
		return false
	}
	return c.hunt() != nil
}

// headersOf lists a request's headers for routing criteria.
func headersOf(req *sip.Request) []routing.Header {
	hs := req.Headers()
	out := make([]routing.Header, 0, len(hs))
	for _, h := range hs {
		out = append(out, routing.Header{Name: h.Name(), Value: h.Value()})
	}
	return out
}

// openMedia takes the call's relay; the peers come with the session
// descriptions (carrySDP).
func (c *call) openMedia() error {
	r, err := c.s.pool.NewRelay(c.log)
	if err != nil {
		c.log.Warn("no media relay", "error", err.Error())
		return errNoMedia
	}
	c.relay = r
	for i := range c.desc {
		c.desc[i].origin = sdp.Origin{Username: "trunkline", SessionID: newSessionID(), Version: 1}
	}
	c.offerless = len(c.inv.Body()) == 0
	return nil
}

// mediaSide maps a leg to its side of the relay.
func mediaSide(sd side) media.Side {
	if sd == sideA {
		return media.A
	}
	return media.B
}

// carrySDP takes a session description sent by leg from — an offer, or
// the answer to the last offer sent to it — points the relay's leg for it
// at the RTP and RTCP addresses it gives (a hold with c=0.0.0.0 keeps the
// previous ones), sets that leg's SRTP keys (call_srtp.go), and returns it
// rewritten for the other leg: the appliance's o= and c=, the relay's port
// for that leg, and our SDES keys toward it.
func (c *call) carrySDP(from side, body []byte, offer bool) ([]byte, error) {
	to := from.other()
	st := &c.desc[to]
	if st.lastIn != nil && string(st.lastIn) == string(body) {
		return st.lastOut, nil
	}
	o := st.origin
	o.Version++
	var keys *legKeys
	out, m, err := sdp.RewriteWith(body, sdp.RewriteOptions{
		Origin: o, Addr: c.s.mediaAddr, Port: c.relay.Leg(mediaSide(to)).Port(),
		SRTPFor: func(peer sdp.Media) (ours []srtp.Crypto, err error) {
			keys, ours, err = c.negotiateKeys(from, peer, offer)
			return ours, err
		},
	})
	if err != nil {
		return nil, err
	}
	st.origin, st.lastIn, st.lastOut = o, body, out
	if m.RTP.IsValid() {
		c.setPeer(from, mediaPeer{rtp: m.RTP, rtcp: m.RTCP})
	}
	c.applyKeys(from, keys)
	return out, nil
}

// setPeer points the relay's leg for side sd at p.
func (c *call) setPeer(sd side, p mediaPeer) {
	c.peer[sd] = p
	leg := c.relay.Leg(mediaSide(sd))
	leg.SetPeer(p.rtp)
	if p.rtcp.IsValid() {
		leg.SetPeerRTCP(p.rtcp)
	}
}

// respondA sends a response to the caller's INVITE, with the A leg's To
// tag (except on 100) and, on 18x and 2xx, the appliance's Contact.
func (c *call) respondA(code int, reason string, body []byte) error {
	res := c.responseA(code, reason, body)
	if code >= 200 {
		c.finalA = true
		c.endCode, c.endReason = code, reason
		c.stopRel()
		c.relQueue = nil
	}
	if code >= 200 && code < 300 {
		c.a2xx = res
	}
	return c.itx.Respond(res)
}

// responseA builds a response to the caller's INVITE (see respondA).
func (c *call) responseA(code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(c.inv, code, reason, nil)
	if code > 100 {
		res.To().Params.Add("tag", c.a.LocalTag)
	}
	if code > 100 && code < 300 {
		res.AppendHeader(c.a.Local.Contact())
		res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	}
	if code >= 200 && code < 300 {
		res.AppendHeader(sip.NewHeader("Supported", supportedHeader))
		if t := c.timers[sideA]; t != nil {
			t.headers(res, hasOption(c.inv, tagTimer))
		}
	}
	if len(body) > 0 {
		ct := sip.ContentTypeHeader("application/sdp")
		res.AppendHeader(&ct)
	}
	res.SetBody(body)
	return res
}

// failA ends the A leg with the final response err maps to; 487 once the
// caller cancelled (sipgo sent it on CANCEL; a BYE before the answer needs
// it sent).
func (c *call) failA(err error) {
	if c.finalA {
		return
	}
	code, reason, _ := statusOf(err)
	if c.isCancelled() {
		code, reason = sip.StatusRequestTerminated, "Request Terminated"
		c.log.Debug("call cancelled by the caller")
	} else {
		c.log.Debug("call refused", "code", code, "reason", reason)
	}
	if err := c.respondA(code, reason, nil); err != nil {
		c.log.Debug("final response not sent", "error", err.Error())
	}
}

// post hands ev to the owner; false when the call has ended.
func (c *call) post(ev event) bool {
	select {
	case c.inbox <- ev:
		return true
	case <-c.quit:
		return false
	}
}

// send starts a client transaction for req toward leg sd, and the pump
// that hands its responses to the owner. A UDP request too big for a
// datagram goes over TCP.
func (c *call) send(req *sip.Request, sd side, att *attempt) (*clientTx, error) {
	if strings.EqualFold(req.Transport(), "UDP") && len(req.String()) > mtuLimit {
		if err := c.s.toTCP(req); err != nil {
			return nil, err
		}
		if att != nil {
			att.leg.Local = c.s.retransport(att.leg.Local, "TCP")
		}
	}
	// The context bounds only the connection set-up (a TCP dial); a call
	// being hung up still sends its BYE.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.s.rerouteDelay)
	defer cancel()
	tx, err := c.s.cli.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		return nil, err
	}
	if req.IsInvite() {
		tx.OnRetransmission(c.s.onStrayResponse)
	}
	ct := &clientTx{req: req, tx: tx, side: sd, att: att}
	c.txs[ct] = struct{}{}
	c.pumps.Add(1)
	go c.pump(ct)
	return ct, nil
}

// prebuilt is the sipgo client option for requests the call path built
// whole: sipgo adds nothing to them.
func prebuilt(*sipgo.Client, *sip.Request) error { return nil }

// pump passes the responses of ct to the owner until the final one, the
// end of the transaction, or the end of the call.
func (c *call) pump(ct *clientTx) {
	defer c.pumps.Done()
	for {
		select {
		case res := <-ct.tx.Responses():
			if !c.post(evResponse{ct: ct, res: res}) || !res.IsProvisional() {
				return
			}
		case <-ct.tx.Done():
			c.post(evTxDone{ct: ct, err: ct.tx.Err()})
			return
		case <-c.quit:
			return
		}
	}
}

// txEnded forgets a client transaction that is over.
func (c *call) txEnded(ct *clientTx) {
	delete(c.txs, ct)
}

// writeAck sends an ACK (a 2xx's: no transaction).
func (c *call) writeAck(ack *sip.Request) {
	if err := c.s.cli.WriteRequest(ack, prebuilt); err != nil {
		c.log.Warn("ACK not sent", "error", err.Error())
	}
}

// killStray acknowledges a 2xx that answered an INVITE the call no longer
// wants (its attempt was abandoned, cancelled, or lost the race), and hangs
// that dialog up; a retransmission of the 2xx is only acknowledged again.
func (c *call) killStray(res *sip.Response) {
	d := sipmsg.DialogFromResponse(res, c.bLocalFor(res))
	c.writeAck(c.s.withLaddr(d.Ack(res.CSeq().SeqNo, nil, "")))
	tag := d.RemoteTag
	if c.killed[tag] {
		return
	}
	c.killed[tag] = true
	c.log.Info("hanging up a late answer", "code", res.StatusCode, "sipCallId", d.CallID)
	if _, err := c.send(c.s.withLaddr(d.Request(sip.BYE, nil, "")), sideB, nil); err != nil {
		c.log.Warn("BYE not sent", "error", err.Error())
	}
}

// bLocalFor returns the local endpoint of the attempt a response belongs
// to (by Call-ID).
func (c *call) bLocalFor(res *sip.Response) sipmsg.Local {
	if att := c.attemptOf(res.CallID()); att != nil {
		return att.leg.Local
	}
	return c.a.Local
}

// attemptOf returns the attempt with the given Call-ID, or nil.
func (c *call) attemptOf(h *sip.CallIDHeader) *attempt {
	if h == nil {
		return nil
	}
	for _, att := range c.attempts {
		if att.leg.CallID == h.Value() {
			return att
		}
	}
	return nil
}

// finish ends the call: it answers the caller if nothing did yet, stops
// every transaction and goroutine of the call, frees the relay and the
// trunks' channels, and writes the call-leg records.
func (c *call) finish() {
	if !c.finalA {
		c.failA(errInternal)
	}
	for ct := range c.txs {
		if !ct.final {
			ct.tx.Terminate()
		}
	}
	close(c.quit)
	c.pumps.Wait()
	c.cancelCtx()
	if c.rtx != nil {
		c.rtx.Stop()
	}
	c.stopRel()
	for _, t := range c.timers {
		t.stop()
	}
	var bIDs []string
	for _, att := range c.attempts {
		bIDs = append(bIDs, att.leg.CallID)
		c.releaseChannel(att)
	}
	c.s.dialogs.remove(c.keys, bIDs)
	for _, a := range c.peers {
		c.s.peers.remove(a)
	}
	if c.relay != nil {
		if err := c.relay.Close(); err != nil {
			c.log.Debug("relay close", "error", err.Error())
		}
	}
	c.s.channels.release(c.trunk)
	c.writeLogs(time.Now())
	c.s.calls.end()
}

// writeLogs records the call's legs: the A leg, then each attempt.
func (c *call) writeLogs(end time.Time) {
	// The record gets its own copy of the decision: a pointer into c would
	// keep the whole call (request, transactions, logger, attempts) alive
	// as long as the record stays in the call-log ring.
	decision := c.decision
	a := CallLog{
		CallID:    c.id,
		DialogID:  c.dialogID,
		SIPCallID: c.a.CallID,
		Leg:       sideA.String(),
		Direction: DirectionInbound,
		Trunk:     c.trunk.ID,
		From:      c.from,
		To:        c.to,
		StartTime: c.start,
		EndTime:   end,
		SIPCode:   c.endCode,
		Reason:    c.endReason,
		State:     legState(c.endCode, !c.answered.IsZero()),
		Route:     c.route,
		Decision:  &decision,
	}
	if len(c.attempts) == 0 && a.State == StateNoAnswer {
		// Nothing was tried (every destination skipped, or none routed):
		// the call failed, nobody failed to answer it.
		a.State = StateFailed
	}
	if !c.answered.IsZero() {
		t := c.answered
		a.AnswerTime = &t
		a.DurationSeconds = end.Sub(t).Round(time.Millisecond).Seconds()
		a.SIPCode = sip.StatusOK
		a.Reason = c.hangupReason
	}
	c.s.recordLeg(a)
	if c.hooks != nil {
		c.hookEnd(&a)
	}
	for _, att := range c.attempts {
		n := att.n
		l := CallLog{
			CallID:      att.id,
			DialogID:    att.dialogID,
			SIPCallID:   att.leg.CallID,
			Leg:         sideB.String(),
			Attempt:     &n,
			Direction:   DirectionOutbound,
			Trunk:       att.trunk.ID,
			Destination: att.host,
			From:        c.from,
			To:          att.to,
			StartTime:   att.start,
			EndTime:     att.end,
			SIPCode:     att.code,
			Reason:      att.reason,
			State:       legState(att.code, !att.answered.IsZero()),
			Route:       c.route,
		}
		if att.out == outUnreachable {
			l.State = StateFailed // nothing answered at all: not a missed call
		}
		if l.EndTime.IsZero() || !att.answered.IsZero() {
			l.EndTime = end
		}
		if !att.answered.IsZero() {
			t := att.answered
			l.AnswerTime = &t
			l.DurationSeconds = l.EndTime.Sub(t).Round(time.Millisecond).Seconds()
			l.SIPCode = sip.StatusOK
			l.Reason = c.hangupReason
		}
		c.s.recordLeg(l)
	}
}

// recordLeg keeps a call-leg record, logs it as one line and counts it.
func (s *Server) recordLeg(l CallLog) {
	s.callLogs.add(l)
	s.log.Info("call leg", "callLog", l)
	s.metrics.callEnded(l.Direction, l.Trunk, l.State)
}

// describe returns a short text for a transaction error.
func describe(err error) string {
	if err == nil {
		return "terminated"
	}
	return err.Error()
}
