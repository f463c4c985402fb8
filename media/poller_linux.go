package media

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// sock is one UDP socket of the pool. The pool binds it the first time its
// port is handed out and keeps it, registered with one poller, until the
// pool closes: a call takes sockets that are already bound and gives them
// back by detaching. Packets that arrive while no leg holds it are read and
// dropped, so that nothing of an ended call waits for the next one.
type sock struct {
	fd   int
	port int
	v6   bool

	// mu is held by the poller while it reads and handles the packets of
	// one readiness event, and by attach/detach: once detach returns, no
	// poller touches the leg any more.
	mu   sync.Mutex
	leg  *Leg // nil: not part of a call
	rtcp bool // the leg's RTCP socket (else RTP)
}

func (s *sock) attach(l *Leg, rtcp bool) {
	s.mu.Lock()
	s.leg, s.rtcp = l, rtcp
	s.mu.Unlock()
}

func (s *sock) detach() {
	s.mu.Lock()
	s.leg = nil
	s.mu.Unlock()
}

// maxBatch bounds the packets read from one socket per readiness event, so
// that a flooded socket does not starve the others of its poller (epoll is
// level triggered: the rest is reported again).
const maxBatch = 32

// wakeTag marks the stop eventfd among a poller's events.
const wakeTag = -1

// poller is one epoll instance and the goroutine serving it. Every socket
// is registered with exactly one poller, so the packets of a socket are
// handled in order by one goroutine.
type poller struct {
	pool *Pool
	epfd int

	// buf takes one byte more than MaxPacket, to see a datagram that is
	// too large, and has headroom beyond for an SRTP trailer.
	buf     []byte
	rsa     unix.RawSockaddrAny
	strays  atomic.Uint64 // packets read from sockets no leg holds
	readErr atomic.Uint64
}

// pollers is the running set of a pool: the epoll workers and the eventfd
// that stops them.
type pollers struct {
	list []*poller
	stop int // eventfd; readable once stopping
	wg   sync.WaitGroup
}

// startPollers creates n epoll instances and starts their goroutines.
func startPollers(p *Pool, n int) (*pollers, error) {
	stop, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("media: eventfd: %w", err)
	}
	ps := &pollers{stop: stop}
	for range n {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err == nil {
			ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeTag}
			if err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, stop, &ev); err != nil {
				unix.Close(epfd)
			}
		}
		if err != nil {
			ps.close()
			return nil, fmt.Errorf("media: epoll: %w", err)
		}
		ps.list = append(ps.list, &poller{pool: p, epfd: epfd, buf: make([]byte, MaxPacket+1+headroom)})
	}
	for _, pl := range ps.list {
		ps.wg.Add(1)
		go func() {
			defer ps.wg.Done()
			pl.run()
		}()
	}
	return ps, nil
}

// close stops the goroutines, waits for them and closes the epoll
// instances. The sockets are the pool's to close.
func (ps *pollers) close() {
	var one = [8]byte{1}
	_, _ = unix.Write(ps.stop, one[:])
	ps.wg.Wait()
	for _, pl := range ps.list {
		unix.Close(pl.epfd)
	}
	unix.Close(ps.stop)
}

// add registers s with the poller; id finds it again in the pool.
func (pl *poller) add(s *sock, id int32) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: id}
	if err := unix.EpollCtl(pl.epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		return fmt.Errorf("media: epoll add: %w", err)
	}
	return nil
}

// run serves readiness events until the stop eventfd is readable.
func (pl *poller) run() {
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(pl.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			// Only a bad epoll descriptor fails here: the pool is gone.
			return
		}
		for i := range n {
			id := events[i].Fd
			if id == wakeTag {
				return
			}
			if s := pl.pool.sockAt(id); s != nil {
				pl.drain(s)
			}
		}
	}
}

// drain reads what s holds (maxBatch datagrams at most) and hands each to
// the leg holding s, if any.
func (pl *poller) drain(s *sock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range maxBatch {
		n, src, err := recvFrom(s.fd, pl.buf[:MaxPacket+1], &pl.rsa)
		if err != nil {
			if err != errAgain && err != unix.EINTR {
				// UDP reads fail only transiently (a queued ICMP
				// error): count it and go on.
				pl.readErr.Add(1)
				if l := s.leg; l != nil {
					l.flow(s.rtcp).readErrs.Add(1)
				}
				continue
			}
			return
		}
		l := s.leg
		switch {
		case l == nil:
			pl.strays.Add(1)
			if f := pl.pool.strayed.Load(); f != nil {
				(*f)()
			}
		case s.rtcp:
			l.relayRTCP(pl.buf[:n], src)
		default:
			l.relayRTP(pl.buf[:n], src)
		}
	}
}
