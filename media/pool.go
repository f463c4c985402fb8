package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// ErrPoolExhausted is returned by NewRelay when no free port pair of the
// pool could be bound.
var ErrPoolExhausted = errors.New("media: RTP port pool exhausted")

// ParsePortRange parses an RTP port range such as "20000-30000" (both ends
// included). The range must hold at least one even port whose odd neighbour
// is also in it.
func ParsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("port range %q: want LOW-HIGH", s)
	}
	if lo, err = parsePort(a); err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	if hi, err = parsePort(b); err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	if err := checkRange(lo, hi); err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	return lo, hi, nil
}

func parsePort(s string) (int, error) {
	// Atoi would take a sign; a port is digits only.
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s is outside 1..65535", s)
	}
	return n, nil
}

func checkRange(lo, hi int) error {
	if lo < 1 || hi > 65535 || lo > hi {
		return fmt.Errorf("%d-%d is not a range within 1..65535", lo, hi)
	}
	if pairs(lo, hi) == 0 {
		return fmt.Errorf("%d-%d holds no even port with its odd neighbour", lo, hi)
	}
	return nil
}

// firstEven is the first even port at or above lo.
func firstEven(lo int) int { return lo + lo%2 }

// pairs is the number of RTP/RTCP pairs (p even, p+1) within [lo, hi].
func pairs(lo, hi int) int {
	first := firstEven(lo)
	if first+1 > hi {
		return 0
	}
	return (hi-first-1)/2 + 1
}

// Pool hands out RTP/RTCP port pairs — the RTP port even, RTCP on the port
// above — within [lo, hi] on one bind address. Ports are handed out round
// robin, so that a port just freed is the last to be reused (stray packets
// of an ended call do not land in the next one). A Pool is safe for
// concurrent use.
type Pool struct {
	bind  netip.Addr
	first int // first RTP port
	lo    int
	hi    int

	mu     sync.Mutex
	used   []bool // by pair index
	free   int
	next   int                 // where the next search starts
	live   map[*Relay]struct{} // relays not yet closed, for Totals
	closed Totals              // counters of the relays closed so far
}

// NewPool returns a pool of the even ports in [lo, hi] (with their odd
// neighbours) on bind, which may be unspecified (0.0.0.0, ::) to listen on
// every address of that family. It does no I/O.
func NewPool(bind netip.Addr, lo, hi int) (*Pool, error) {
	if !bind.IsValid() {
		return nil, errors.New("media: pool needs a bind address")
	}
	if err := checkRange(lo, hi); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	n := pairs(lo, hi)
	return &Pool{
		bind:  bind.Unmap(),
		first: firstEven(lo),
		lo:    lo,
		hi:    hi,
		used:  make([]bool, n),
		free:  n,
		live:  make(map[*Relay]struct{}),
	}, nil
}

// Available is the number of free port pairs.
func (p *Pool) Available() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.free
}

// Size is the number of port pairs of the pool.
func (p *Pool) Size() int { return len(p.used) }

// take reserves the next free pair round robin and returns its RTP port.
func (p *Pool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free == 0 {
		return 0, false
	}
	n := len(p.used)
	for i := range n {
		idx := (p.next + i) % n
		if !p.used[idx] {
			p.used[idx] = true
			p.free--
			p.next = (idx + 1) % n
			return p.first + 2*idx, true
		}
	}
	return 0, false // unreachable while free counts right
}

// release returns the pair of RTP port port to the pool.
func (p *Pool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	idx := (port - p.first) / 2
	if idx >= 0 && idx < len(p.used) && p.used[idx] {
		p.used[idx] = false
		p.free++
	}
}

// bindPair reserves a pair and binds its two sockets, trying further pairs
// while the ports are in use by someone else. A pair that could not be bound
// goes back to the pool (it may be free again later).
func (p *Pool) bindPair() (port int, rtp, rtcp *net.UDPConn, err error) {
	network := "udp4"
	if p.bind.Is6() {
		network = "udp6"
	}
	var busy []int
	defer func() {
		for _, b := range busy {
			p.release(b)
		}
	}()
	var lastErr error
	for range len(p.used) {
		port, ok := p.take()
		if !ok {
			break
		}
		rtp, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port))))
		if err != nil {
			lastErr = err
			busy = append(busy, port)
			continue
		}
		rtcp, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.bind, uint16(port+1))))
		if err != nil {
			rtp.Close()
			lastErr = err
			busy = append(busy, port)
			continue
		}
		return port, rtp, rtcp, nil
	}
	if lastErr != nil {
		return 0, nil, nil, fmt.Errorf("%w (%d-%d on %s; %d pairs in use elsewhere, last: %v)",
			ErrPoolExhausted, p.lo, p.hi, p.bind, len(busy), lastErr)
	}
	return 0, nil, nil, fmt.Errorf("%w (%d-%d on %s)", ErrPoolExhausted, p.lo, p.hi, p.bind)
}

// NewRelay binds two RTP/RTCP pairs, one per leg, and returns a relay that
// is not started yet. It tries further pairs when one is in use by another
// process, and fails with ErrPoolExhausted when none is left. log (nil: no
// logging) is the call's logger; the relay logs latching and errors on it.
func (p *Pool) NewRelay(log *slog.Logger) (*Relay, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{pool: p, log: log}
	for s := range r.legs {
		port, rtp, rtcp, err := p.bindPair()
		if err != nil {
			for i := range s {
				l := &r.legs[i]
				l.rtp.conn.Close()
				l.rtcp.conn.Close()
				p.release(l.port)
			}
			return nil, err
		}
		r.legs[s].init(r, Side(s), port, rtp, rtcp)
	}
	p.mu.Lock()
	p.live[r] = struct{}{}
	p.mu.Unlock()
	return r, nil
}

// Totals are the RTP counters summed over every relay of a pool, open and
// closed: what the metrics trunkline_rtp_packets_total{dir="in"|"out"}
// report.
type Totals struct {
	PacketsIn, PacketsOut uint64 // RTP packets received from peers and accepted; sent to peers
	BytesIn, BytesOut     uint64
	Dropped               uint64 // RTP and RTCP packets dropped, for any reason
}

func (t *Totals) add(s Stats) {
	for _, l := range []LegStats{s.A, s.B} {
		t.PacketsIn += l.PacketsIn
		t.PacketsOut += l.PacketsOut
		t.BytesIn += l.BytesIn
		t.BytesOut += l.BytesOut
		t.Dropped += l.DroppedNoPeer + l.DroppedInvalid + l.DroppedForeign + l.WriteErrors
	}
}

// Totals sums the counters of every relay the pool has handed out.
func (p *Pool) Totals() Totals {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.closed
	for r := range p.live {
		t.add(r.Stats())
	}
	return t
}

// retire moves a closed relay's counters into the pool's totals and frees
// its ports. Its sockets are closed.
func (p *Pool) retire(r *Relay) {
	st := r.Stats()
	p.mu.Lock()
	delete(p.live, r)
	p.closed.add(st)
	p.mu.Unlock()
	for i := range r.legs {
		p.release(r.legs[i].port)
	}
}
