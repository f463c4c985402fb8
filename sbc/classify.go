package sbc

import (
	"crypto/subtle"
	"fmt"
	"net/netip"
	"slices"

	"github.com/trunkline/trunkline/config"
)

// sourceTable is what classification (DESIGN §4.1) knows of the trunks of
// one configuration: who owns which source addresses, which trunks take
// digest credentials and under which username, and which are identified by
// an access code alone. It is built once per configuration and read
// concurrently without locks.
//
// Between trunks owning a source, the most specific prefix wins: a trunk
// owning 198.51.100.7 takes its packets even when another trunk owns
// 198.51.100.0/24, whatever their order in the file. Between trunks listing
// the same prefix, the first in config order wins — unless the request's
// X-Access-Code names one of the others (candidates).
type sourceTable struct {
	// byPrefix holds, per prefix, the trunks listing it, in config order:
	// STATIC ones and credential ones alike.
	byPrefix map[netip.Prefix][]*config.SIPTrunk
	v4, v6   []int // the prefix lengths present, longest first

	// openCredentials is set when some REGISTERED or AUTHENTICATED trunk has
	// no sourceHosts: a request from any address may then identify itself by
	// digest credentials, so the source alone cannot condemn it.
	openCredentials bool
	// byUser holds the credential trunks by their inboundAuth username (the
	// first in config order when two share one), and own their sourceHosts,
	// which the sender must match too when there are any.
	byUser map[string]*credentialTrunk
	// byCode are the STATIC trunks with an accessCode and neither
	// sourceHosts nor inboundAuth: X-Access-Code alone identifies them, from
	// any address.
	byCode []*config.SIPTrunk
	// destinations are the IP addresses among the trunks' destinationHosts:
	// the peers the appliance calls answer from them and send their
	// in-dialog requests from, even when no trunk lists them as a source.
	destinations map[netip.Addr]bool
}

// credentialTrunk is a trunk identified by digest credentials.
type credentialTrunk struct {
	trunk   *config.SIPTrunk
	sources []netip.Prefix // nil: any address
}

