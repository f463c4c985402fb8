package sbc

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// allowHeader lists the methods the appliance takes (OPTIONS answers, 405
// and 501 responses). TestAllowedMethodsAreHandled keeps it true.
const allowHeader = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"

// serveRequest is the entry of every request, on a goroutine of sipgo's. In
// order: count it; identify its trunk by source (unknown: 403, or silence
// with sip.dropUnknown); validate it (400, 416, 483, 505); then answer per
// method. ACK is never answered.
func (s *Server) serveRequest(req *sip.Request, tx sip.ServerTransaction) {
	s.metrics.request(req.Method)
	st := s.state.Load()
	src := sourceOf(req)
	trunk := st.sources.identify(src)
	if trunk == nil {
		s.metrics.unknownSource.Inc()
		s.log.Debug("sip request from unknown source", "method", string(req.Method), "source", req.Source(), "drop", st.cfg.SIP.DropUnknown)
		if !st.cfg.SIP.DropUnknown {
			s.reject(req, tx, errUnknownSource, nil)
		}
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

// answer decides the answer to a request from a known trunk: a response to
// send, an error to refuse it with (see statusOf), or neither (silence).
func (s *Server) answer(req *sip.Request) (*sip.Response, error) {
	if err := sipmsg.ValidateRequest(req); err != nil {
		return nil, err
	}
	switch req.Method {
	case sip.OPTIONS:
		if s.draining.Load() {
			return nil, errDraining
		}
		return optionsResponse(req), nil
	case sip.INVITE:
		if inDialog(req) {
			return nil, errNoDialog
		}
		if s.draining.Load() {
			return nil, errDraining
		}
		return nil, errNoCallPath
	case sip.ACK:
		// An ACK to one of our final responses is absorbed by its
		// transaction; a 2xx ACK would belong to a call. Either way: silence.
		return nil, nil
	case sip.BYE, sip.CANCEL, sip.UPDATE, sip.INFO:
		// No dialog exists yet, and a CANCEL reaching here matched no
		// pending INVITE (sipgo answers those that do).
		return nil, errNoDialog
	case sip.REGISTER:
		return nil, errNoRegistrar
	case sip.PRACK, sip.REFER, sip.NOTIFY, sip.SUBSCRIBE, sip.MESSAGE, sip.PUBLISH:
		return nil, errMethodNotAllowed
	default:
		return nil, errUnknownMethod
	}
}

// optionsResponse is the 200 OK to an OPTIONS from a known trunk (RFC 3261
// §11.2). Supported lists no option tag: the appliance implements none yet.
func optionsResponse(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", ""))
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
	if trunk != nil {
		level := slog.LevelDebug
		if req.IsInvite() || code >= 500 {
			level = slog.LevelInfo // one line per refused call attempt
		}
		s.log.Log(context.Background(), level, "sip request refused",
			"method", string(req.Method), "code", code, "reason", reason,
			"trunk", trunk.ID, "source", req.Source(), "callId", callID(req))
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

// callID returns req's Call-ID, "" when it has none.
func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
