package sbc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// allowHeader lists the methods the appliance takes (OPTIONS answers, 405
// and 501 responses). TestAllowedMethodsAreHandled keeps it true.
const allowHeader = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PRACK, REGISTER"

// serveRequest is the entry of every request, on a goroutine of sipgo's. In
// order: count it; hand a request within a live call's dialog to that call
// (its Call-ID and tags identify it, whatever its source: a callee's BYE
// comes from its trunk's destination); identify its trunk (classify: by
// source, digest credentials or access code; unknown: 403, or silence with
// sip.dropUnknown; challenged: 401/407; refused credentials or access code:
// 403); validate it (400, 416, 483, 505); then answer per method — a new
// INVITE starts a call, which this goroutine then runs to its end; a
// REGISTER goes to the registrar. ACK is never answered.
func (s *Server) serveRequest(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.request(req.Method)
	if req.Method != sip.CANCEL {
		if c, sd := s.dialogs.request(req); c != nil {
			if err := sipmsg.ValidateRequest(req); err != nil {
				s.reject(req, tx, err, nil)
				return
			}
			s.serveInDialog(c, sd, req, tx)
			return
		}
	}
	st := s.state.Load()
	trunk, err := s.classify(req, st)
	if err != nil {
		s.refuseUnidentified(req, tx, err, trunk, st)
		return
	}
	if req.Method == sip.REGISTER {
		s.register(req, tx, trunk)
		return
	}
	if req.Method == sip.INVITE && !inDialog(req) {
		if err := sipmsg.ValidateRequest(req); err != nil {
			s.reject(req, tx, err, trunk)
			return
		}
		if s.draining.Load() {
			s.refuseCall(req, tx, errDraining, trunk)
			return
		}
		if !s.owners.add() { // closing down
			s.refuseCall(req, tx, errDraining, trunk)
			return
		}
		defer s.owners.done()
		s.handleInvite(req, tx, trunk, st)
		return
	}
	res, err := s.answer(req)
	switch {
	case err != nil:
		s.reject(req, tx, err, trunk)
	case res != nil:
		s.respond(tx, res)
	}
}

// refuseUnidentified answers a request classify refused with err: a
// challenge is sent as it is; an unknown source gets 403, or nothing with
// sip.dropUnknown; refused credentials or access code get the same 403
// (the peer was challenged or is a trunk's: silence would hide nothing).
// Both refusals are counted as unknown sources. trunk is the trunk an
// access code was refused for, else nil.
func (s *Server) refuseUnidentified(req *sip.Request, tx sip.ServerTransaction, err error, trunk *config.SIPTrunk, st *state) {
	switch {
	case isChallenge(err):
		s.log.Debug("sip request challenged", "method", string(req.Method), "source", req.Source(), "callId", callID(req))
		s.reject(req, tx, err, nil)
		return
	case errors.Is(err, errUnknownSource):
		s.metrics.unknownSource.Inc()
		s.log.Debug("sip request from unknown source", "method", string(req.Method), "source", req.Source(), "drop", st.cfg.SIP.DropUnknown)
		if !st.cfg.SIP.DropUnknown {
			s.reject(req, tx, err, nil)
		}
		return
	}
	s.metrics.unknownSource.Inc()
	s.reject(req, tx, err, trunk) // trunk nil: verify logged why
}

