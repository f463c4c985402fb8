package media

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"go.uber.org/goleak"
)

// fakePeer is a SIP endpoint's media socket: a plain UDP socket on 127.0.0.1.
type fakePeer struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
}

func newPeer(t testing.TB) *fakePeer {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadBuffer(socketBuffer)
	t.Cleanup(func() { c.Close() })
	return &fakePeer{t: t, conn: c, buf: make([]byte, 4096)}
}

func (p *fakePeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// sendTo sends pkt to port on 127.0.0.1.
func (p *fakePeer) sendTo(port int, pkt []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(loopback, uint16(port))); err != nil {
		p.t.Fatal(err)
	}
}

// recv waits (2 s at most) for the next datagram.
func (p *fakePeer) recv() ([]byte, netip.AddrPort) {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := p.conn.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		p.t.Fatalf("peer %v: no packet: %v", p.addr(), err)
	}
	return p.buf[:n], from
}

// expect waits for pkt and checks that it came from port on 127.0.0.1.
func (p *fakePeer) expect(pkt []byte, fromPort int) {
	p.t.Helper()
	got, from := p.recv()
	if !bytes.Equal(got, pkt) {
		p.t.Fatalf("peer %v got %d bytes %x…, want %d bytes %x…", p.addr(), len(got), head(got), len(pkt), head(pkt))
	}
	if want := netip.AddrPortFrom(loopback, uint16(fromPort)); from != want {
		p.t.Fatalf("peer %v got the packet from %v, want %v (RFC 4961)", p.addr(), from, want)
	}
}

func head(b []byte) []byte { return b[:min(len(b), 12)] }

