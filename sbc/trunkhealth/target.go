package trunkhealth

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/trunkline/trunkline/config"
)

// Target is one address of a trunk that OPTIONS polling probes. The caller
// resolves a trunk's destination hosts into targets (see Options.Resolve);
// the monitor keys its per-address state by Addr within a trunk.
type Target struct {
	TrunkID   string         // the trunk the address belongs to
	Host      string         // the destination host as configured ("sip.example:5070"), for the R-URI
	Addr      netip.AddrPort // where the OPTIONS request goes
	Transport string         // UDP | TCP | TLS
}

// Prober sends one OPTIONS request to a target and reports the final
// response code, or an error when none came (timeout, transport error).
// The context carries the probe's deadline; Probe must return soon after
// it is done, since the monitor waits for every probe it started.
//
// The SIP implementation lives in package sbc; this package never sends a
// packet itself.
type Prober interface {
	Probe(ctx context.Context, t Target) (code int, err error)
}

// ProberFunc adapts a function to the Prober interface.
type ProberFunc func(ctx context.Context, t Target) (int, error)

// Probe calls f(ctx, t).
func (f ProberFunc) Probe(ctx context.Context, t Target) (int, error) { return f(ctx, t) }

// ResolveFunc turns a trunk's destination hosts into the addresses to
// probe. It is called at the start of every polling round, with a context
// bounded by the probe timeout, so DNS changes are followed.
type ResolveFunc func(ctx context.Context, t config.SIPTrunk) ([]Target, error)

// LiteralTargets is the resolver used when Options.Resolve is nil: it
// keeps the destination hosts written as an IP address ("192.0.2.1",
// "192.0.2.1:5070", "[2001:db8::1]:5060") and skips host names. A host
// without a port gets 5060, or 5061 over TLS. It does no I/O.
func LiteralTargets(t config.SIPTrunk) []Target {
	transport := trunkTransport(t)
	port := uint16(5060)
	if transport == config.TransportTLS {
		port = 5061
	}
	var out []Target
	for _, h := range t.DestinationHosts {
		if a, err := netip.ParseAddr(h); err == nil {
			out = append(out, Target{TrunkID: t.ID, Host: h, Addr: netip.AddrPortFrom(a.Unmap(), port), Transport: transport})
			continue
		}
		host, p, err := net.SplitHostPort(h)
		if err != nil {
			continue
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			continue
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			continue
		}
		pp := uint16(n)
		if pp == 0 {
			pp = port
		}
		out = append(out, Target{TrunkID: t.ID, Host: h, Addr: netip.AddrPortFrom(a.Unmap(), pp), Transport: transport})
	}
	return out
}

// trunkTransport is the trunk's transport in upper case, UDP when absent
// and TLS when the trunk sets tls: true.
func trunkTransport(t config.SIPTrunk) string {
	switch {
	case t.Transport != "":
		return strings.ToUpper(t.Transport)
	case t.TLS:
		return config.TransportTLS
	}
	return config.TransportUDP
}
