package sipmsg

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Local is where the appliance is reached on one leg: the sent-by of its Via
// and the address of its Contact. Nothing of the other leg is ever in it.
type Local struct {
	Transport string // "UDP", "TCP" or "TLS"
	Host      string // advertised host or IP address
	Port      int    // the listener's port; 0 lets the transport fill in the socket's
	// Secure makes the Contact a sips: URI (RFC 3261 §19.1.1: TLS on every
	// hop), as a dialog set up with a sips: Request-URI needs.
	Secure bool
}

// Via returns a fresh top Via for a new transaction sent from l.
func (l Local) Via() *sip.ViaHeader {
	v := &sip.ViaHeader{
		ProtocolName:    "SIP",
		ProtocolVersion: "2.0",
		Transport:       l.Transport,
		Host:            l.Host,
		Port:            l.Port,
		Params:          sip.NewParams(),
	}
	v.Params.Add("branch", sip.GenerateBranchN(16))
	v.Params.Add("rport", "")
	return v
}

// Contact returns the appliance's Contact on this leg.
func (l Local) Contact() *sip.ContactHeader {
	c := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: l.Host, Port: l.Port}}
	switch {
	case l.Secure:
		c.Address.Scheme = "sips" // TLS implied; RFC 5630 deprecates transport=tls with it
	case l.Transport != "" && l.Transport != "UDP":
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", strings.ToLower(l.Transport))
	}
	return c
}

// Dialog is one leg of a call from the appliance's side, as RFC 3261 §12
// defines a dialog's state: enough to send requests within it. Local is the
// appliance; Remote is the peer. Dialog is not safe for concurrent use: the
// call's owner goroutine holds it.
type Dialog struct {
	CallID     string
	LocalURI   sip.Uri
	LocalName  string // display name, "" for none
	LocalTag   string
	RemoteURI  sip.Uri
	RemoteName string
	RemoteTag  string
	// RemoteTarget is the peer's Contact: the Request-URI of requests.
	RemoteTarget sip.Uri
	// RouteSet is the route of requests, in the order they are sent.
	RouteSet []sip.Uri
	// CSeq is the last local sequence number used.
	CSeq  uint32
	Local Local
}

// Request builds a request within the dialog with the next local CSeq (the
// same one for ACK, which acknowledges the INVITE of cseq — see Ack). body
// may be nil; contentType is set when body is not empty.
func (d *Dialog) Request(method sip.RequestMethod, body []byte, contentType string) *sip.Request {
	d.CSeq++
	return d.build(method, d.CSeq, body, contentType)
}

// Ack builds the ACK to a 2xx of the INVITE sent with sequence number cseq
// (RFC 3261 §13.2.2.4): a transaction of its own, with a fresh branch.
func (d *Dialog) Ack(cseq uint32, body []byte, contentType string) *sip.Request {
	return d.build(sip.ACK, cseq, body, contentType)
}

func (d *Dialog) build(method sip.RequestMethod, cseq uint32, body []byte, contentType string) *sip.Request {
	req := sip.NewRequest(method, *d.RemoteTarget.Clone())
	req.AppendHeader(d.Local.Via())
	for _, r := range d.RouteSet {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: d.LocalName, Address: *d.LocalURI.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", d.LocalTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: d.RemoteName, Address: *d.RemoteURI.Clone(), Params: sip.NewParams()}
	if d.RemoteTag != "" {
		to.Params.Add("tag", d.RemoteTag)
	}
	req.AppendHeader(to)
	callID := sip.CallIDHeader(d.CallID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	if method == sip.INVITE || method == sip.UPDATE {
		req.AppendHeader(d.Local.Contact())
	}
	if len(body) > 0 && contentType != "" {
		ct := sip.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	req.SetTransport(d.Local.Transport)
	return req
}

// Cancel builds the CANCEL of an INVITE the appliance sent (RFC 3261 §9.1):
// the INVITE's Request-URI, top Via, Route, From, To, Call-ID and CSeq
// number.
func Cancel(inv *sip.Request) *sip.Request {
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	if via := inv.Via(); via != nil {
		req.AppendHeader(via.Clone())
	}
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(h))
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, h := range []sip.Header{inv.From(), inv.To(), inv.CallID()} {
		if h != nil {
			req.AppendHeader(sip.HeaderClone(h))
		}
	}
	if cseq := inv.CSeq(); cseq != nil {
		req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq.SeqNo, MethodName: sip.CANCEL})
	}
	req.SetBody(nil)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Destination())
	req.Laddr = inv.Laddr
	return req
}