// rtpPacket builds a 172-byte PCMU packet (12 header + 160 payload).
func rtpPacket(t testing.TB, ssrc uint32, seq uint16) []byte {
	t.Helper()
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(int(seq) + i)
	}
	pkt := rtp.Packet{
		Header: rtp.Header{
			Version:        2,
			PayloadType:    0,
			SequenceNumber: seq,
			Timestamp:      uint32(seq) * 160,
			SSRC:           ssrc,
		},
		Payload: payload,
	}
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rtcpPacket builds an RTCP receiver report with no report block.
func rtcpPacket(ssrc uint32) []byte {
	return []byte{0x80, 201, 0, 1, byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
}

// hand gives pkt to the leg's RTP path directly, as its poller would: under
// the socket's lock.
func (l *Leg) hand(pkt []byte, src netip.AddrPort) {
	l.rtp.sock.mu.Lock()
	defer l.rtp.sock.mu.Unlock()
	l.relayRTP(pkt, src)
}

// newRelay returns a relay of a fresh pool, closed with the test.
func newRelay(t testing.TB) *Relay {
	t.Helper()
	r, err := testPool(t, 4).NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRelayBothDirections(t *testing.T) {
	r := newRelay(t)
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	lb.SetPeer(b.addr())

	for seq := uint16(1); seq <= 5; seq++ {
		pa := rtpPacket(t, 0xa, seq)
		a.sendTo(la.Port(), pa)
		b.expect(pa, lb.Port())

		pb := rtpPacket(t, 0xb, 1000+seq)
		b.sendTo(lb.Port(), pb)
		a.expect(pb, la.Port())
	}
	st := r.Stats()
	for _, s := range []Side{A, B} {
		l := st.Leg(s)
		if l.PacketsIn != 5 || l.PacketsOut != 5 || l.BytesIn != 5*172 || l.BytesOut != 5*172 {
			t.Errorf("leg %v: in %d (%d B), out %d (%d B), want 5 (860 B) each way", s, l.PacketsIn, l.BytesIn, l.PacketsOut, l.BytesOut)
		}
		if l.Lost != 0 || l.DroppedNoPeer+l.DroppedInvalid+l.DroppedForeign+l.WriteErrors != 0 {
			t.Errorf("leg %v: lost or dropped: %+v", s, l)
		}
		if !l.Latched {
			t.Errorf("leg %v not latched", s)
		}
		if l.Port != r.Leg(s).Port() {
			t.Errorf("leg %v: Stats port %d, Port() %d", s, l.Port, r.Leg(s).Port())
		}
	}
	if st.A.Peer != a.addr() || st.B.Peer != b.addr() {
		t.Errorf("peers %v, %v, want %v, %v", st.A.Peer, st.B.Peer, a.addr(), b.addr())
	}
}

// A packet that arrives before the other side's peer is known is dropped
// and counted; the relay forwards once the peer is set.
func TestRelayDropsWithoutPeer(t *testing.T) {
	r, err := testPool(t, 2).NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)

	// Handed to the relay path directly, so that it is done before SetPeer.
	la.hand(rtpPacket(t, 1, 1), a.addr())
	lb.SetPeer(b.addr())
	p2 := rtpPacket(t, 1, 2)
	a.sendTo(la.Port(), p2)
	b.expect(p2, lb.Port())
	st := r.Stats()
	if st.A.DroppedNoPeer != 1 {
		t.Errorf("DroppedNoPeer = %d, want 1", st.A.DroppedNoPeer)
	}
	// Leg A had no SDP peer: its first packet latched it.
	if !st.A.Latched || st.A.Peer != a.addr() {
		t.Errorf("leg A: latched %v to %v, want %v", st.A.Latched, st.A.Peer, a.addr())
	}
	if st.A.PacketsIn != 2 || st.B.PacketsOut != 1 {
		t.Errorf("A in %d, B out %d; want 2, 1", st.A.PacketsIn, st.B.PacketsOut)
	}
}

// The SDP address is used until the peer's first packet, whose source then
// becomes the peer (a caller behind NAT); other sources are dropped.
func TestRelayLatching(t *testing.T) {
	r := newRelay(t)
	sdp, natted, b, intruder := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(sdp.addr()) // what the caller's SDP says
	lb.SetPeer(b.addr())

	// Before the caller sends anything, its SDP address gets the media.
	p := rtpPacket(t, 0xb, 1)
	b.sendTo(lb.Port(), p)
	sdp.expect(p, la.Port())
	if st := r.Stats(); st.A.Latched || st.A.Peer != sdp.addr() {
		t.Fatalf("leg A before any packet: latched %v to %v", st.A.Latched, st.A.Peer)
	}

	// The caller's packets come from elsewhere: the relay latches to it.
	p = rtpPacket(t, 0xa, 1)
	natted.sendTo(la.Port(), p)
	b.expect(p, lb.Port())
	p = rtpPacket(t, 0xb, 2)
	b.sendTo(lb.Port(), p)
	natted.expect(p, la.Port())
	st := r.Stats()
	if !st.A.Latched || st.A.Peer != natted.addr() {
		t.Fatalf("leg A: latched %v to %v, want %v", st.A.Latched, st.A.Peer, natted.addr())
	}
	// RTCP follows RTP's host (same host here, so it keeps the SDP's +1).
	if want := netip.AddrPortFrom(loopback, sdp.addr().Port()+1); st.A.PeerRTCP != want {
		t.Errorf("leg A RTCP peer %v, want %v", st.A.PeerRTCP, want)
	}

	// Someone else sending to the caller's port is dropped.
	intruder.sendTo(la.Port(), rtpPacket(t, 0xbad, 1))
	p = rtpPacket(t, 0xa, 2)
	natted.sendTo(la.Port(), p)
	b.expect(p, lb.Port()) // not the intruder's packet
	if got := r.Stats().A.DroppedForeign; got != 1 {
		t.Errorf("DroppedForeign = %d, want 1", got)
	}

	// A session refresh with the same SDP keeps the latch.
	la.SetPeer(sdp.addr())
	p = rtpPacket(t, 0xb, 3)
	b.sendTo(lb.Port(), p)
	natted.expect(p, la.Port())
}

// A re-INVITE moves the callee to a new port: media follows, and the new
// address may latch again.
func TestRelaySetPeerMidCall(t *testing.T) {
	r := newRelay(t)
	a, b, b2 := newPeer(t), newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	lb.SetPeer(b.addr())

	p := rtpPacket(t, 0xa, 1)
	a.sendTo(la.Port(), p)
	b.expect(p, lb.Port())
	p = rtpPacket(t, 0xb, 1)
	b.sendTo(lb.Port(), p)
	a.expect(p, la.Port())

	lb.SetPeer(b2.addr()) // re-INVITE
	if st := r.Stats(); st.B.Latched || st.B.Peer != b2.addr() {
		t.Fatalf("leg B after SetPeer: latched %v to %v, want unlatched %v", st.B.Latched, st.B.Peer, b2.addr())
	}
	p = rtpPacket(t, 0xa, 2)
	a.sendTo(la.Port(), p)
	b2.expect(p, lb.Port())
	// Latching is re-armed: the new port's packets are taken, not foreign.
	p = rtpPacket(t, 0xb2, 1)
	b2.sendTo(lb.Port(), p)
	a.expect(p, la.Port())
	st := r.Stats()
	if !st.B.Latched || st.B.Peer != b2.addr() || st.B.DroppedForeign != 0 {
		t.Errorf("leg B: latched %v to %v, foreign %d; want latched to %v", st.B.Latched, st.B.Peer, st.B.DroppedForeign, b2.addr())
	}
	// And the old address is now foreign.
	b.sendTo(lb.Port(), rtpPacket(t, 0xb, 2))
	p = rtpPacket(t, 0xb2, 2)
	b2.sendTo(lb.Port(), p)
	a.expect(p, la.Port())
	if got := r.Stats().B.DroppedForeign; got != 1 {
		t.Errorf("DroppedForeign = %d, want 1", got)
	}
}

func TestRelayRTCP(t *testing.T) {
	r := newRelay(t)
	a, b, aRTCP, bRTCP := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	la.SetPeerRTCP(aRTCP.addr()) // a=rtcp
	lb.SetPeer(b.addr())
	lb.SetPeerRTCP(bRTCP.addr())

	sr := rtcpPacket(0xa)
	aRTCP.sendTo(la.Port()+1, sr)
	bRTCP.expect(sr, lb.Port()+1)
	rr := rtcpPacket(0xb)
	bRTCP.sendTo(lb.Port()+1, rr)
	aRTCP.expect(rr, la.Port()+1)

	// RTCP multiplexed on the RTP port goes to the other side's RTCP port.
	mux := rtcpPacket(0xa0)
	a.sendTo(la.Port(), mux)
	bRTCP.expect(mux, lb.Port()+1)

	st := r.Stats()
	if st.A.RTCPIn != 2 || st.B.RTCPOut != 2 || st.B.RTCPIn != 1 || st.A.RTCPOut != 1 {
		t.Errorf("RTCP A in %d out %d, B in %d out %d; want 2 1 1 2", st.A.RTCPIn, st.A.RTCPOut, st.B.RTCPIn, st.B.RTCPOut)
	}
	if st.A.PacketsIn != 0 || st.A.Lost != 0 {
		t.Errorf("multiplexed RTCP counted as RTP: in %d, lost %d", st.A.PacketsIn, st.A.Lost)
	}
	if !st.A.LatchedRTCP || st.A.PeerRTCP != aRTCP.addr() {
		t.Errorf("leg A RTCP: latched %v to %v", st.A.LatchedRTCP, st.A.PeerRTCP)
	}
}

// Without a=rtcp, RTCP goes to the SDP port + 1, and follows a NAT'd RTP
// source to another host.
func TestRelayRTCPDefaultPort(t *testing.T) {
	r := newRelay(t)
	la := r.Leg(A)
	la.SetPeer(netip.MustParseAddrPort("127.0.0.1:4000"))
	if got, want := r.Stats().A.PeerRTCP, netip.MustParseAddrPort("127.0.0.1:4001"); got != want {
		t.Errorf("RTCP peer %v, want %v", got, want)
	}
	la.SetPeer(netip.MustParseAddrPort("127.0.0.2:5000")) // the SDP says another host
	a := newPeer(t)                                       // but the packets come from 127.0.0.1
	lb := r.Leg(B)
	b := newPeer(t)
	lb.SetPeer(b.addr())
	p := rtpPacket(t, 1, 1)
	a.sendTo(la.Port(), p)
	b.expect(p, lb.Port())
	st := r.Stats()
	if want := netip.AddrPortFrom(loopback, a.addr().Port()+1); st.A.PeerRTCP != want || st.A.LatchedRTCP {
		t.Errorf("RTCP peer %v (latched %v), want the guess %v", st.A.PeerRTCP, st.A.LatchedRTCP, want)
	}
	// SetPeer to nothing forgets the peer.
	la.SetPeer(netip.AddrPort{})
	if st := r.Stats(); st.A.Peer.IsValid() || st.A.PeerRTCP.IsValid() {
		t.Errorf("after SetPeer(invalid): peer %v, RTCP %v", st.A.Peer, st.A.PeerRTCP)
	}
	la.SetPeer(netip.MustParseAddrPort("0.0.0.0:4000")) // RFC 2543 hold
	if st := r.Stats(); st.A.Peer.IsValid() {
		t.Errorf("after SetPeer(0.0.0.0): peer %v", st.A.Peer)
	}
}

func TestRelayLoss(t *testing.T) {
	r := newRelay(t)
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	lb.SetPeer(b.addr())
	for _, seq := range []uint16{65533, 65534, 1, 2, 5} { // 65535, 0, 3, 4 lost
		p := rtpPacket(t, 0x5eed, seq)
		a.sendTo(la.Port(), p)
		b.expect(p, lb.Port())
	}
	if got := r.Stats().A.Lost; got != 4 {
		t.Errorf("Lost = %d, want 4", got)
	}
}

func TestRelayDropsNonRTP(t *testing.T) {
	r := newRelay(t)
	a, b, bRTCP, junk := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	lb.SetPeer(b.addr())
	lb.SetPeerRTCP(bRTCP.addr())

	stun := append([]byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, make([]byte, 12)...) // version 0
	junk.sendTo(la.Port(), stun)                                                                // must not latch
	junk.sendTo(la.Port(), []byte{0x80, 0, 1})                                                  // too short
	junk.sendTo(la.Port(), bytes.Repeat([]byte{0x80}, MaxPacket+1))                             // too long
	junk.sendTo(la.Port()+1, []byte{0x40, 200, 0, 1, 0, 0, 0, 0})                               // RTCP version 1
	p := rtpPacket(t, 1, 1)
	a.sendTo(la.Port(), p)
	b.expect(p, lb.Port())
	// Each socket is read in order: once the good ones are through, the bad
	// ones before them were counted.
	rr := rtcpPacket(1)
	a.sendTo(la.Port()+1, rr)
	bRTCP.expect(rr, lb.Port()+1)
	st := r.Stats()
	if st.A.DroppedInvalid != 4 {
		t.Errorf("DroppedInvalid = %d, want 4", st.A.DroppedInvalid)
	}
	if st.A.Peer != a.addr() {
		t.Errorf("leg A latched to %v, want %v (junk must not latch)", st.A.Peer, a.addr())
	}
	if st.A.PacketsIn != 1 {
		t.Errorf("PacketsIn = %d, want 1", st.A.PacketsIn)
	}
}

// Packets sent before Start wait in the socket; Close before Start works.
func TestRelayClose(t *testing.T) {
	pool := testPool(t, 2)
	r, err := pool.NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newPeer(t), newPeer(t)
	r.Leg(B).SetPeer(b.addr())
	p := rtpPacket(t, 1, 1)
	a.sendTo(r.Leg(A).Port(), p)
	b.expect(p, r.Leg(B).Port())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if st := r.Stats(); st.A.PacketsIn != 1 {
		t.Errorf("Stats after Close: %+v", st.A)
	}
	tot := pool.Totals()
	if tot.PacketsIn != 1 || tot.PacketsOut != 1 || tot.BytesIn != 172 || tot.BytesOut != 172 || tot.Dropped != 0 {
		t.Errorf("Totals after Close = %+v", tot)
	}

	// The ports stay bound: a late packet of the ended call is read and
	// dropped, not left for the next call, and nothing reaches B.
	strayed := make(chan struct{}, 1)
	f := func() { strayed <- struct{}{} }
	pool.strayed.Store(&f)
	a.sendTo(r.Leg(A).Port(), rtpPacket(t, 1, 2))
	select {
	case <-strayed:
	case <-time.After(2 * time.Second):
		t.Fatal("the late packet was never read")
	}
	if got := pool.Totals().Dropped; got != 1 {
		t.Errorf("Dropped = %d after the late packet, want 1", got)
	}
	if st := r.Stats(); st.A.PacketsIn != 1 || st.B.PacketsOut != 1 {
		t.Errorf("a closed relay handled a packet: %+v", st)
	}

	r2, err := pool.NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := pool.Available(); got != pool.Size() {
		t.Errorf("Available = %d, want %d", got, pool.Size())
	}

	// Closing the pool ends its goroutines and frees its ports.
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t)
	if _, err := pool.NewRelay(nil); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("NewRelay after Close: %v, want ErrPoolClosed", err)
	}
	port := r.Leg(A).Port()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(port))))
	if err != nil {
		t.Fatalf("port %d still held after the pool's Close: %v", port, err)
	}
	c.Close()
}

