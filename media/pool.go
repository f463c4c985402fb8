package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
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
// of an ended call do not land in the next one).
//
// The pool binds a pair's sockets the first time it hands the pair out and
// keeps them until Close: a call neither binds nor closes a socket. They are
// served by a few epoll goroutines (one per CPU), not by goroutines per
// socket; packets reaching a pair no call holds are read and dropped. A Pool
// is safe for concurrent use.
type Pool struct {
	bind    netip.Addr
	first   int // first RTP port
	lo      int
	hi      int
	workers int
	socks   []atomic.Pointer[sock] // by pair index × 2, RTCP +1; nil until bound

	mu     sync.Mutex
	used   []bool // by pair index
	free   int
	next   int                 // where the next search starts
	live   map[*Relay]struct{} // relays not yet closed, for Totals
	closed Totals              // counters of the relays closed so far
	run    *pollers            // started by the first NewRelay
	done   bool                // Close was called

	// strayed, when set, is called for each packet dropped because no call
	// holds its socket (tests await it).
	strayed atomic.Pointer[func()]
}

// ErrPoolClosed is returned by NewRelay after the pool's Close.
var ErrPoolClosed = errors.New("media: RTP port pool closed")

// NewPool returns a pool of the even ports in [lo, hi] (with their odd
// neighbours) on bind, which may be unspecified (0.0.0.0, ::) to listen on
// every address of that family. It does no I/O: sockets are bound, and the
// goroutines serving them started, on demand.
func NewPool(bind netip.Addr, lo, hi int) (*Pool, error) {
	if !bind.IsValid() {
		return nil, errors.New("media: pool needs a bind address")
	}
	if err := checkRange(lo, hi); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	n := pairs(lo, hi)
	return &Pool{
		bind:    bind.Unmap(),
		first:   firstEven(lo),
		lo:      lo,
		hi:      hi,
		workers: max(1, runtime.GOMAXPROCS(0)),
		socks:   make([]atomic.Pointer[sock], 2*n),
		used:    make([]bool, n),
		free:    n,
		live:    make(map[*Relay]struct{}),
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

// take reserves the next free pair round robin and returns its index.
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
			return idx, true
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

// sockAt returns the socket registered as id, nil when none is.
func (p *Pool) sockAt(id int32) *sock {
	if id < 0 || int(id) >= len(p.socks) {
		return nil
	}
	return p.socks[id].Load()
}

// takePair reserves a pair whose two sockets are bound, binding them if
// this is the pair's first use, and trying further pairs while ports are in
// use by someone else. A pair that could not be bound goes back to the pool
// (it may be free again later).
func (p *Pool) takePair(run *pollers) (rtp, rtcp *sock, err error) {
	var busy []int
	defer func() {
		for _, b := range busy {
			p.release(b)
		}
	}()
	var lastErr error
	for range len(p.used) {
		idx, ok := p.take()
		if !ok {
			break
		}
		rtp, rtcp := p.socks[2*idx].Load(), p.socks[2*idx+1].Load()
		if rtp == nil {
			if rtp, rtcp, err = p.bindPair(run, idx); err != nil {
				lastErr = err
				busy = append(busy, p.first+2*idx)
				continue
			}
		}
		return rtp, rtcp, nil
	}
	if lastErr != nil {
		return nil, nil, fmt.Errorf("%w (%d-%d on %s; %d pairs in use elsewhere, last: %v)",
			ErrPoolExhausted, p.lo, p.hi, p.bind, len(busy), lastErr)
	}
	return nil, nil, fmt.Errorf("%w (%d-%d on %s)", ErrPoolExhausted, p.lo, p.hi, p.bind)
}

// bindPair binds the two sockets of pair idx, registers them with their
// poller and files them in the pool for good.
func (p *Pool) bindPair(run *pollers, idx int) (rtp, rtcp *sock, err error) {
	port := p.first + 2*idx
	var s [2]*sock
	for i := range s {
		fd, err := openUDP(netip.AddrPortFrom(p.bind, uint16(port+i)), socketBuffer)
		if err != nil {
			if i == 1 {
				unix.Close(s[0].fd)
			}
			return nil, nil, err
		}
		s[i] = &sock{fd: fd, port: port + i, v6: p.bind.Is6()}
	}
	pl := run.list[idx%len(run.list)]
	for i := range s {
		if err := pl.add(s[i], int32(2*idx+i)); err != nil {
			unix.Close(s[0].fd)
			unix.Close(s[1].fd)
			return nil, nil, err
		}
	}
	p.socks[2*idx].Store(s[0])
	p.socks[2*idx+1].Store(s[1])
	return s[0], s[1], nil
}

// start returns the running pollers, starting them on first use.
func (p *Pool) start() (*pollers, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return nil, ErrPoolClosed
	}
	if p.run == nil {
		run, err := startPollers(p, p.workers)
		if err != nil {
			return nil, err
		}
		p.run = run
	}
	return p.run, nil
}

// NewRelay takes two RTP/RTCP pairs, one per leg, and returns a relay that
// forwards at once. It skips pairs whose ports another process holds, and
// fails with ErrPoolExhausted when none is left. log (nil: no logging) is
// the call's logger; the relay logs latching and errors on it.
func (p *Pool) NewRelay(log *slog.Logger) (*Relay, error) {
	run, err := p.start()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{pool: p, log: log}
	var socks [2][2]*sock
	for s := range r.legs {
		rtp, rtcp, err := p.takePair(run)
		if err != nil {
			for i := range s {
				p.release(socks[i][0].port)
			}
			return nil, err
		}
		socks[s] = [2]*sock{rtp, rtcp}
		r.legs[s].init(r, Side(s), rtp, rtcp)
	}
	p.mu.Lock()
	p.live[r] = struct{}{}
	p.mu.Unlock()
	for s := range r.legs {
		socks[s][0].attach(&r.legs[s], false)
		socks[s][1].attach(&r.legs[s], true)
	}
	return r, nil
}

// Close stops the pool's goroutines and closes its sockets. Relays still
// open stop forwarding; their Close still works. NewRelay fails afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return nil
	}
	p.done = true
	run := p.run
	p.mu.Unlock()
	if run != nil {
		run.close()
		p.mu.Lock()
		for _, pl := range run.list {
			p.closed.Dropped += pl.strays.Load()
		}
		p.mu.Unlock()
	}
	var errs []error
	for i := range p.socks {
		if s := p.socks[i].Swap(nil); s != nil {
			errs = append(errs, unix.Close(s.fd))
		}
	}
	return errors.Join(errs...)
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
		t.Dropped += l.DroppedNoPeer + l.DroppedInvalid + l.DroppedForeign + l.SRTPErrors + l.WriteErrors
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
	if p.run != nil && !p.done {
		for _, pl := range p.run.list {
			t.Dropped += pl.strays.Load()
		}
	}
	return t
}

// retire moves a closed relay's counters into the pool's totals and frees
// its ports. Its sockets are detached.
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
