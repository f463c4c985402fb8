package sipmsg

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Error is a request refused before any handler sees it, carrying the final
// response it earns, so that the server maps it with errors.As alone.
type Error struct {
	Code   int    // SIP status code: 400, 416, 483 or 505
	Reason string // reason phrase naming the problem, e.g. "Missing Call-ID"
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Reason) }

// statusUnsupportedURIScheme is 416; sipgo names it after HTTP's 416.
const statusUnsupportedURIScheme = 416

// ValidateRequest checks what RFC 3261 requires of every request and sipgo's
// parser does not enforce. It returns nil or an *Error, checking in this
// order:
//
//   - the version is SIP/2.0 (505 Version Not Supported);
//   - the Request-URI scheme is sip, sips or tel (416 Unsupported URI Scheme);
//   - the Request-URI carries no headers ("?Route=..."; RFC 3261 §19.1.5
//     forbids them there, RFC 4475 "escruri") (400);
//   - Via, From, To, Call-ID and CSeq are present (400 "Missing Call-ID"),
//     and From, To, Call-ID, CSeq, Max-Forwards and Content-Length appear at
//     most once (400 "Duplicate CSeq");
//   - the CSeq number is below 2**31 (RFC 3261 §8.1.1.5) and Max-Forwards
//     at most 255 (RFC 4475 "scalar02" calls more overlarge) (400);
//   - the CSeq method is the request's method (400);
//   - Content-Length, when present, is the length of the body (400);
//   - a body comes with a Content-Type (400);
//   - an INVITE's Max-Forwards is above 0 (483 Too Many Hops).
//
// A missing Max-Forwards is tolerated, as 70: RFC 2543 had no such header,
// and RFC 4475 ("inv2543") asks an RFC 3261 element to accept its requests.
//
// Max-Forwards 0 refuses only INVITE: it is the request a B2BUA relays onward,
// so the one a routing loop multiplies. Every other request ends at the
// appliance, which answers it as the endpoint it is, as RFC 4475 asks of an
// endpoint for its "zeromf" message (and RFC 3261 §16.3 allows for OPTIONS).
//
// What the parser itself refuses (a header that does not parse, a CSeq or
// Content-Length beyond 32 bits, a Content-Length beyond the datagram, a
// Request-Line with extra spaces) never becomes a request; and a request
// without Via or CSeq cannot be matched to a transaction, so sipgo answers it
// 400 before any handler runs. TestTortureManifest holds this to the RFC 4475
// and RFC 5118 vectors.
func ValidateRequest(req *sip.Request) error {
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return &Error{sip.StatusVersionNotSupported, "Version Not Supported"}
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return &Error{statusUnsupportedURIScheme, "Unsupported URI Scheme"}
	}
	if len(req.Recipient.Headers) > 0 {
		return &Error{sip.StatusBadRequest, "Headers in Request-URI"}
	}
	if err := checkHeaderCounts(req); err != nil {
		return err
	}
	cseq := req.CSeq()
	if cseq.SeqNo > maxCSeq {
		return &Error{sip.StatusBadRequest, "CSeq number out of range"}
	}
	mf := req.MaxForwards()
	if mf != nil && *mf > maxMaxForwards {
		return &Error{sip.StatusBadRequest, "Max-Forwards out of range"}
	}
	// sipgo upper-cases the request method but keeps the CSeq method as
	// written, so this comparison cannot be case-sensitive as RFC 3261's is.
	if !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return &Error{sip.StatusBadRequest, "CSeq method does not match the request"}
	}
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(req.Body()) {
		return &Error{sip.StatusBadRequest, "Content-Length does not match the body"}
	}
	if len(req.Body()) > 0 && req.ContentType() == nil {
		return &Error{sip.StatusBadRequest, "Missing Content-Type for the body"}
	}
	if req.Method == sip.INVITE && mf != nil && *mf == 0 {
		return &Error{sip.StatusTooManyHops, "Too Many Hops"}
	}
	return nil
}

// Bounds of the scalar fields: RFC 3261 §8.1.1.5 keeps a CSeq number below
// 2**31; RFC 4475 §3.1.2.4 calls a Max-Forwards above 255 overlarge.
const (
	maxCSeq        = 1<<31 - 1
	maxMaxForwards = 255
)

// UnsupportedRequire returns the option tags of req's Require headers that
// supported (compared case-insensitively, as RFC 3261 §19.2 compares option
// tags) does not list, in order and without repeats: a UAS answers a
// request with any 420 Bad Extension, listing them in Unsupported (RFC 3261
// §8.2.2.3; RFC 4475 "bext01"). Proxy-Require is a proxy's business and not
// read.
func UnsupportedRequire(req *sip.Request, supported ...string) []string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag == "" {
				continue
			}
			known := func(s string) bool { return strings.EqualFold(s, tag) }
			if slices.ContainsFunc(supported, known) || slices.ContainsFunc(out, known) {
				continue
			}
			out = append(out, tag)
		}
	}
	return out
}

// header is one of the headers checkHeaderCounts counts.
type header int

const (
	hVia header = iota
	hFrom
	hTo
	hCallID
	hCSeq
	hMaxForwards
	hContentLength
	nHeaders
)

func (h header) String() string {
	return [...]string{"Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length"}[h]
}

// checkHeaderCounts reports the first mandatory header missing, else the
// first single-valued header repeated. sipgo parses these headers eagerly into
// their typed forms (compact names included) and refuses a message where one
// does not parse, so counting types is exact.
func checkHeaderCounts(req *sip.Request) error {
	var n [nHeaders]int
	for _, h := range req.Headers() {
		switch h.(type) {
		case *sip.ViaHeader:
			n[hVia]++
		case *sip.FromHeader:
			n[hFrom]++
		case *sip.ToHeader:
			n[hTo]++
		case *sip.CallIDHeader:
			n[hCallID]++
		case *sip.CSeqHeader:
			n[hCSeq]++
		case *sip.MaxForwardsHeader:
			n[hMaxForwards]++
		case *sip.ContentLengthHeader:
			n[hContentLength]++
		}
	}
	for h := hVia; h <= hCSeq; h++ { // Max-Forwards may be absent (RFC 2543)
		if n[h] == 0 {
			return &Error{sip.StatusBadRequest, "Missing " + h.String()}
		}
	}
	for h := hFrom; h < nHeaders; h++ {
		if n[h] > 1 {
			return &Error{sip.StatusBadRequest, "Duplicate " + h.String()}
		}
	}
	return nil
}
