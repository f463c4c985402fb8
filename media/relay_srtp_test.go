package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	psrtp "github.com/pion/srtp/v3"

	"github.com/trunkline/trunkline/media/srtp"
)

// pionProfiles maps a suite to pion/srtp's profile, for the test's SRTP
// endpoints, which run pion directly rather than media/srtp.
var pionProfiles = map[srtp.Suite]psrtp.ProtectionProfile{
	srtp.AESCM128HMACSHA1_80: psrtp.ProtectionProfileAes128CmHmacSha1_80,
	srtp.AESCM128HMACSHA1_32: psrtp.ProtectionProfileAes128CmHmacSha1_32,
	srtp.AESCM256HMACSHA1_80: psrtp.ProtectionProfileAes256CmHmacSha1_80,
	srtp.AESCM256HMACSHA1_32: psrtp.ProtectionProfileAes256CmHmacSha1_32,
	srtp.AEADAES128GCM:       psrtp.ProtectionProfileAeadAes128Gcm,
	srtp.AEADAES256GCM:       psrtp.ProtectionProfileAeadAes256Gcm,
}

// srtpKeys is an SDES endpoint's SRTP state, on pion/srtp: tx protects
// what it sends under its own a=crypto line, rx opens what the relay sends
// it under the line the relay answered.
type srtpKeys struct {
	t      testing.TB
	suite  srtp.Suite
	tx, rx *psrtp.Context
}

