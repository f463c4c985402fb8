package sbc

import (
	"errors"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// rejection is a request refused with a final response. Handlers return one;
// statusOf is the one place an error becomes a SIP response.
type rejection struct {
	code   int
	reason string
	allow  bool // the response lists the methods we take (405, 501)
}

func (r *rejection) Error() string { return r.reason }

// The refusals of the SIP side.
var (
	// errUnknownSource: nothing identifies the sender. No detail is given
	// (DESIGN §4.1, §7: unknown sources learn nothing).
	errUnknownSource = &rejection{code: sip.StatusForbidden, reason: "Forbidden"}
	// errDraining: the node is shutting down and takes no new calls; the
	// peer should try another node.
	errDraining = &rejection{code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
	// errNoCallPath: inbound calls are not routed yet. The B2BUA call path
	// (DESIGN §4) replaces this answer.
	errNoCallPath = &rejection{code: sip.StatusNotImplemented, reason: "Call handling not available"}
	// errNoRegistrar: REGISTERED trunks cannot register yet; inbound digest
	// authentication and the registrar replace this answer.
	errNoRegistrar = &rejection{code: sip.StatusNotImplemented, reason: "Registration not available"}
	// errNoDialog: an in-dialog request or a CANCEL that matches nothing.
	errNoDialog = &rejection{code: sip.StatusCallTransactionDoesNotExists, reason: "Call/Transaction Does Not Exist"}
	// errMethodNotAllowed: a method we recognise but do not take (RFC 3261
	// §8.2.1: 405 with Allow).
	errMethodNotAllowed = &rejection{code: sip.StatusMethodNotAllowed, reason: "Method Not Allowed", allow: true}
	// errUnknownMethod: a method we do not recognise (RFC 3261 §21.5.2).
	errUnknownMethod = &rejection{code: sip.StatusNotImplemented, reason: "Not Implemented", allow: true}
)

// statusOf maps an error to the final response it earns: its code, reason
// phrase and whether the response carries Allow. An error that does not
// classify itself is ours: 500.
func statusOf(err error) (code int, reason string, allow bool) {
	var rej *rejection
	if errors.As(err, &rej) {
		return rej.code, rej.reason, rej.allow
	}
	var inval *sipmsg.Error
	if errors.As(err, &inval) {
		return inval.Code, inval.Reason, false
	}
	return sip.StatusInternalServerError, "Server Internal Error", false
}