func TestPoolTotals(t *testing.T) {
	pool := testPool(t, 4)
	a, b := newPeer(t), newPeer(t)
	var relays []*Relay
	for range 2 {
		r, err := pool.NewRelay(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.Leg(B).SetPeer(b.addr())
		p := rtpPacket(t, 1, 1)
		a.sendTo(r.Leg(A).Port(), p)
		b.expect(p, r.Leg(B).Port())
		relays = append(relays, r)
	}
	a.sendTo(relays[0].Leg(A).Port(), []byte("junk"))
	a.sendTo(relays[0].Leg(A).Port(), rtpPacket(t, 1, 2)) // read after the junk
	b.recv()
	relays[1].Close()
	tot := pool.Totals()
	if tot.PacketsIn != 3 || tot.PacketsOut != 3 || tot.Dropped != 1 {
		t.Errorf("Totals = %+v, want 3 in, 3 out, 1 dropped", tot)
	}
}

// Traffic both ways while the peers change under it: the race detector
// checks the hot path against SetPeer and Stats.
func TestRelayConcurrentSetPeer(t *testing.T) {
	r := newRelay(t)
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			la.SetPeer(netip.AddrPortFrom(loopback, uint16(40000+i%2)))
			lb.SetPeerRTCP(netip.AddrPortFrom(loopback, uint16(40002+i%2)))
			_ = r.Stats()
		}
	}()
	for seq := range uint16(200) {
		a.sendTo(la.Port(), rtpPacket(t, 1, seq))
		b.sendTo(lb.Port(), rtpPacket(t, 2, seq))
	}
	<-done
}

