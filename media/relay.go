package media

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/trunkline/trunkline/media/srtp"
)

// Side names a leg of a relay.
type Side int

// The two legs of a call.
const (
	A Side = iota // the caller's leg
	B             // the callee's leg
)

func (s Side) String() string {
	switch s {
	case A:
		return "A"
	case B:
		return "B"
	}
	return "Side(?)"
}

// MaxPacket is the largest datagram a relay forwards; a larger one is
// dropped and counted in DroppedInvalid.
const MaxPacket = 2048

// headroom is the room a poller's buffer keeps after the largest datagram,
// so that a packet sent to an SRTP peer is protected in place: the most an
// Encrypter adds with a key of ours (no MKI).
const headroom = srtp.MaxOverhead

// socketBuffer is the kernel buffer asked for each socket, both ways. Linux
// caps it at net.core.rmem_max / wmem_max, which operators raise for heavy
// loads.
const socketBuffer = 2 << 20

// Relay anchors the media of one call: two legs, each with an RTP socket
// (even port) and an RTCP socket (the port above), each advertised to that
// leg's peer. It forwards from NewRelay to Close. Its methods are safe for
// concurrent use.
type Relay struct {
	pool *Pool
	log  *slog.Logger
	legs [2]Leg

	closed atomic.Bool
}

// Leg returns the leg on side s (A or B).
func (r *Relay) Leg(s Side) *Leg { return &r.legs[s] }

// Close stops forwarding and returns the ports to the pool; the relay's
// counters go to the pool's Totals. Once it returns, no packet is handled
// for the relay any more. It is idempotent.
func (r *Relay) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	for i := range r.legs {
		l := &r.legs[i]
		l.rtp.sock.detach()
		l.rtcp.sock.detach()
	}
	r.pool.retire(r)
	return nil
}

// peer is where a leg's peer receives on one socket. It is immutable: a
// change stores a new one.
type peer struct {
	addr    netip.AddrPort
	latched bool // addr is the source of the peer's packets, not its SDP
}

// flow is one socket of a leg and its counters.
type flow struct {
	sock *sock
	peer atomic.Pointer[peer] // nil: unknown

	// Packets that arrived on this socket, written by its poller.
	in, inBytes    atomic.Uint64
	dropNoPeer     atomic.Uint64
	dropInvalid    atomic.Uint64
	dropForeign    atomic.Uint64
	srtpErrs       atomic.Uint64
	writeErrs      atomic.Uint64
	readErrs       atomic.Uint64
	loggedWriteErr atomic.Bool
	loggedSRTPErr  atomic.Bool

	// Packets sent out of this socket, written by the other leg's poller.
	out, outBytes atomic.Uint64
}

// Leg is one side of a relay: the sockets advertised to that side's peer and
// what the relay knows of the peer.
type Leg struct {
	relay *Relay
	side  Side
	port  int
	log   *slog.Logger
	rtp   flow
	rtcp  flow

	lost atomic.Uint64 // published by the RTP socket's poller from seq
	seq  seqTracker    // owned by the RTP socket's poller

	// sess is the SRTP keying toward the peer, nil for plain RTP. Its In
	// is used by this leg's poller, its Out by the other leg's.
	sess atomic.Pointer[srtp.Session]

	mu      sync.Mutex // serialises SetPeer and SetPeerRTCP
	sdpRTP  netip.AddrPort
	sdpRTCP netip.AddrPort
}

func (l *Leg) init(r *Relay, s Side, rtp, rtcp *sock) {
	l.relay = r
	l.side = s
	l.port = rtp.port
	l.log = r.log.With("leg", s.String(), "port", rtp.port)
	l.rtp.sock = rtp
	l.rtcp.sock = rtcp
}

// flow returns the leg's RTCP or RTP flow.
func (l *Leg) flow(rtcp bool) *flow {
	if rtcp {
		return &l.rtcp
	}
	return &l.rtp
}

// Side is the leg's side.
func (l *Leg) Side() Side { return l.side }

// Port is the local RTP port advertised to this leg's peer (RTCP is Port+1).
func (l *Leg) Port() int { return l.port }

