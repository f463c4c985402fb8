package sbc

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
)

// udpSocketBuffer is the kernel buffer asked for on each UDP socket, both
// ways: a signalling burst must queue, not drop. Linux caps it at
// net.core.rmem_max / wmem_max; raise those for the full size.
const udpSocketBuffer = 4 << 20

// listenAddr is one sip.listen entry.
type listenAddr struct {
	raw     string // as configured, for messages
	network string // "udp", "tcp" or "tls"
	addr    string // host:port
}

// parseListens reads sip.listen: udp://, tcp:// and tls:// host:port.
func parseListens(entries []string) ([]listenAddr, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("sip.listen is empty")
	}
	out := make([]listenAddr, 0, len(entries))
	for i, e := range entries {
		scheme, addr, ok := strings.Cut(e, "://")
		switch {
		case !ok:
			return nil, fmt.Errorf("sip.listen[%d]: %q is not udp://, tcp:// or tls:// followed by host:port", i, e)
		case scheme != "udp" && scheme != "tcp" && scheme != "tls":
			return nil, fmt.Errorf("sip.listen[%d]: %q: unknown transport %q", i, e, scheme)
		}
		out = append(out, listenAddr{raw: e, network: scheme, addr: addr})
	}
	return out, nil
}

// setUDPBuffers enlarges a UDP socket's kernel buffers.
func setUDPBuffers(pc net.PacketConn) error {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return nil
	}
	if err := uc.SetReadBuffer(udpSocketBuffer); err != nil {
		return err
	}
	return uc.SetWriteBuffer(udpSocketBuffer)
}

// addrOf returns the IP address of a socket address, IPv4-mapped IPv6
// unmapped; the zero Addr when there is none.
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// screen is sipgo's transport read filter, run on every datagram (and TCP
// read) before it is parsed. A UDP datagram from a source no trunk owns
// spends a token of that source's bucket (sip.sourceRateLimit): a flood is
// dropped for the price of a map look-up, and counted. With
// sip.dropUnknown, bytes from a source nothing can identify are dropped
// too, and counted: such a flood earns no answer, not even the 400 sipgo
// itself sends to a request without Via or CSeq; nor does it grow sipgo's
// table of UDP peers.
func (s *Server) screen(props sip.TransportReadProps, data []byte) ([]byte, error) {
	st := s.state.Load()
	src := addrOf(props.RemoteAddr)
	if isUDP(props.Transport) && !s.owned(st, src) && !s.flood.allow(src, sourceRateLimit(st.cfg), time.Now()) {
		s.metrics.rateLimited.Inc()
		return nil, nil // never an error: sipgo would stop reading the socket
	}
	if !st.cfg.SIP.DropUnknown || !s.unknownPeer(st, src) {
		return data, nil
	}
	s.metrics.unknownSource.Inc()
	return nil, nil
}

// sourceRateLimit is sip.sourceRateLimit, defaulted.
func sourceRateLimit(cfg *config.Config) int {
	if cfg.SIP.SourceRateLimit == nil {
		return config.DefaultSourceRateLimit
	}
	return *cfg.SIP.SourceRateLimit
}

// owned reports whether a trunk owns addr (its sourceHosts, an address
// among its destinationHosts, or a live registration's source) or a live
// call sent an INVITE there.
func (s *Server) owned(st *state, addr netip.Addr) bool {
	a := addr.Unmap().WithZone("")
	return st.sources.lookup(a) != nil || st.sources.destinations[a] || s.peers.has(a) ||
		s.registrar.trunkAt(st.cfg, a) != nil
}

// unknownPeer reports whether a packet or connection from addr may be
// dropped unseen: no trunk owns the address, it is no destination host
// given by address, and no live call sent an INVITE there (a destination
// given by name resolves to it).
func (s *Server) unknownPeer(st *state, addr netip.Addr) bool {
	return st.sources.unknownSource(addr) && !s.peers.has(addr)
}

// peerSet counts the addresses live calls sent INVITEs to.
type peerSet struct {
	mu sync.Mutex
	n  map[netip.Addr]int
}

func (p *peerSet) add(a netip.Addr) {
	a = a.Unmap().WithZone("")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[netip.Addr]int{}
	}
	p.n[a]++
}

func (p *peerSet) remove(a netip.Addr) {
	a = a.Unmap().WithZone("")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[a] <= 1 {
		delete(p.n, a)
		return
	}
	p.n[a]--
}

func (p *peerSet) has(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[a] > 0
}

// screenedListener is a TCP listener that, with sip.dropUnknown, closes
// connections from unknown sources as they are accepted, and that tracks the
// connections it hands out so that Shutdown can close them.
type screenedListener struct {
	net.Listener
	s     *Server
	conns *connSet
}

func (l *screenedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		st := l.s.state.Load()
		src := addrOf(c.RemoteAddr())
		if !l.s.owned(st, src) && !l.s.flood.allow(src, sourceRateLimit(st.cfg), time.Now()) {
			l.s.metrics.rateLimited.Inc()
			c.Close()
			continue
		}
		if st.cfg.SIP.DropUnknown && l.s.unknownPeer(st, src) {
			l.s.metrics.unknownSource.Inc()
			c.Close()
			continue
		}
		return l.conns.add(c), nil
	}
}

// connSet holds the live accepted connections.
type connSet struct {
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

// add tracks c; once closeAll ran, it closes c instead.
func (cs *connSet) add(c net.Conn) net.Conn {
	tc := &trackedConn{Conn: c, set: cs}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		c.Close()
		return tc
	}
	if cs.conns == nil {
		cs.conns = map[*trackedConn]struct{}{}
	}
	cs.conns[tc] = struct{}{}
	return tc
}

func (cs *connSet) remove(tc *trackedConn) {
	cs.mu.Lock()
	delete(cs.conns, tc)
	cs.mu.Unlock()
}

// closeAll closes every tracked connection, and every one added later.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	cs.closed = true
	conns := cs.conns
	cs.conns = nil
	cs.mu.Unlock()
	for tc := range conns {
		tc.Conn.Close()
	}
}

// trackedConn leaves its set when closed.
type trackedConn struct {
	net.Conn
	set  *connSet
	once sync.Once
}

func (tc *trackedConn) Close() error {
	tc.once.Do(func() { tc.set.remove(tc) })
	return tc.Conn.Close()
}
