package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/trunkline/trunkline/media/srtp"
)

// BenchmarkRelay measures RTP packets relayed through one relay over
// loopback: a fake caller sends 172-byte PCMU packets to leg A, the relay
// sends them on out of leg B, a fake callee reads them. One op is one
// packet; the time includes the peers' own send and receive. The sender
// keeps at most a window of packets in flight, so that no socket buffer
// overflows.
func BenchmarkRelay(b *testing.B) {
	pool := testPool(b, 2)
	r, err := pool.NewRelay(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	caller, callee := newPeer(b), newPeer(b)
	r.Leg(B).SetPeer(callee.addr())
	pkt := rtpPacket(b, 0xbe, 1)
	dst := netip.AddrPortFrom(loopback, uint16(r.Leg(A).Port()))
	buf := make([]byte, 2048)
	const window = 64

	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	b.ResetTimer()
	lost := 0
	seq := uint16(1)
	for sent := 0; sent < b.N; {
		burst := min(window, b.N-sent)
		for range burst {
			seq++
			pkt[2], pkt[3] = byte(seq>>8), byte(seq)
			if _, err := caller.conn.WriteToUDPAddrPort(pkt, dst); err != nil {
				b.Fatal(err)
			}
		}
		sent += burst
		_ = callee.conn.SetReadDeadline(time.Now().Add(time.Second))
		for i := range burst {
			if _, _, err := callee.conn.ReadFromUDPAddrPort(buf); err != nil {
				lost += burst - i // a drop: go on with the next window
				break
			}
		}
	}
	b.StopTimer()
	if lost > 0 {
		b.Logf("%d of %d packets lost", lost, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkRelayPath measures the relay's own work per packet: checks,
// latching, counters, loss tracking and the send syscall, without the read.
func BenchmarkRelayPath(b *testing.B) {
	pool := testPool(b, 2)
	r, err := pool.NewRelay(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	caller, callee := newPeer(b), newPeer(b)
	la := r.Leg(A)
	r.Leg(B).SetPeer(callee.addr())
	pkt := rtpPacket(b, 0xbe, 1)
	src := caller.addr()
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	seq := uint16(1)
	for b.Loop() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		la.hand(pkt, src)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkRelaySRTP is BenchmarkRelayPath with SRTP interworking: the
// relay's work per packet, send syscall included, from a plain RTP leg to an
// SRTP one (protect in place), from an SRTP leg to a plain one (open in
// place) and between two SRTP legs under different keys (both). The SRTP
// packets a peer sends are made ahead, off the clock, since each opens once.
func BenchmarkRelaySRTP(b *testing.B) {
	for _, suite := range []srtp.Suite{srtp.AESCM128HMACSHA1_80, srtp.AEADAES128GCM} {
		for _, bm := range []struct {
			name         string
			srtpA, srtpB bool
		}{
			{"plain-to-SRTP", false, true},
			{"SRTP-to-plain", true, false},
			{"SRTP-to-SRTP", true, true},
		} {
			b.Run(suite.String()+"/"+bm.name, func(b *testing.B) {
				pool := testPool(b, 2)
				r, err := pool.NewRelay(nil)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				caller, callee := newPeer(b), newPeer(b)
				la, lb := r.Leg(A), r.Leg(B)
				lb.SetPeer(callee.addr())
				var ka *srtpKeys
				if bm.srtpA {
					ka = keySRTP(b, la, suite)
				}
				if bm.srtpB {
					keySRTP(b, lb, suite)
				}
				src := caller.addr()
				plain := roomy(rtpPacket(b, 0xbe, 1))
				pkts := make([][]byte, 1024)
				next := len(pkts)
				seq := uint16(1)
				b.SetBytes(int64(len(plain)))
				b.ReportAllocs()
				for b.Loop() {
					seq++
					if ka == nil {
						plain[2], plain[3] = byte(seq>>8), byte(seq)
						la.hand(plain, src)
						continue
					}
					if next == len(pkts) {
						b.StopTimer()
						for i := range pkts {
							plain[2], plain[3] = byte((seq+uint16(i))>>8), byte(seq+uint16(i))
							pkts[i] = append(pkts[i][:0], ka.protect(plain)...)
							if cap(pkts[i]) < len(pkts[i])+headroom {
								pkts[i] = roomy(pkts[i])
							}
						}
						next = 0
						b.StartTimer()
					}
					la.hand(pkts[next], src)
					next++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
				if st := r.Stats(); st.A.SRTPErrors+st.A.WriteErrors+st.A.DroppedNoPeer != 0 {
					b.Fatalf("drops: %+v", st.A)
				}
			})
		}
	}
}