// answer decides the answer to a request from a known trunk outside any
// call: a response to send, an error to refuse it with (see statusOf), or
// neither (silence).
func (s *Server) answer(req *sip.Request) (*sip.Response, error) {
	if err := sipmsg.ValidateRequest(req); err != nil {
		return nil, err
	}
	// A UAS refuses a request requiring an extension it lacks, whatever the
	// method but ACK and CANCEL (RFC 3261 §8.2.2.3).
	if !req.IsAck() && !req.IsCancel() {
		if tags := unsupportedTags(req); tags != "" {
			return nil, badExtension(tags)
		}
	}
	switch req.Method {
	case sip.OPTIONS:
		if s.draining.Load() {
			return nil, errDraining
		}
		return optionsResponse(req), nil
	case sip.INVITE:
		// A new INVITE starts a call (serveRequest); one within a dialog
		// that no call holds matches nothing.
		if inDialog(req) {
			return nil, errNoDialog
		}
		return nil, errDraining
	case sip.ACK:
		// An ACK to one of our final responses is absorbed by its
		// transaction; one that matches no call: silence.
		return nil, nil
	case sip.BYE, sip.CANCEL, sip.UPDATE, sip.INFO, sip.PRACK:
		// No dialog matches, and a CANCEL reaching here matched no pending
		// INVITE (sipgo answers those that do).
		return nil, errNoDialog
	case sip.REGISTER:
		// serveRequest hands REGISTER to the registrar (register), which
		// refuses trunks that do not register with this same answer.
		return nil, errNotRegistrar
	case sip.REFER, sip.NOTIFY, sip.SUBSCRIBE, sip.MESSAGE, sip.PUBLISH:
		return nil, errMethodNotAllowed
	default:
		return nil, errUnknownMethod
	}
}