// RouteSet returns the route set a UAC learns from a 2xx or 1xx response
// (RFC 3261 §12.1.2): its Record-Route entries, reversed.
func RouteSet(res *sip.Response) []sip.Uri {
	rr := recordRoutes(res.GetHeaders("Record-Route"))
	for i, j := 0, len(rr)-1; i < j; i, j = i+1, j-1 {
		rr[i], rr[j] = rr[j], rr[i]
	}
	return rr
}

// RouteSetUAS returns the route set a UAS learns from the request that
// created the dialog (RFC 3261 §12.1.1): its Record-Route entries, in order.
func RouteSetUAS(req *sip.Request) []sip.Uri {
	return recordRoutes(req.GetHeaders("Record-Route"))
}

func recordRoutes(hs []sip.Header) []sip.Uri {
	var out []sip.Uri
	for _, h := range hs {
		if rr, ok := h.(*sip.RecordRouteHeader); ok {
			out = append(out, *rr.Address.Clone())
			continue
		}
		// A header kept unparsed: its value may list several entries.
		for _, v := range splitAddresses(h.Value()) {
			var u sip.Uri
			if _, err := sip.ParseAddressValue(v, &u, nil); err == nil {
				out = append(out, u)
			}
		}
	}
	return out
}

// splitAddresses splits a comma-separated list of name-addr values, leaving
// commas inside <...> and quotes alone.
func splitAddresses(s string) []string {
	var out []string
	inAngle, inQuote, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inAngle = true
		case c == '>' && !inQuote:
			inAngle = false
		case c == ',' && !inQuote && !inAngle:
			if v := strings.TrimSpace(s[start:i]); v != "" {
				out = append(out, v)
			}
			start = i + 1
		}
	}
	if v := strings.TrimSpace(s[start:]); v != "" {
		out = append(out, v)
	}
	return out
}

// Tag returns the tag parameter of a From or To header, "" when absent.
func Tag(params sip.HeaderParams) string {
	v, _ := params.Get("tag")
	return v
}

// DialogFromResponse returns the dialog a 2xx to an INVITE of the
// appliance's creates, as its UAC sees it (RFC 3261 §12.1.2), with CSeq at
// the INVITE's: enough to acknowledge the 2xx and send BYE, when nothing else
// of the dialog is known any more (an answer that arrived too late).
func DialogFromResponse(res *sip.Response, local Local) Dialog {
	d := Dialog{Local: local, RouteSet: RouteSet(res)}
	if h := res.CallID(); h != nil {
		d.CallID = h.Value()
	}
	if from := res.From(); from != nil {
		d.LocalURI, d.LocalName, d.LocalTag = *from.Address.Clone(), from.DisplayName, Tag(from.Params)
	}
	if to := res.To(); to != nil {
		d.RemoteURI, d.RemoteName, d.RemoteTag = *to.Address.Clone(), to.DisplayName, Tag(to.Params)
		d.RemoteTarget = *to.Address.Clone()
	}
	if ct := res.Contact(); ct != nil {
		d.RemoteTarget = *ct.Address.Clone()
	}
	if cs := res.CSeq(); cs != nil {
		d.CSeq = cs.SeqNo
	}
	return d
}
