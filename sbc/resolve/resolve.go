package resolve

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Target is one address to send a request to, in the order to try them.
type Target struct {
	Transport string         // "UDP", "TCP" or "TLS"
	Addr      netip.AddrPort // where to send
	// Host is the name whose A/AAAA record gave Addr: the SRV target, or
	// the domain itself when no SRV record was used (the literal for an IP).
	Host string
	// Domain is the host as the caller gave it, without a trailing dot:
	// the name to send in TLS SNI and to check the server's certificate
	// against (RFC 5922 §4), whatever SRV target Addr came from.
	Domain string
}

// Defaults of a Resolver.
const (
	DefaultTimeout    = 2 * time.Second // per server and query
	DefaultCacheSize  = 4096            // cached answers
	DefaultResolvConf = "/etc/resolv.conf"
)

// Resolver finds the targets of SIP destinations. It is safe for
// concurrent use.
type Resolver struct {
	now        func() time.Time
	intn       func(n int) int
	timeout    time.Duration
	resolvConf string
	cache      *cache

	once       sync.Once // reads resolvConf when servers is empty
	servers    []string
	serversErr error
}

// Option changes a Resolver made by New.
type Option func(*Resolver)

// WithClock sets the clock the cache expires answers by (time.Now by
// default).
func WithClock(now func() time.Time) Option { return func(r *Resolver) { r.now = now } }

// WithRand sets the random source of the SRV weighted order: intn returns
// a uniform integer in [0, n) and must be safe for concurrent use
// (math/rand/v2.IntN by default).
func WithRand(intn func(n int) int) Option { return func(r *Resolver) { r.intn = intn } }

// WithTimeout sets how long to wait for one server's answer to one query
// before asking the next server (DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(r *Resolver) { r.timeout = d } }

// WithCacheSize bounds the number of cached answers (DefaultCacheSize);
// 0 or less turns the cache off.
func WithCacheSize(n int) Option { return func(r *Resolver) { r.cache = newCache(n) } }

// WithResolvConf sets the file read for servers when none are given
// (DefaultResolvConf).
func WithResolvConf(path string) Option { return func(r *Resolver) { r.resolvConf = path } }

// New returns a Resolver asking servers ("host:port"; port 53 when
// absent) in order. With no servers it reads the nameservers of
// /etc/resolv.conf on first use. New does no I/O.
func New(servers []string, opts ...Option) *Resolver {
	r := &Resolver{
		now:        time.Now,
		intn:       rand.IntN,
		timeout:    DefaultTimeout,
		resolvConf: DefaultResolvConf,
		cache:      newCache(DefaultCacheSize),
	}
	for _, s := range servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(strings.Trim(s, "[]"), "53")
		}
		r.servers = append(r.servers, s)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// DefaultPort is the port of transport when none is given: 5061 for TLS,
// else 5060.
func DefaultPort(transport string) uint16 {
	if strings.EqualFold(transport, "TLS") {
		return 5061
	}
	return 5060
}

