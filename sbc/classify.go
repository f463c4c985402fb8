package sbc

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/trunkline/trunkline/config"
)

// sourceTable identifies the trunk a request comes from by its source
// address (DESIGN §4.1). It is built once per configuration and read
// concurrently without locks.
//
// The most specific prefix wins: a trunk owning 198.51.100.7 takes its
// packets even when another trunk owns 198.51.100.0/24, whatever their order
// in the file. Between trunks listing the same prefix, the first in config
// order wins.
type sourceTable struct {
	byPrefix map[netip.Prefix]*config.SIPTrunk
	v4, v6   []int // the prefix lengths present, longest first

	// openCredentials is set when some REGISTERED or AUTHENTICATED trunk has
	// no sourceHosts: a request from any address may then identify itself by
	// digest credentials, so the source alone cannot condemn it.
	openCredentials bool
	// destinations are the IP addresses among the trunks' destinationHosts:
	// the peers the appliance calls answer from them and send their
	// in-dialog requests from, even when no trunk lists them as a source.
	destinations map[netip.Addr]bool
}

// newSourceTable indexes the sourceHosts of every trunk in cfg.
func newSourceTable(cfg *config.Config) (*sourceTable, error) {
	t := &sourceTable{byPrefix: map[netip.Prefix]*config.SIPTrunk{}, destinations: map[netip.Addr]bool{}}
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
		for j, h := range tr.SourceHosts {
			p, err := parseSourceHost(h)
			if err != nil {
				return nil, fmt.Errorf("sipTrunks[%d].sourceHosts[%d]: %w", i, j, err)
			}
			if _, taken := t.byPrefix[p]; taken {
				continue // an earlier trunk owns it
			}
			t.byPrefix[p] = tr
			if p.Addr().Is4() {
				t.v4 = append(t.v4, p.Bits())
			} else {
				t.v6 = append(t.v6, p.Bits())
			}
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

// lookup returns the trunk whose sourceHosts hold addr, of any type, or nil.
func (t *sourceTable) lookup(addr netip.Addr) *config.SIPTrunk {
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
		if tr := t.byPrefix[p]; tr != nil {
			return tr
		}
	}
	return nil
}

// identify returns the trunk a request from addr belongs to by its source
// alone: a STATIC trunk, any admin status (a DISABLED trunk is still who the
// peer is; the call path refuses its calls). A REGISTERED or AUTHENTICATED
// trunk is identified by digest credentials, which the call path checks, so
// identify does not return it.
func (t *sourceTable) identify(addr netip.Addr) *config.SIPTrunk {
	if tr := t.lookup(addr); tr != nil && tr.Type == config.TrunkStatic {
		return tr
	}
	return nil
}

// unknownSource reports whether nothing can identify a packet from addr,
// neither its source nor credentials, so it may be refused unparsed; nor is
// it a destination host given by address, whose answers and in-dialog
// requests the calls need.
func (t *sourceTable) unknownSource(addr netip.Addr) bool {
	return !t.openCredentials && t.lookup(addr) == nil && !t.destinations[addr.Unmap().WithZone("")]
}
