package resolve

import (
	"cmp"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// service is one transport of a domain and the SRV name to ask for it.
type service struct {
	transport string // UDP, TCP or TLS
	name      string // SRV owner name, without the trailing dot
}

// naptrServices picks, from a domain's NAPTR records, the SIP services
// RFC 3263 §4.1 lets a client use: flag "S", service SIP+D2U, SIP+D2T or
// SIPS+D2T, no regexp, a replacement; only those of transport when it is
// not empty. They come in order, then preference; duplicates are dropped.
func naptrServices(records []*dns.NAPTR, transport string) []service {
	rs := slices.Clone(records)
	slices.SortStableFunc(rs, func(a, b *dns.NAPTR) int {
		if c := cmp.Compare(a.Order, b.Order); c != 0 {
			return c
		}
		return cmp.Compare(a.Preference, b.Preference)
	})
	var out []service
	for _, r := range rs {
		if !strings.EqualFold(r.Flags, "s") || r.Regexp != "" {
			continue
		}
		tr := naptrTransport(r.Service)
		if tr == "" || (transport != "" && tr != transport) {
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(r.Replacement, "."))
		if name == "" {
			continue
		}
		s := service{transport: tr, name: name}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// naptrTransport maps a NAPTR service field to a transport, "" for the
// services a SIP client cannot use.
func naptrTransport(svc string) string {
	switch strings.ToUpper(svc) {
	case "SIP+D2U":
		return "UDP"
	case "SIP+D2T":
		return "TCP"
	case "SIPS+D2T":
		return "TLS"
	}
	return ""
}

// srvName is the SRV owner name of transport at domain (RFC 3263 §4.1).
func srvName(transport, domain string) string {
	switch transport {
	case "TCP":
		return "_sip._tcp." + domain
	case "TLS":
		return "_sips._tcp." + domain
	}
	return "_sip._udp." + domain
}
