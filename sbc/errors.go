package sbc

import (
	"errors"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// rejection is a request refused with a final response. Handlers return one;
// statusOf is the one place an error becomes a SIP response.
type rejection struct {
	code       int
	reason     string
	allow      bool   // the response lists the methods we take (405, 501)
	accept     bool   // the response lists the body types we take (415)
	retryAfter string // Retry-After value, "" for none
	// unsupported lists the extensions refused (420 Unsupported).
	unsupported string
	// minSE is the Min-SE value of a 422 (RFC 4028 §6).
	minSE string
	// headers are more header fields of the response, name and value
	// (a challenge's WWW-Authenticate, a 423's Min-Expires).
	headers [][2]string
	// why tells, for logs only, refusals that share a response apart.
	why string
}

func (r *rejection) Error() string {
	if r.why != "" {
		return r.why
	}
	return r.reason
}

// The refusals of the SIP side.
var (
	// errUnknownSource: nothing identifies the sender. No detail is given
	// (DESIGN §4.1, §7: unknown sources learn nothing).
	errUnknownSource = &rejection{code: sip.StatusForbidden, reason: "Forbidden"}
	// errDraining: the node is shutting down and takes no new calls; the
	// peer should try another node.
	errDraining = &rejection{code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
	// errTrunkDisabled: the call's trunk is administratively DISABLED.
	errTrunkDisabled = &rejection{code: sip.StatusForbidden, reason: "Forbidden"}
	// errCPSLimit: the trunk is over its cpsLimit (DESIGN §4.1).
	errCPSLimit = &rejection{code: sip.StatusServiceUnavailable, reason: "Service Unavailable", retryAfter: "1"}
	// errChannelLimit: the trunk is at its channelLimit (DESIGN §4.1).
	errChannelLimit = &rejection{code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
	// errNotSDP: an INVITE whose body is not application/sdp.
	errNotSDP = &rejection{code: sip.StatusUnsupportedMediaType, reason: "Unsupported Media Type", accept: true}
	// errInternational: a call between country codes on a trunk whose
	// internationalCallsAllowed is false.
	errInternational = &rejection{code: sip.StatusForbidden, reason: "Forbidden"}
	// errNoAction: the called number's action is NO_ACTION (DESIGN §4.3).
	errNoAction = &rejection{code: sip.StatusForbidden, reason: "Forbidden"}
	// errNoRoute: no number entry and no route matches the call.
	errNoRoute = &rejection{code: sip.StatusNotFound, reason: "Not Found"}
	// errNotAvailable: the call was routed, but nothing can take it: every
	// destination was skipped, or its kind is not built yet.
	errNotAvailable = &rejection{code: sip.StatusTemporarilyUnavailable, reason: "Temporarily Unavailable"}
	// errNoMedia: no relay ports are free.
	errNoMedia = &rejection{code: sip.StatusServiceUnavailable, reason: "Service Unavailable"}
	// errInternal: the call path failed in a way it does not classify.
	errInternal = &rejection{code: sip.StatusInternalServerError, reason: "Server Internal Error"}
	// errNoDialog: an in-dialog request or a CANCEL that matches nothing.
	errNoDialog = &rejection{code: sip.StatusCallTransactionDoesNotExists, reason: "Call/Transaction Does Not Exist"}
	// errMethodNotAllowed: a method we recognise but do not take (RFC 3261
	// §8.2.1: 405 with Allow).
	errMethodNotAllowed = &rejection{code: sip.StatusMethodNotAllowed, reason: "Method Not Allowed", allow: true}
	// errUnknownMethod: a method we do not recognise (RFC 3261 §21.5.2).
	errUnknownMethod = &rejection{code: sip.StatusNotImplemented, reason: "Not Implemented", allow: true}
)

// badExtension refuses a request requiring the extensions tags (420,
// listing them in Unsupported).
func badExtension(tags string) error {
	return &rejection{code: sip.StatusBadExtension, reason: "Bad Extension", unsupported: tags}
}

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