// admits reports whether a request from addr may authenticate as the trunk.
func (c *credentialTrunk) admits(addr netip.Addr) bool {
	if len(c.sources) == 0 {
		return true
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range c.sources {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// takesCredentials reports whether a trunk is identified by digest
// credentials: a REGISTERED or AUTHENTICATED trunk (config validation
// requires their inboundAuth), or a STATIC one that owns sources and also
// demands credentials from them. A STATIC trunk with inboundAuth and no
// sourceHosts is outbound only, as it would be without.
func takesCredentials(tr *config.SIPTrunk) bool {
	return tr.InboundAuth != nil && (tr.Type != config.TrunkStatic || len(tr.SourceHosts) > 0)
}

// newSourceTable indexes the trunks of cfg.
func newSourceTable(cfg *config.Config) (*sourceTable, error) {
	t := &sourceTable{
		byPrefix:     map[netip.Prefix][]*config.SIPTrunk{},
		byUser:       map[string]*credentialTrunk{},
		destinations: map[netip.Addr]bool{},
	}
	for i := range cfg.SIPTrunks {
		tr := &cfg.SIPTrunks[i]
		for _, h := range tr.DestinationHosts {
			host, _ := hostPort(h)
			if a, err := netip.ParseAddr(host); err == nil {
				t.destinations[a.Unmap()] = true
			}
		}
		if tr.Type != config.TrunkStatic && len(tr.SourceHosts) == 0 {
			t.openCredentials = true
		}
		var cred *credentialTrunk
		if takesCredentials(tr) {
			cred = &credentialTrunk{trunk: tr}
			if _, taken := t.byUser[tr.InboundAuth.Username]; !taken {
				t.byUser[tr.InboundAuth.Username] = cred
			}
		}
		if tr.Type == config.TrunkStatic && tr.AccessCode != "" && len(tr.SourceHosts) == 0 && tr.InboundAuth == nil {
			t.byCode = append(t.byCode, tr)
		}
		for j, h := range tr.SourceHosts {
			p, err := parseSourceHost(h)
			if err != nil {
				return nil, fmt.Errorf("sipTrunks[%d].sourceHosts[%d]: %w", i, j, err)
			}
			if cred != nil {
				cred.sources = append(cred.sources, p)
			}
			if slices.Contains(t.byPrefix[p], tr) {
				continue
			}
			if len(t.byPrefix[p]) == 0 {
				if p.Addr().Is4() {
					t.v4 = append(t.v4, p.Bits())
				} else {
					t.v6 = append(t.v6, p.Bits())
				}
			}
			t.byPrefix[p] = append(t.byPrefix[p], tr)
		}
	}
	for _, lens := range []*[]int{&t.v4, &t.v6} {
		slices.Sort(*lens)
		*lens = slices.Compact(*lens)
		slices.Reverse(*lens)
	}
	return t, nil
}

// parseSourceHost reads an IP address or CIDR prefix as a masked prefix, an
// IPv4-mapped IPv6 one as its IPv4 form.
func parseSourceHost(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// candidates calls f with each trunk whose sourceHosts hold addr, of any
// type: most specific prefix first, config order within a prefix; until f
// returns false.
func (t *sourceTable) candidates(addr netip.Addr, f func(*config.SIPTrunk) bool) {
	addr = addr.Unmap().WithZone("")
	lens := t.v6
	if addr.Is4() {
		lens = t.v4
	}
	for _, bits := range lens {
		p, err := addr.Prefix(bits)
		if err != nil {
			continue
		}
		for _, tr := range t.byPrefix[p] {
			if !f(tr) {
				return
			}
		}
	}
}

// lookup returns the trunk owning addr, of any type, or nil: the first of
// its candidates.
func (t *sourceTable) lookup(addr netip.Addr) *config.SIPTrunk {
	var found *config.SIPTrunk
	t.candidates(addr, func(tr *config.SIPTrunk) bool {
		found = tr
		return false
	})
	return found
}

// bySource reports who a request from addr carrying X-Access-Code code is
// by its source. static is the STATIC trunk (without credentials) it
// belongs to, if any: among the candidates that are such trunks, the first
// whose accessCode code equals, else the first candidate when it is one.
// Otherwise credential is the first candidate, a trunk that takes digest
// credentials from addr (nil when no trunk owns addr), so the request must
// authenticate.
func (t *sourceTable) bySource(addr netip.Addr, code string) (static, credential *config.SIPTrunk) {
	var first *config.SIPTrunk
	t.candidates(addr, func(tr *config.SIPTrunk) bool {
		if first == nil {
			first = tr
		}
		if code != "" && sourceOnly(tr) && tr.AccessCode != "" && sameCode(tr.AccessCode, code) {
			static = tr
			return false
		}
		return true
	})
	switch {
	case static != nil:
		return static, nil
	case first != nil && sourceOnly(first):
		return first, nil
	case first != nil && takesCredentials(first):
		return nil, first
	}
	return nil, nil
}

// sourceOnly reports whether a trunk is identified by its source alone: a
// STATIC trunk without inboundAuth.
func sourceOnly(tr *config.SIPTrunk) bool {
	return tr.Type == config.TrunkStatic && tr.InboundAuth == nil
}

// identify returns the trunk a request from addr belongs to by its source
// alone: a STATIC trunk without credentials, any admin status (a DISABLED
// trunk is still who the peer is; the call path refuses its calls). A
// trunk that takes digest credentials is not returned: the request must
// authenticate (see Server.classify).
func (t *sourceTable) identify(addr netip.Addr) *config.SIPTrunk {
	static, _ := t.bySource(addr, "")
	return static
}

// byAccessCode returns the trunk identified by code alone, or nil. Every
// such trunk's code is compared, in constant time each.
func (t *sourceTable) byAccessCode(code string) *config.SIPTrunk {
	var found *config.SIPTrunk
	if code == "" {
		return nil
	}
	for _, tr := range t.byCode {
		if sameCode(tr.AccessCode, code) && found == nil {
			found = tr
		}
	}
	return found
}

// sameCode compares an access code in constant time (but for its length).
func sameCode(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// unknownSource reports whether nothing can identify a packet from addr,
// neither its source, nor credentials, nor an access code, so it may be
// refused unparsed; nor is it a destination host given by address, whose
// answers and in-dialog requests the calls need.
func (t *sourceTable) unknownSource(addr netip.Addr) bool {
	return !t.openCredentials && len(t.byCode) == 0 && t.lookup(addr) == nil && !t.destinations[addr.Unmap().WithZone("")]
}