// SetPeer sets where this leg's peer said (in its SDP) it receives RTP; RTCP
// goes to the port above unless SetPeerRTCP, called after SetPeer, says
// otherwise. It may be called at any time (a re-INVITE). A different
// address re-arms latching: the source of the next packet from the peer
// becomes its address again. The address already set keeps the latch (a
// session refresh repeats the SDP). An invalid or unspecified address
// (0.0.0.0 on hold) or port 0 forgets the peer: packets for it are dropped
// until one from it latches.
func (l *Leg) SetPeer(rtp netip.AddrPort) {
	rtp = usable(rtp)
	l.mu.Lock()
	defer l.mu.Unlock()
	if rtp == l.sdpRTP {
		return
	}
	l.sdpRTP = rtp
	l.sdpRTCP = netip.AddrPort{}
	if rtp.IsValid() && rtp.Port() < 65535 {
		l.sdpRTCP = netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
	}
	l.rtp.peer.Store(peerAt(l.sdpRTP))
	l.rtcp.peer.Store(peerAt(l.sdpRTCP))
}

// SetPeerRTCP sets where this leg's peer receives RTCP, when its SDP says
// (a=rtcp, RFC 3605). A different address re-arms RTCP latching.
func (l *Leg) SetPeerRTCP(rtcp netip.AddrPort) {
	rtcp = usable(rtcp)
	l.mu.Lock()
	defer l.mu.Unlock()
	if rtcp == l.sdpRTCP {
		return
	}
	l.sdpRTCP = rtcp
	l.rtcp.peer.Store(peerAt(rtcp))
}

// usable returns a, unmapped, or the zero AddrPort when a cannot be sent to.
func usable(a netip.AddrPort) netip.AddrPort {
	ip := a.Addr().Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || a.Port() == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip, a.Port())
}

func peerAt(a netip.AddrPort) *peer {
	if !a.IsValid() {
		return nil
	}
	return &peer{addr: a}
}

// other is the leg across the relay.
func (l *Leg) other() *Leg { return &l.relay.legs[1-l.side] }

// SetSRTP sets how the media toward and from this leg's peer is protected:
// s.In opens (authenticates, checks for replay and decrypts) the SRTP and
// SRTCP the peer sends, s.Out protects what the relay sends it; nil, or a
// nil In or Out, is plain RTP that way. It may be called at any time — a
// re-INVITE that re-keys passes a new Session, and the next packet each way
// uses it; a session refresh that keeps the keys passes a Session with the
// same Encrypter and Decrypter (or does not call it), which keeps their
// state (rollover counter, SRTCP index, replay window). The relay copies
// *s; the Encrypter and Decrypter must not be given to another leg.
func (l *Leg) SetSRTP(s *srtp.Session) {
	if s == nil || s.In == nil && s.Out == nil {
		l.sess.Store(nil)
		return
	}
	c := *s
	l.sess.Store(&c)
}

// decrypter is what opens the peer's packets, nil for plain RTP.
func (l *Leg) decrypter() *srtp.Decrypter {
	if s := l.sess.Load(); s != nil {
		return s.In
	}
	return nil
}

// encrypter is what protects the packets sent to the peer, nil for plain
// RTP.
func (l *Leg) encrypter() *srtp.Encrypter {
	if s := l.sess.Load(); s != nil {
		return s.Out
	}
	return nil
}

