package media

import (
	"net/netip"
	"testing"
	"time"
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