func pionContext(t testing.TB, c srtp.Crypto) *psrtp.Context {
	t.Helper()
	k := c.Keys[0]
	ctx, err := psrtp.CreateContext(k.Key, k.Salt, pionProfiles[c.Suite])
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// keySRTP keys leg l for an SDES peer offering suite: the peer's offer is
// negotiated as the B2BUA does (srtp.Negotiate), the leg gets the session,
// and the returned keys are the peer's.
func keySRTP(t testing.TB, l *Leg, suite srtp.Suite) *srtpKeys {
	t.Helper()
	k, sess := newSRTPKeys(t, suite)
	l.SetSRTP(sess)
	return k
}

// newSRTPKeys returns a peer's keys and the relay's session for it.
func newSRTPKeys(t testing.TB, suite srtp.Suite) (*srtpKeys, *srtp.Session) {
	t.Helper()
	offer, err := srtp.NewCrypto(1, suite)
	if err != nil {
		t.Fatal(err)
	}
	remote, local, err := srtp.Negotiate([]string{offer.String()}, srtp.AllSuites, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := srtp.NewSession(local, remote)
	if err != nil {
		t.Fatal(err)
	}
	return &srtpKeys{t: t, suite: suite, tx: pionContext(t, offer), rx: pionContext(t, local)}, sess
}

func (k *srtpKeys) protect(pkt []byte) []byte {
	k.t.Helper()
	out, err := k.tx.EncryptRTP(nil, pkt, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	return out
}

func (k *srtpKeys) protectRTCP(pkt []byte) []byte {
	k.t.Helper()
	out, err := k.tx.EncryptRTCP(nil, pkt, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	return out
}

// expect waits for an SRTP packet on p that opens to want, from port.
func (k *srtpKeys) expect(p *fakePeer, want []byte, fromPort int) {
	k.t.Helper()
	got, from := p.recv()
	if len(got) != len(want)+k.suite.RTPOverhead() {
		k.t.Fatalf("peer %v got %d bytes, want %d of SRTP", p.addr(), len(got), len(want)+k.suite.RTPOverhead())
	}
	if bytes.Equal(got[12:len(want)], want[12:]) {
		k.t.Fatalf("peer %v got the payload in the clear", p.addr())
	}
	plain, err := k.rx.DecryptRTP(nil, got, nil)
	if err != nil {
		k.t.Fatalf("peer %v cannot open what it got: %v", p.addr(), err)
	}
	if !bytes.Equal(plain, want) {
		k.t.Fatalf("peer %v opened %x…, want %x…", p.addr(), head(plain), head(want))
	}
	if want := netip.AddrPortFrom(loopback, uint16(fromPort)); from != want {
		k.t.Fatalf("peer %v got the packet from %v, want %v", p.addr(), from, want)
	}
}

// expectRTCP is expect for SRTCP.
func (k *srtpKeys) expectRTCP(p *fakePeer, want []byte, fromPort int) {
	k.t.Helper()
	got, from := p.recv()
	if len(got) != len(want)+k.suite.RTCPOverhead() {
		k.t.Fatalf("peer %v got %d bytes, want %d of SRTCP", p.addr(), len(got), len(want)+k.suite.RTCPOverhead())
	}
	plain, err := k.rx.DecryptRTCP(nil, got, nil)
	if err != nil {
		k.t.Fatalf("peer %v cannot open what it got: %v", p.addr(), err)
	}
	if !bytes.Equal(plain, want) {
		k.t.Fatalf("peer %v opened %x, want %x", p.addr(), plain, want)
	}
	if want := netip.AddrPortFrom(loopback, uint16(fromPort)); from != want {
		k.t.Fatalf("peer %v got the packet from %v, want %v", p.addr(), from, want)
	}
}

// srReport builds an RTCP sender report (28 bytes) from ssrc.
func srReport(ssrc uint32, n byte) []byte {
	p := make([]byte, 28)
	p[0], p[1], p[3] = 0x80, 200, 6
	p[4], p[5], p[6], p[7] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
	for i := 8; i < len(p); i++ {
		p[i] = n + byte(i)
	}
	return p
}

// handRTCP gives pkt to the leg's RTCP path directly, as its poller would.
func (l *Leg) handRTCP(pkt []byte, src netip.AddrPort) {
	l.rtcp.sock.mu.Lock()
	defer l.rtcp.sock.mu.Unlock()
	l.relayRTCP(pkt, src)
}

// roomy returns pkt copied into a buffer with room for an SRTP trailer, as
// the poller's buffer has.
func roomy(pkt []byte) []byte {
	return append(make([]byte, 0, len(pkt)+headroom), pkt...)
}

// testSuites are the suites the relay tests run: the RFC 4568 default, a
// 32-bit tag and an AEAD one.
var testSuites = []srtp.Suite{srtp.AESCM128HMACSHA1_80, srtp.AESCM128HMACSHA1_32, srtp.AEADAES128GCM}

// A plain RTP caller and an SRTP callee: RTP and RTCP both ways, and
// multiplexed SRTCP from the SRTP side.
func TestRelaySRTPInterworking(t *testing.T) {
	for _, suite := range testSuites {
		t.Run(suite.String(), func(t *testing.T) {
			r := newRelay(t)
			a, b, aRTCP, bRTCP := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
			la, lb := r.Leg(A), r.Leg(B)
			la.SetPeer(a.addr())
			la.SetPeerRTCP(aRTCP.addr())
			lb.SetPeer(b.addr())
			lb.SetPeerRTCP(bRTCP.addr())
			kb := keySRTP(t, lb, suite)

			const n = 5
			for seq := uint16(1); seq <= n; seq++ {
				pa := rtpPacket(t, 0xa, seq)
				a.sendTo(la.Port(), pa)
				kb.expect(b, pa, lb.Port())

				pb := rtpPacket(t, 0xb, 60000+seq)
				b.sendTo(lb.Port(), kb.protect(pb))
				a.expect(pb, la.Port())
			}

			sr := srReport(0xa, 1)
			aRTCP.sendTo(la.Port()+1, sr)
			kb.expectRTCP(bRTCP, sr, lb.Port()+1)
			rr := rtcpPacket(0xb)
			bRTCP.sendTo(lb.Port()+1, kb.protectRTCP(rr))
			aRTCP.expect(rr, la.Port()+1)
			// SRTCP multiplexed on the RTP port takes the RTCP keys.
			mux := srReport(0xb, 2)
			b.sendTo(lb.Port(), kb.protectRTCP(mux))
			aRTCP.expect(mux, la.Port()+1)

			st := r.Stats()
			plain, sec := uint64(n*172), uint64(n*(172+suite.RTPOverhead()))
			if st.A.PacketsIn != n || st.A.BytesIn != plain || st.B.PacketsOut != n || st.B.BytesOut != sec {
				t.Errorf("caller to callee: A in %d (%d B), B out %d (%d B); want %d (%d B), %d (%d B)",
					st.A.PacketsIn, st.A.BytesIn, st.B.PacketsOut, st.B.BytesOut, n, plain, n, sec)
			}
			if st.B.PacketsIn != n || st.B.BytesIn != sec || st.A.PacketsOut != n || st.A.BytesOut != plain {
				t.Errorf("callee to caller: B in %d (%d B), A out %d (%d B); want %d (%d B), %d (%d B)",
					st.B.PacketsIn, st.B.BytesIn, st.A.PacketsOut, st.A.BytesOut, n, sec, n, plain)
			}
			if st.A.RTCPIn != 1 || st.B.RTCPOut != 1 || st.B.RTCPIn != 2 || st.A.RTCPOut != 2 {
				t.Errorf("RTCP A in %d out %d, B in %d out %d; want 1 2 2 1", st.A.RTCPIn, st.A.RTCPOut, st.B.RTCPIn, st.B.RTCPOut)
			}
			if st.A.SRTP || !st.B.SRTP {
				t.Errorf("SRTP flags A %v, B %v; want false, true", st.A.SRTP, st.B.SRTP)
			}
			for _, s := range []Side{A, B} {
				l := st.Leg(s)
				if l.Lost+l.DroppedNoPeer+l.DroppedInvalid+l.DroppedForeign+l.SRTPErrors+l.WriteErrors != 0 {
					t.Errorf("leg %v lost or dropped: %+v", s, l)
				}
			}
		})
	}
}

// SRTP on both legs under different keys (and suites): each side gets what
// the other sent, re-protected under its own key.
func TestRelaySRTPBothSides(t *testing.T) {
	r := newRelay(t)
	a, b, aRTCP, bRTCP := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	la.SetPeerRTCP(aRTCP.addr())
	lb.SetPeer(b.addr())
	lb.SetPeerRTCP(bRTCP.addr())
	ka := keySRTP(t, la, srtp.AEADAES128GCM)
	kb := keySRTP(t, lb, srtp.AESCM128HMACSHA1_80)

	for seq := uint16(1); seq <= 5; seq++ {
		pa := rtpPacket(t, 0xa, seq)
		a.sendTo(la.Port(), ka.protect(pa))
		kb.expect(b, pa, lb.Port())

		pb := rtpPacket(t, 0xb, 100+seq)
		b.sendTo(lb.Port(), kb.protect(pb))
		ka.expect(a, pb, la.Port())
	}
	sr := srReport(0xa, 3)
	aRTCP.sendTo(la.Port()+1, ka.protectRTCP(sr))
	kb.expectRTCP(bRTCP, sr, lb.Port()+1)
	rr := rtcpPacket(0xb)
	bRTCP.sendTo(lb.Port()+1, kb.protectRTCP(rr))
	ka.expectRTCP(aRTCP, rr, la.Port()+1)

	st := r.Stats()
	if st.A.SRTPErrors+st.B.SRTPErrors+st.A.WriteErrors+st.B.WriteErrors != 0 || st.A.PacketsIn != 5 || st.B.PacketsIn != 5 {
		t.Errorf("stats: %+v", st)
	}
}

// What fails authentication or the replay check is dropped and counted:
// it neither latches nor reaches the other side.
func TestRelaySRTPDropsForgeries(t *testing.T) {
	for _, suite := range testSuites {
		t.Run(suite.String(), func(t *testing.T) {
			pool := testPool(t, 2)
			r, err := pool.NewRelay(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			a, aRTCP, b, bRTCP, intruder := newPeer(t), newPeer(t), newPeer(t), newPeer(t), newPeer(t)
			la, lb := r.Leg(A), r.Leg(B)
			la.SetPeer(a.addr())
			la.SetPeerRTCP(aRTCP.addr())
			lb.SetPeer(b.addr())
			lb.SetPeerRTCP(bRTCP.addr())
			kb := keySRTP(t, lb, suite)
			forger, _ := newSRTPKeys(t, suite) // right suite, wrong key

			// Before the callee sends anything, a forgery from elsewhere
			// must not latch.
			intruder.sendTo(lb.Port(), forger.protect(rtpPacket(t, 0xb, 1)))
			good := kb.protect(rtpPacket(t, 0xb, 1))
			b.sendTo(lb.Port(), good)
			a.expect(rtpPacket(t, 0xb, 1), la.Port())
			if st := r.Stats(); st.B.Peer != b.addr() || st.B.SRTPErrors != 1 {
				t.Fatalf("after a forgery: B latched to %v, SRTP errors %d; want %v, 1", st.B.Peer, st.B.SRTPErrors, b.addr())
			}

			tampered := kb.protect(rtpPacket(t, 0xb, 2))
			tampered[20] ^= 1
			b.sendTo(lb.Port(), tampered) // corrupted
			b.sendTo(lb.Port(), good)     // replayed
			short := kb.protect(rtpPacket(t, 0xb, 3))
			b.sendTo(lb.Port(), short[:13]) // no room for the tag
			forgedRTCP := forger.protectRTCP(rtcpPacket(0xb))
			b.sendTo(lb.Port(), forgedRTCP) // multiplexed
			bRTCP.sendTo(lb.Port()+1, forgedRTCP)
			bRTCP.sendTo(lb.Port()+1, forgedRTCP[:len(forgedRTCP)-1])

			// Each socket is read in order: once the good ones are
			// through, the bad ones before them were counted.
			p := rtpPacket(t, 0xb, 4)
			b.sendTo(lb.Port(), kb.protect(p))
			a.expect(p, la.Port())
			rr := rtcpPacket(0xb)
			bRTCP.sendTo(lb.Port()+1, kb.protectRTCP(rr))
			aRTCP.expect(rr, la.Port()+1)

			st := r.Stats()
			if st.B.SRTPErrors != 7 || st.B.PacketsIn != 2 || st.A.PacketsOut != 2 || st.B.RTCPIn != 1 || st.A.RTCPOut != 1 {
				t.Errorf("B: SRTP errors %d, in %d, RTCP in %d; A out %d, RTCP out %d; want 7, 2, 1, 2, 1",
					st.B.SRTPErrors, st.B.PacketsIn, st.B.RTCPIn, st.A.PacketsOut, st.A.RTCPOut)
			}
			if st.B.DroppedForeign != 0 {
				t.Errorf("DroppedForeign = %d, want 0", st.B.DroppedForeign)
			}
			// Once latched, a packet from elsewhere is foreign, not even
			// opened.
			intruder.sendTo(lb.Port(), kb.protect(rtpPacket(t, 0xb, 5)))
			p = rtpPacket(t, 0xb, 6)
			b.sendTo(lb.Port(), kb.protect(p))
			a.expect(p, la.Port())
			if st := r.Stats(); st.B.DroppedForeign != 1 || st.B.SRTPErrors != 7 {
				t.Errorf("foreign %d, SRTP errors %d; want 1, 7", st.B.DroppedForeign, st.B.SRTPErrors)
			}
			if got := pool.Totals().Dropped; got != 8 {
				t.Errorf("Totals.Dropped = %d, want 8", got)
			}
		})
	}
}

// A re-INVITE re-keys the SRTP leg mid-call; another drops SRTP for plain
// RTP, and a third brings it back.
func TestRelaySRTPRekey(t *testing.T) {
	r := newRelay(t)
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	lb.SetPeer(b.addr())
	old := keySRTP(t, lb, srtp.AESCM128HMACSHA1_80)

	seq := uint16(1)
	exchange := func(k *srtpKeys) {
		t.Helper()
		seq++
		pa := rtpPacket(t, 0xa, seq)
		a.sendTo(la.Port(), pa)
		pb := rtpPacket(t, 0xb, seq)
		if k != nil {
			k.expect(b, pa, lb.Port())
			b.sendTo(lb.Port(), k.protect(pb))
		} else {
			b.expect(pa, lb.Port())
			b.sendTo(lb.Port(), pb)
		}
		a.expect(pb, la.Port())
	}
	exchange(old)

	// Re-keyed, with another suite: the peer's old key no longer opens.
	kb := keySRTP(t, lb, srtp.AEADAES128GCM)
	exchange(kb)
	seq++
	b.sendTo(lb.Port(), old.protect(rtpPacket(t, 0xb, seq)))
	exchange(kb)
	if st := r.Stats(); st.B.SRTPErrors != 1 || st.B.PacketsIn != 3 {
		t.Errorf("after re-keying: SRTP errors %d, in %d; want 1, 3", st.B.SRTPErrors, st.B.PacketsIn)
	}

	// The callee goes back to plain RTP/AVP.
	lb.SetSRTP(nil)
	if r.Stats().B.SRTP {
		t.Error("SetSRTP(nil) left the leg keyed")
	}
	exchange(nil) // plain RTP both ways now
	kb = keySRTP(t, lb, srtp.AESCM128HMACSHA1_80)
	exchange(kb)
	lb.SetSRTP(&srtp.Session{}) // no halves: plain
	exchange(nil)
	if st := r.Stats(); st.B.SRTP || st.B.SRTPErrors != 1 {
		t.Errorf("after the last re-INVITE: %+v", st.B)
	}
}

// A session refresh hands the same Session again: its replay window and
// rollover counter carry on.
func TestRelaySRTPRefreshKeepsState(t *testing.T) {
	r := newRelay(t)
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	lb.SetPeer(b.addr())
	kb, sess := newSRTPKeys(t, srtp.AESCM128HMACSHA1_80)
	lb.SetSRTP(sess)
	p1 := kb.protect(rtpPacket(t, 0xb, 1))
	b.sendTo(lb.Port(), p1)
	a.expect(rtpPacket(t, 0xb, 1), la.Port())
	lb.SetSRTP(sess)
	b.sendTo(lb.Port(), p1) // a replay still
	p2 := rtpPacket(t, 0xb, 2)
	b.sendTo(lb.Port(), kb.protect(p2))
	a.expect(p2, la.Port())
	if got := r.Stats().B.SRTPErrors; got != 1 {
		t.Errorf("SRTPErrors = %d, want 1 (the replay)", got)
	}
}

// Traffic both ways while the SRTP sessions change under it: the race
// detector checks the hot path against SetSRTP and Stats.
func TestRelayConcurrentSetSRTP(t *testing.T) {
	r := newRelay(t)
	a, b := newPeer(t), newPeer(t)
	la, lb := r.Leg(A), r.Leg(B)
	la.SetPeer(a.addr())
	lb.SetPeer(b.addr())
	var keys [2]*srtpKeys
	var sessions [2]*srtp.Session
	for i := range keys {
		keys[i], sessions[i] = newSRTPKeys(t, srtp.AESCM128HMACSHA1_80)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			lb.SetSRTP(sessions[i%2])
			if i%3 == 0 {
				la.SetSRTP(nil)
			}
			_ = r.Stats()
		}
	}()
	for seq := range uint16(200) {
		a.sendTo(la.Port(), rtpPacket(t, 1, seq))
		b.sendTo(lb.Port(), keys[seq%2].protect(rtpPacket(t, 2, seq)))
		b.sendTo(lb.Port()+1, keys[seq%2].protectRTCP(rtcpPacket(2)))
	}
	<-done
}

// The SRTP relay path allocates nothing per packet once latched: plain to
// SRTP and SRTP to plain, RTP and RTCP, handed in and through the sockets.
func TestRelaySRTPNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, suite := range testSuites {
		t.Run(suite.String(), func(t *testing.T) {
			pool := testPool(t, 2)
			r, err := pool.NewRelay(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			a, aRTCP, b, bRTCP := newPeer(t), newPeer(t), newPeer(t), newPeer(t)
			la, lb := r.Leg(A), r.Leg(B)
			la.SetPeer(a.addr())
			la.SetPeerRTCP(aRTCP.addr())
			lb.SetPeer(b.addr())
			lb.SetPeerRTCP(bRTCP.addr())
			kb := keySRTP(t, lb, suite)

			const runs = 500
			check := func(what string, f func()) {
				t.Helper()
				if allocs := testing.AllocsPerRun(runs, f); allocs != 0 {
					t.Errorf("%s: %v allocations per packet, want 0", what, allocs)
				}
			}
			// Plain to SRTP, protected in place.
			pkt := roomy(rtpPacket(t, 1, 1))
			seq := uint16(1)
			la.hand(pkt, a.addr()) // latches: the one allocation
			check("plain to SRTP", func() {
				seq++
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				la.hand(pkt, a.addr())
			})
			rr := roomy(rtcpPacket(1))
			la.handRTCP(rr, aRTCP.addr())
			check("plain to SRTCP", func() { la.handRTCP(rr, aRTCP.addr()) })

			// SRTP to plain: each packet opens once, so they are made
			// ahead.
			srtpPkts := make([][]byte, runs+2)
			srtcpPkts := make([][]byte, runs+2)
			for i := range srtpPkts {
				srtpPkts[i] = roomy(kb.protect(rtpPacket(t, 2, uint16(i))))
				srtcpPkts[i] = roomy(kb.protectRTCP(rtcpPacket(2)))
			}
			i := 0
			check("SRTP to plain", func() {
				lb.hand(srtpPkts[i], b.addr())
				i++
			})
			i = 0
			check("SRTCP to plain", func() {
				lb.handRTCP(srtcpPkts[i], bRTCP.addr())
				i++
			})
			if st := r.Stats(); st.B.SRTPErrors != 0 || st.B.PacketsIn != runs+1 || st.B.RTCPIn != runs+1 {
				t.Fatalf("B: %+v", st.B)
			}

			// Through the sockets, both ways: send, relay, receive.
			buf := make([]byte, 2048)
			dstA := netip.AddrPortFrom(loopback, uint16(la.Port()))
			dstB := netip.AddrPortFrom(loopback, uint16(lb.Port()))
			for i := range srtpPkts {
				srtpPkts[i] = kb.protect(rtpPacket(t, 2, uint16(runs+10+i)))
			}
			drain(a, b)
			_ = a.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_ = b.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			i = 0
			check("send, relay, receive", func() {
				if _, err := a.conn.WriteToUDPAddrPort(pkt, dstA); err != nil {
					t.Fatal(err)
				}
				if _, _, err := b.conn.ReadFromUDPAddrPort(buf); err != nil {
					t.Fatal(err)
				}
				if _, err := b.conn.WriteToUDPAddrPort(srtpPkts[i], dstB); err != nil {
					t.Fatal(err)
				}
				i++
				if _, _, err := a.conn.ReadFromUDPAddrPort(buf); err != nil {
					t.Fatal(err)
				}
			})
			if st := r.Stats(); st.B.SRTPErrors != 0 {
				t.Errorf("SRTP errors: %d", st.B.SRTPErrors)
			}
		})
	}
}

// drain reads what the peers have queued, so that a test's reads see its
// own packets.
func drain(ps ...*fakePeer) {
	for _, p := range ps {
		_ = p.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		for {
			if _, _, err := p.conn.ReadFromUDPAddrPort(p.buf); err != nil {
				break
			}
		}
	}
}