// relayRTP handles one datagram that arrived on the leg's RTP socket from
// src: it checks it, opens it if the peer sends SRTP, latches, counts, and
// sends it on out of the other leg's RTP socket (protected if that leg's
// peer takes SRTP). It is the hot path: no allocation once latched, no
// lock. pkt is the poller's buffer, with headroom to protect it in place.
func (l *Leg) relayRTP(pkt []byte, src netip.AddrPort) {
	f := &l.rtp
	// RTCP multiplexed on the RTP port (RFC 5761 §4) has a packet type in
	// 192..223 where RTP has its marker bit and payload type.
	mux := len(pkt) >= 2 && pkt[1] >= 192 && pkt[1] <= 223
	if len(pkt) < 12 && !(mux && len(pkt) >= 8) || len(pkt) > MaxPacket || pkt[0]>>6 != 2 {
		f.dropInvalid.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	n := uint64(len(pkt)) // counted as received, SRTP trailer included
	if pkt = l.open(f, pkt, src, mux); pkt == nil {
		return
	}
	if !l.accept(f, src, true) {
		f.dropForeign.Add(1)
		return
	}
	o := l.other()
	if mux {
		// Our SDP never negotiates rtcp-mux: the other side expects RTCP
		// on its RTCP port.
		l.rtcp.in.Add(1)
		l.rtcp.inBytes.Add(n)
		l.send(f, &o.rtcp, pkt, true)
		return
	}
	f.in.Add(1)
	f.inBytes.Add(n)
	ssrc := uint32(pkt[8])<<24 | uint32(pkt[9])<<16 | uint32(pkt[10])<<8 | uint32(pkt[11])
	l.lost.Store(l.seq.update(ssrc, uint16(pkt[2])<<8|uint16(pkt[3])))
	l.send(f, &o.rtp, pkt, false)
}

// relayRTCP handles one datagram that arrived on the leg's RTCP socket.
func (l *Leg) relayRTCP(pkt []byte, src netip.AddrPort) {
	f := &l.rtcp
	if len(pkt) < 8 || len(pkt) > MaxPacket || pkt[0]>>6 != 2 {
		f.dropInvalid.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	n := uint64(len(pkt))
	if pkt = l.open(f, pkt, src, true); pkt == nil {
		return
	}
	if !l.accept(f, src, false) {
		f.dropForeign.Add(1)
		return
	}
	f.in.Add(1)
	f.inBytes.Add(n)
	l.send(f, &l.other().rtcp, pkt, true)
}

// open returns pkt, that arrived on f from src, opened in place when the
// peer sends SRTP (rtcp: SRTCP); nil when it is dropped. A packet from
// other than the latched source is dropped as foreign before any
// decryption; one that fails authentication or the replay check is
// counted in SRTPErrors and neither latches nor reaches the other side.
func (l *Leg) open(f *flow, pkt []byte, src netip.AddrPort, rtcp bool) []byte {
	d := l.decrypter()
	if d == nil {
		return pkt
	}
	if p := f.peer.Load(); p != nil && p.latched && p.addr != src {
		f.dropForeign.Add(1)
		return nil
	}
	var err error
	if rtcp {
		pkt, err = d.DecryptRTCP(pkt, pkt)
	} else {
		pkt, err = d.DecryptRTP(pkt, pkt)
	}
	if err != nil {
		f.srtpErrs.Add(1)
		if !f.loggedSRTPErr.Swap(true) {
			l.log.Warn("media SRTP packet dropped", "rtcp", rtcp, "from", src, "error", err)
		}
		return nil
	}
	return pkt
}

// send writes pkt out of to's socket to to's peer, protected in place
// first if that peer takes SRTP (rtcp: SRTCP); from counts what fails.
func (l *Leg) send(from, to *flow, pkt []byte, rtcp bool) {
	dst := to.peer.Load()
	if dst == nil {
		from.dropNoPeer.Add(1)
		return
	}
	if e := l.other().encrypter(); e != nil {
		// In place: pkt lies in a buffer with room for the trailer (a
		// smaller one, which only a test hands in, costs a copy).
		var err error
		if rtcp {
			pkt, err = e.EncryptRTCP(pkt, pkt)
		} else {
			pkt, err = e.EncryptRTP(pkt, pkt)
		}
		if err != nil {
			// The key is used up (2^48 RTP or 2^31 RTCP packets):
			// the leg needs a re-key.
			l.writeFailed(from, dst.addr, err)
			return
		}
	}
	// Counted before the send, so that a peer that has the packet sees it
	// counted; taken back if the send fails.
	n := uint64(len(pkt))
	to.out.Add(1)
	to.outBytes.Add(n)
	if err := sendTo(to.sock.fd, to.sock.v6, pkt, dst.addr); err != nil {
		to.out.Add(^uint64(0))
		to.outBytes.Add(-n)
		l.writeFailed(from, dst.addr, err)
	}
}

// writeFailed counts a packet that arrived on from and could not be sent
// on, and logs the first such failure of the flow.
func (l *Leg) writeFailed(from *flow, to netip.AddrPort, err error) {
	from.writeErrs.Add(1)
	if !from.loggedWriteErr.Swap(true) {
		l.log.Warn("media write failed", "to", to, "error", err)
	}
}

// accept reports whether a packet from src may pass on f: it comes from the
// latched source, or nothing is latched yet and src becomes the peer.
func (l *Leg) accept(f *flow, src netip.AddrPort, rtp bool) bool {
	for {
		p := f.peer.Load()
		if p != nil && p.latched {
			return p.addr == src
		}
		if f.peer.CompareAndSwap(p, &peer{addr: src, latched: true}) {
			l.latched(p, src, rtp)
			return true
		}
		// SetPeer changed the peer meanwhile: look again.
	}
}

// latched notes that f latched to src (it was aimed at was, nil when
// unknown). When RTP latches to a host other than the one RTCP is aimed at
// and RTCP has not latched, RTCP follows: the peer is behind a NAT, and its
// RTP port + 1 is the best guess until its first RTCP packet.
func (l *Leg) latched(was *peer, src netip.AddrPort, rtp bool) {
	proto := "rtcp"
	if rtp {
		proto = "rtp"
	}
	var sdp netip.AddrPort
	if was != nil {
		sdp = was.addr
	}
	l.log.Debug("media latched", "proto", proto, "source", src, "sdp", sdp)
	if !rtp || src.Port() == 65535 {
		return
	}
	rc := l.rtcp.peer.Load()
	if rc != nil && (rc.latched || rc.addr.Addr() == src.Addr()) {
		return
	}
	l.rtcp.peer.CompareAndSwap(rc, &peer{addr: netip.AddrPortFrom(src.Addr(), src.Port()+1)})
}

// Stats are a relay's counters, per leg.
type Stats struct {
	A, B LegStats
}

// Leg returns the counters of side s.
func (s Stats) Leg(side Side) LegStats {
	if side == B {
		return s.B
	}
	return s.A
}

// LegStats are the counters of one leg. "In" counts what arrived from the
// leg's peer, "Out" what was sent to it; the drop counters count packets
// that arrived on the leg's sockets (RTP and RTCP together).
type LegStats struct {
	Port        int            // local RTP port advertised to the peer
	Peer        netip.AddrPort // where RTP goes now; invalid when unknown
	PeerRTCP    netip.AddrPort // where RTCP goes now; invalid when unknown
	Latched     bool           // Peer is the source of the peer's RTP, not its SDP
	LatchedRTCP bool
	SRTP        bool // SetSRTP keyed the leg: its peer sends or takes SRTP

	PacketsIn, BytesIn   uint64 // RTP accepted from the peer (bytes as received, SRTP tag included)
	PacketsOut, BytesOut uint64 // RTP sent to the peer (bytes as sent)
	Lost                 uint64 // RTP from the peer missing from its sequence numbers
	RTCPIn, RTCPOut      uint64 // RTCP packets from and to the peer

	DroppedNoPeer  uint64 // nowhere to send them: the other leg's peer is unknown
	DroppedInvalid uint64 // not RTP/RTCP version 2, too short or too long
	DroppedForeign uint64 // not from the latched source
	SRTPErrors     uint64 // SRTP/SRTCP that failed authentication or the replay check, or was malformed
	WriteErrors    uint64 // the send failed (or the other leg's SRTP key is used up)
}

// Stats returns the relay's counters. They stay readable after Close.
func (r *Relay) Stats() Stats {
	return Stats{A: r.legs[A].stats(), B: r.legs[B].stats()}
}

func (l *Leg) stats() LegStats {
	s := LegStats{
		Port:           l.port,
		PacketsIn:      l.rtp.in.Load(),
		BytesIn:        l.rtp.inBytes.Load(),
		PacketsOut:     l.rtp.out.Load(),
		BytesOut:       l.rtp.outBytes.Load(),
		Lost:           l.lost.Load(),
		RTCPIn:         l.rtcp.in.Load(),
		RTCPOut:        l.rtcp.out.Load(),
		DroppedNoPeer:  l.rtp.dropNoPeer.Load() + l.rtcp.dropNoPeer.Load(),
		DroppedInvalid: l.rtp.dropInvalid.Load() + l.rtcp.dropInvalid.Load(),
		DroppedForeign: l.rtp.dropForeign.Load() + l.rtcp.dropForeign.Load(),
		SRTPErrors:     l.rtp.srtpErrs.Load() + l.rtcp.srtpErrs.Load(),
		WriteErrors:    l.rtp.writeErrs.Load() + l.rtcp.writeErrs.Load(),
		SRTP:           l.sess.Load() != nil,
	}
	if p := l.rtp.peer.Load(); p != nil {
		s.Peer, s.Latched = p.addr, p.latched
	}
	if p := l.rtcp.peer.Load(); p != nil {
		s.PeerRTCP, s.LatchedRTCP = p.addr, p.latched
	}
	return s
}
