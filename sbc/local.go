package sbc

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// endpoint is the appliance on one transport: the socket requests leave
// from (UDP: the listener, so that answers and in-dialog requests come back
// to it) and the host and port written into Via and Contact.
type endpoint struct {
	transport string   // "UDP", "TCP" or "TLS"
	laddr     sip.Addr // UDP: the listener's address; TCP: zero (a dialled connection)
	host      string   // sip.advertise, else the listener's IP; "" when it listens on every interface
	port      int
}

// endpoints derives the appliance's endpoints from its bound listeners: the
// first listener of each transport. lifeMu must be held.
func (s *Server) endpoints(advertise string) map[string]endpoint {
	out := map[string]endpoint{}
	for _, a := range s.addrs {
		var ep endpoint
		var ap netip.AddrPort
		switch a := a.(type) {
		case *net.UDPAddr:
			ep.transport, ap = "UDP", a.AddrPort()
			ep.laddr = sip.Addr{IP: a.IP, Port: a.Port, Hostname: a.IP.String()}
		case *net.TCPAddr:
			ep.transport, ap = "TCP", a.AddrPort()
		case tlsAddr:
			ep.transport, ap = "TLS", a.AddrPort()
		default:
			continue
		}
		if _, seen := out[ep.transport]; seen {
			continue
		}
		ep.port = int(ap.Port())
		ep.host = advertise
		if ep.host == "" && !ap.Addr().IsUnspecified() {
			ep.host = ap.Addr().Unmap().String()
		}
		out[ep.transport] = ep
	}
	return out
}

// local returns what a leg toward remote (an IP address) over transport
// writes as its sent-by and Contact. When the appliance advertises nothing
// and listens on every interface, the host is the local address the system
// routes toward remote (a connected UDP socket, which sends nothing).
func (s *Server) local(transport string, remote netip.Addr) (sipmsg.Local, bool) {
	ep, ok := s.eps[transport]
	if !ok {
		return sipmsg.Local{}, false
	}
	l := sipmsg.Local{Transport: transport, Host: ep.host, Port: ep.port}
	if l.Host == "" {
		l.Host = routeSource(remote).String()
	}
	return l, true
}

// routeSource returns the local address the system would send from toward
// remote, or the loopback address when it cannot tell.
func routeSource(remote netip.Addr) netip.Addr {
	if remote.IsValid() {
		c, err := net.Dial("udp", netip.AddrPortFrom(remote, 9).String())
		if err == nil {
			defer c.Close()
			if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
				return ua.AddrPort().Addr().Unmap()
			}
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// resolver returns the DNS resolver of dns.servers: the system's when the
// list is empty, else a Go resolver asking those servers in order.
func newResolver(servers []string) *net.Resolver {
	if len(servers) == 0 {
		return net.DefaultResolver
	}
	servers = append([]string(nil), servers...)
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			var err error
			for _, srv := range servers {
				var c net.Conn
				if c, err = d.DialContext(ctx, network, srv); err == nil {
					return c, nil
				}
			}
			return nil, err
		},
	}
}

// target is one address an attempt may send its INVITE to.
type target struct {
	host string         // the destination host as configured, for R-URI and To
	port int            // the configured port, 0 when none
	addr netip.AddrPort // where the INVITE goes
}

// hostPort splits a configured destination host ("IP", "IP:port", "host",
// "host:port", "[v6]:port") into host and port (0 when absent).
func hostPort(s string) (string, int) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), 0
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// resolveTargets turns a configured destination host into the addresses
// to try, in order: an IP literal is itself (on the transport's default
// port unless one is given); a host name is located per RFC 3263 — NAPTR,
// SRV in priority/weight order, A/AAAA; an explicit port skips NAPTR and
// SRV (sbc/resolve).
func (s *Server) resolveTargets(ctx context.Context, configured, transport string) ([]target, error) {
	host, port := hostPort(configured)
	if a, err := netip.ParseAddr(host); err == nil {
		dport := port
		if dport == 0 {
			dport = sip.DefaultPort(transport)
		}
		return []target{{host: host, port: port, addr: netip.AddrPortFrom(a.Unmap(), uint16(dport))}}, nil
	}
	return s.dnsTargets(ctx, host, port, transport)
}