// Resolve returns the targets of a destination, in the order to try them
// (RFC 3263 §4). host is a domain name or an IP literal; port is 0 when
// the destination gives none; transport is "UDP", "TCP", "TLS" or "" when
// not configured (then NAPTR records choose, and UDP is the default).
//
//   - An IP literal is the one target, on port or the transport's default.
//   - A name with a port: its A then AAAA addresses on that port.
//   - Otherwise: the services of its NAPTR records (those of transport
//     only, when given), or with none the SRV name of transport (of UDP,
//     TCP and TLS in turn when not given); each SRV record's target's A
//     then AAAA addresses, in OrderSRV order; with no SRV record at all,
//     the name's own addresses on the default port.
//
// The error is an *Error wrapping ErrNotFound, ErrUnavailable, ErrNoAnswer
// or the context's error. A partial result is returned without error: an
// SRV target without addresses is skipped.
func (r *Resolver) Resolve(ctx context.Context, host string, port int, transport string) ([]Target, error) {
	transport = strings.ToUpper(transport)
	switch transport {
	case "", "UDP", "TCP", "TLS":
	default:
		return nil, fmt.Errorf("resolve: unknown transport %q", transport)
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("resolve: port %d out of range", port)
	}
	domain := strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(strings.Trim(domain, "[]")); err == nil {
		tr := or(transport, "UDP")
		return []Target{{Transport: tr, Addr: netip.AddrPortFrom(ip.Unmap(), portOr(port, tr)), Host: ip.String(), Domain: ip.String()}}, nil
	}
	name := strings.ToLower(domain)
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return nil, &Error{Name: domain, Type: "A/AAAA", Err: fmt.Errorf("%w: invalid domain name", ErrNotFound)}
	}
	if port != 0 {
		tr := or(transport, "UDP")
		return r.hostTargets(ctx, name, domain, tr, uint16(port))
	}

	// NAPTR (RFC 3263 §4.1).
	na, err := r.lookup(ctx, name, dns.TypeNAPTR)
	if err != nil {
		return nil, err
	}
	services := naptrServices(na.naptrs, transport)
	if len(services) == 0 {
		for _, tr := range []string{"UDP", "TCP", "TLS"} {
			if transport == "" || transport == tr {
				services = append(services, service{transport: tr, name: srvName(tr, name)})
			}
		}
	}

	// SRV (§4.2), then A/AAAA of each target.
	var (
		targets  []Target
		srvFound bool
		firstErr error
	)
	for _, svc := range services {
		sa, err := r.lookup(ctx, svc.name, dns.TypeSRV)
		if err != nil {
			return nil, err
		}
		if len(sa.srvs) == 0 {
			continue
		}
		srvFound = true
		if len(sa.srvs) == 1 && sa.srvs[0].Target == "" {
			if firstErr == nil {
				firstErr = &Error{Name: svc.name, Type: "SRV", Err: ErrUnavailable}
			}
			continue
		}
		for _, s := range OrderSRV(sa.srvs, r.intn) {
			if s.Target == "" {
				continue
			}
			addrs, err := r.addrs(ctx, s.Target)
			if err != nil {
				if errors.Is(err, ErrNotFound) {
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				return nil, err
			}
			targets = appendTargets(targets, addrs, svc.transport, s.Port, s.Target, domain)
		}
	}
	if len(targets) > 0 {
		return targets, nil
	}
	if srvFound {
		if firstErr == nil {
			firstErr = &Error{Name: name, Type: "SRV", Err: fmt.Errorf("%w: no usable SRV target", ErrNotFound)}
		}
		return nil, firstErr
	}
	// No SRV record: the domain's own addresses (§4.2), on the transport
	// NAPTR chose, if any.
	tr := or(transport, "UDP")
	if len(na.naptrs) > 0 && len(services) > 0 {
		tr = services[0].transport
	}
	return r.hostTargets(ctx, name, domain, tr, DefaultPort(tr))
}

// hostTargets returns the targets of name's own A and AAAA records.
func (r *Resolver) hostTargets(ctx context.Context, name, domain, transport string, port uint16) ([]Target, error) {
	addrs, err := r.addrs(ctx, name)
	if err != nil {
		return nil, err
	}
	return appendTargets(nil, addrs, transport, port, name, domain), nil
}

// addrs returns name's A then AAAA addresses; an *Error wrapping
// ErrNotFound when it has none.
func (r *Resolver) addrs(ctx context.Context, name string) ([]netip.Addr, error) {
	a, err := r.lookup(ctx, name, dns.TypeA)
	if err != nil {
		return nil, err
	}
	if a.nxdomain {
		return nil, &Error{Name: name, Type: "A/AAAA", Err: fmt.Errorf("%w: NXDOMAIN", ErrNotFound)}
	}
	aaaa, err := r.lookup(ctx, name, dns.TypeAAAA)
	if err != nil {
		return nil, err
	}
	if len(a.addrs)+len(aaaa.addrs) == 0 {
		return nil, &Error{Name: name, Type: "A/AAAA", Err: fmt.Errorf("%w: no address records", ErrNotFound)}
	}
	if len(aaaa.addrs) == 0 {
		return a.addrs, nil
	}
	return append(append(make([]netip.Addr, 0, len(a.addrs)+len(aaaa.addrs)), a.addrs...), aaaa.addrs...), nil
}

// appendTargets appends one target per address not already in ts.
func appendTargets(ts []Target, addrs []netip.Addr, transport string, port uint16, host, domain string) []Target {
next:
	for _, ip := range addrs {
		ap := netip.AddrPortFrom(ip.Unmap(), port)
		for _, t := range ts {
			if t.Addr == ap && t.Transport == transport {
				continue next
			}
		}
		ts = append(ts, Target{Transport: transport, Addr: ap, Host: host, Domain: domain})
	}
	return ts
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func portOr(port int, transport string) uint16 {
	if port == 0 {
		return DefaultPort(transport)
	}
	return uint16(port)
}
