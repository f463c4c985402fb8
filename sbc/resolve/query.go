package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxNegativeTTL bounds how long a negative answer (NXDOMAIN, no data) is
// cached; it is also the time used when the answer carries no SOA.
const maxNegativeTTL = 30 * time.Second

// ednsSize is the UDP payload size advertised (the DNS flag day 2020 value).
const ednsSize = 1232

// lookup answers one question from the cache or from the servers.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) (*answer, error) {
	k := cacheKey{name: name, qtype: qtype}
	if a, ok := r.cache.get(k, r.now()); ok {
		return a, nil
	}
	a, err := r.query(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	r.cache.put(k, a, r.now())
	return a, nil
}

// query asks the servers in turn until one gives an answer (NOERROR or
// NXDOMAIN).
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) (*answer, error) {
	fail := func(err error) error { return &Error{Name: name, Type: dns.TypeToString[qtype], Err: err} }
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}
	servers, err := r.serverList()
	if err != nil {
		return nil, fail(fmt.Errorf("%w: %w", ErrNoAnswer, err))
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(ednsSize, false)
	var last error
	for _, srv := range servers {
		resp, err := r.exchange(ctx, m, srv)
		if ctx.Err() != nil {
			return nil, fail(ctx.Err())
		}
		if err != nil {
			last = fmt.Errorf("%s: %w", srv, err)
			continue
		}
		switch resp.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
			return newAnswer(resp, qtype), nil
		}
		last = fmt.Errorf("%s: %s", srv, dns.RcodeToString[resp.Rcode])
	}
	if last == nil {
		last = errors.New("no DNS server configured")
	}
	return nil, fail(fmt.Errorf("%w: %w", ErrNoAnswer, last))
}

// exchange sends m to one server over UDP, and again over TCP when the
// answer is truncated.
func (r *Resolver) exchange(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	resp, err := r.exchangeNet(ctx, m, server, "udp")
	if err == nil && resp.Truncated {
		resp, err = r.exchangeNet(ctx, m, server, "tcp")
	}
	if err == nil && resp.Truncated {
		err = errors.New("truncated answer over TCP")
	}
	return resp, err
}

// exchangeNet is one exchange over network, bounded by the per-server
// timeout and cut short when ctx ends (miekg/dns only obeys a deadline).
func (r *Resolver) exchangeNet(ctx context.Context, m *dns.Msg, server, network string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: r.timeout}
	conn, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	resp, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil {
		return nil, err
	}
	if resp.Id != m.Id {
		return nil, dns.ErrId
	}
	return resp, nil
}

// newAnswer keeps the records of qtype from a response and works out how
// long the answer may be cached.
func newAnswer(resp *dns.Msg, qtype uint16) *answer {
	a := &answer{nxdomain: resp.Rcode == dns.RcodeNameError}
	var minTTL uint32
	first := true
	for _, rr := range resp.Answer {
		kept := true
		switch rr := rr.(type) {
		case *dns.A:
			if qtype != dns.TypeA {
				continue
			}
			if ip, ok := netip.AddrFromSlice(rr.A.To4()); ok {
				a.addrs = append(a.addrs, ip)
			}
		case *dns.AAAA:
			if qtype != dns.TypeAAAA {
				continue
			}
			if ip, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
				a.addrs = append(a.addrs, ip)
			}
		case *dns.SRV:
			if qtype != dns.TypeSRV {
				continue
			}
			a.srvs = append(a.srvs, SRV{
				Target:   strings.ToLower(strings.TrimSuffix(rr.Target, ".")),
				Port:     rr.Port,
				Priority: rr.Priority,
				Weight:   rr.Weight,
			})
		case *dns.NAPTR:
			if qtype != dns.TypeNAPTR {
				continue
			}
			a.naptrs = append(a.naptrs, rr)
		case *dns.CNAME:
			// Part of the chain to the records: its TTL bounds theirs.
		default:
			kept = false
		}
		if kept && (first || rr.Header().Ttl < minTTL) {
			minTTL, first = rr.Header().Ttl, false
		}
	}
	if !a.empty() {
		a.ttl = time.Duration(minTTL) * time.Second
		return a
	}
	// Negative answer: the SOA's negative TTL (RFC 2308 §5), bounded.
	a.ttl = maxNegativeTTL
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			ttl := min(soa.Hdr.Ttl, soa.Minttl)
			a.ttl = min(time.Duration(ttl)*time.Second, maxNegativeTTL)
			break
		}
	}
	return a
}

// serverList returns the servers to ask, reading resolv.conf on first use
// when none were configured.
func (r *Resolver) serverList() ([]string, error) {
	r.once.Do(func() {
		if len(r.servers) > 0 {
			return
		}
		cc, err := dns.ClientConfigFromFile(r.resolvConf)
		if err != nil {
			r.serversErr = fmt.Errorf("reading %s: %w", r.resolvConf, err)
			return
		}
		for _, s := range cc.Servers {
			r.servers = append(r.servers, net.JoinHostPort(s, cc.Port))
		}
		if len(r.servers) == 0 {
			// What the C library does with no nameserver line.
			r.servers = []string{"127.0.0.1:53", "[::1]:53"}
		}
	})
	return r.servers, r.serversErr
}