// serveInDialog hands a request within a live call's dialog to the call's
// owner and waits until the owner answered it, or the call ended (481).
func (s *Server) serveInDialog(c *call, sd side, req *sip.Request, tx sip.ServerTransaction) {
	ev := &evRequest{side: sd, req: req, tx: tx, log: c.log, done: make(chan struct{})}
	if req.IsAck() {
		c.post(ev)
		return
	}
	if !c.post(ev) {
		ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	select {
	case <-ev.done:
	case <-c.quit:
		ev.reply(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}

// onStrayResponse takes the responses no client transaction took, and the
// 2xx retransmissions INVITE transactions pass on (sipgo passes them to no
// one by default, and the callee re-sends its 2xx until it gives up and
// hangs up). A 2xx to an INVITE of a live call goes to the call, which
// acknowledges it again or hangs it up; one of a call that ended lately is
// acknowledged and hung up here. Anything else is dropped.
func (s *Server) onStrayResponse(res *sip.Response) {
	if !res.IsSuccess() || res.CSeq() == nil || res.CSeq().MethodName != sip.INVITE {
		s.log.Debug("stray response dropped", "code", res.StatusCode, "sipCallId", callID(res))
		return
	}
	c, ended := s.dialogs.response(res)
	switch {
	case c != nil:
		select {
		case c.inbox <- evStray2xx{res: res}:
		case <-c.quit:
		default: // the call is busy: the 2xx will come again
		}
	case ended:
		s.hangupStray(res)
	default:
		s.log.Debug("stray 2xx dropped", "sipCallId", callID(res))
	}
}

// hangupStray acknowledges a 2xx to an INVITE of a call that has ended and,
// the first time, sends it BYE (on a goroutine of the server's, which the
// BYE's transaction ends).
func (s *Server) hangupStray(res *sip.Response) {
	local, ok := s.local(strings.ToUpper(res.Transport()), addrOfHostPort(res.Source()))
	if !ok {
		return
	}
	d := sipmsg.DialogFromResponse(res, local)
	if err := s.cli.WriteRequest(s.withLaddr(d.Ack(d.CSeq, nil, "")), prebuilt); err != nil {
		s.log.Debug("ACK of a late answer not sent", "error", err.Error())
	}
	if !s.dialogs.markKilled(d.CallID, d.RemoteTag) {
		return
	}
	if !s.bg.add() { // closing down
		return
	}
	s.log.Info("hanging up a late answer", "sipCallId", d.CallID)
	tx, err := s.cli.TransactionRequest(s.ctx, s.withLaddr(d.Request(sip.BYE, nil, "")), prebuilt)
	if err != nil {
		s.bg.done()
		s.log.Debug("BYE of a late answer not sent", "error", err.Error())
		return
	}
	go func() {
		defer s.bg.done()
		defer tx.Terminate()
		for {
			select {
			case r := <-tx.Responses():
				if !r.IsProvisional() {
					return
				}
			case <-tx.Done():
				return
			}
		}
	}()
}

// withLaddr makes a UDP request leave from the appliance's UDP listener,
// so that its answers, and the peer's requests, come back to it. It
// returns req.
func (s *Server) withLaddr(req *sip.Request) *sip.Request {
	if ep, ok := s.eps["UDP"]; ok && isUDP(req.Transport()) {
		ep.laddr.Copy(&req.Laddr)
	} else {
		req.Laddr = sip.Addr{}
	}
	return req
}

// toTCP moves a request built for UDP to TCP (RFC 3261 §18.1.1: too big
// for a datagram): transport, Via and Contact.
func (s *Server) toTCP(req *sip.Request) error {
	ep, ok := s.eps["TCP"]
	if !ok {
		return fmt.Errorf("request of %d bytes is too big for UDP, and there is no TCP listener", len(req.String()))
	}
	req.SetTransport("TCP")
	req.Laddr = sip.Addr{}
	if via := req.Via(); via != nil {
		via.Transport = "TCP"
		via.Port = ep.port
		if ep.host != "" {
			via.Host = ep.host
		}
	}
	if ct := req.Contact(); ct != nil {
		if ct.Address.UriParams == nil {
			ct.Address.UriParams = sip.NewParams()
		}
		ct.Address.UriParams.Add("transport", "tcp")
		ct.Address.Port = ep.port
	}
	return nil
}

// retransport returns l moved to another transport: that transport's
// listening port (0 when the appliance has no such listener).
func (s *Server) retransport(l sipmsg.Local, transport string) sipmsg.Local {
	l.Transport = transport
	l.Port = 0
	if ep, ok := s.eps[transport]; ok {
		l.Port = ep.port
	}
	return l
}

// isUDP reports whether a transport name is UDP.
func isUDP(transport string) bool { return strings.EqualFold(transport, "UDP") }

// isTimeout reports whether a transaction ended on a timer.
func isTimeout(err error) bool { return errors.Is(err, sip.ErrTransactionTimeout) }

// addrOfHostPort returns the IP address of "host:port", or the zero Addr.
func addrOfHostPort(hp string) netip.Addr {
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// optionsResponse is the 200 OK to an OPTIONS from a known trunk (RFC 3261
// §11.2), with the option tags the appliance implements.
func optionsResponse(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	return res
}

// reject answers req with the final response err maps to (statusOf). ACK is
// never answered. trunk is the sender's trunk, nil when unknown.
func (s *Server) reject(req *sip.Request, tx sip.ServerTransaction, err error, trunk *config.SIPTrunk) {
	if req.IsAck() {
		return
	}
	code, reason, allow := statusOf(err)
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if allow {
		res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	}
	var rej *rejection
	if errors.As(err, &rej) {
		if rej.accept {
			res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		}
		if rej.retryAfter != "" {
			res.AppendHeader(sip.NewHeader("Retry-After", rej.retryAfter))
		}
		if rej.minSE != "" {
			res.AppendHeader(sip.NewHeader("Min-SE", rej.minSE))
		}
		if rej.unsupported != "" {
			res.AppendHeader(sip.NewHeader("Unsupported", sipmsg.SanitizeValue(rej.unsupported)))
		}
		for _, h := range rej.headers {
			res.AppendHeader(sip.NewHeader(h[0], h[1]))
		}
	}
	if trunk != nil {
		level := slog.LevelDebug
		if req.IsInvite() || code >= 500 {
			level = slog.LevelInfo // one line per refused call attempt
		}
		attrs := []any{"method", string(req.Method), "code", code, "reason", reason,
			"trunk", trunk.ID, "source", req.Source(), "callId", callID(req)}
		if rej != nil && rej.why != "" {
			attrs = append(attrs, "why", rej.why)
		}
		s.log.Log(context.Background(), level, "sip request refused", attrs...)
	}
	s.respond(tx, res)
}

// respond sends res on tx; a failure (the peer is gone) is only logged.
func (s *Server) respond(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip response not sent", "code", res.StatusCode, "error", err.Error())
	}
}

// sourceOf returns the IP address a request came from.
func sourceOf(req *sip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// inDialog reports whether req is sent within a dialog: its To has a tag.
func inDialog(req *sip.Request) bool {
	to := req.To()
	return to != nil && to.Params.Has("tag")
}

// callID returns a message's Call-ID, "" when it has none.
func callID(m interface{ CallID() *sip.CallIDHeader }) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