// The relay path allocates nothing per packet once latched.
func TestRelayNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	pool := testPool(t, 2)
	r, err := pool.NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	lb.SetPeer(b.addr())
	pkt := rtpPacket(t, 1, 1)
	seq := uint16(1)
	la.hand(pkt, a.addr()) // latches: the one allocation
	if allocs := testing.AllocsPerRun(1000, func() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		la.hand(pkt, a.addr())
	}); allocs != 0 {
		t.Errorf("relayRTP: %v allocations per packet, want 0", allocs)
	}

	// The whole path through the running relay: send, relay, receive.
	// Each run reads one packet, perhaps one the direct calls above left
	// queued: the count of allocations is what matters.
	buf := make([]byte, 2048)
	dst := netip.AddrPortFrom(loopback, uint16(la.Port()))
	_ = b.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if allocs := testing.AllocsPerRun(500, func() {
		if _, err := a.conn.WriteToUDPAddrPort(pkt, dst); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.conn.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("send, relay, receive: %v allocations per packet, want 0", allocs)
	}
}

// A send that fails (an IPv6 peer for an IPv4 socket) is counted, not sent.
func TestRelayWriteError(t *testing.T) {
	r, err := testPool(t, 2).NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	lb.SetPeer(netip.MustParseAddrPort("[2001:db8::1]:4000"))
	la.hand(rtpPacket(t, 1, 1), a.addr()) // done before SetPeer
	lb.SetPeer(b.addr())
	p := rtpPacket(t, 1, 2)
	a.sendTo(la.Port(), p)
	b.expect(p, lb.Port())
	st := r.Stats()
	if st.A.WriteErrors != 1 || st.B.PacketsOut != 1 || st.B.BytesOut != 172 {
		t.Errorf("write errors %d, B out %d (%d B); want 1, 1 (172 B)", st.A.WriteErrors, st.B.PacketsOut, st.B.BytesOut)
	}
}
