package srtp

import (
	"testing"
)

// The relay's packet: RTP header + 160 bytes of PCMU (20 ms).
const benchPacket = 12 + payloadLen

func BenchmarkEncryptRTP(b *testing.B) {
	for _, s := range AllSuites {
		b.Run(s.String(), func(b *testing.B) {
			e, _, _ := pair(b, s)
			buf := make([]byte, benchPacket+MaxOverhead)
			b.ReportAllocs()
			b.SetBytes(benchPacket)
			seq := uint16(0)
			for b.Loop() {
				seq++
				if _, err := e.EncryptRTP(buf, rtpPacket(buf, seq, 1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// chunk is how many packets are encrypted, off the clock, ahead of the
// decryptions they feed: each packet can be opened only once.
const chunk = 1024

// wire fills pkts with the next chunk of SRTP packets from e.
func wire(b *testing.B, e *Encrypter, pkts [][]byte, seq *uint16) {
	for i := range pkts {
		*seq++
		p, err := e.EncryptRTP(pkts[i][:cap(pkts[i])], rtpPacket(pkts[i][:cap(pkts[i])], *seq, 1))
		if err != nil {
			b.Fatal(err)
		}
		pkts[i] = p
	}
}

func newPackets() [][]byte {
	pkts := make([][]byte, chunk)
	for i := range pkts {
		pkts[i] = make([]byte, benchPacket+MaxOverhead)
	}
	return pkts
}

func BenchmarkDecryptRTP(b *testing.B) {
	for _, s := range AllSuites {
		b.Run(s.String(), func(b *testing.B) {
			e, d, _ := pair(b, s)
			pkts := newPackets()
			var seq uint16
			b.ReportAllocs()
			b.SetBytes(benchPacket)
			i := chunk
			for b.Loop() {
				if i == chunk {
					b.StopTimer()
					wire(b, e, pkts, &seq)
					i = 0
					b.StartTimer()
				}
				if _, err := d.DecryptRTP(pkts[i], pkts[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkRelayRoundTrip is the relay's work per packet between an SRTP
// leg and another SRTP leg: open what one peer sent, in place, and protect
// it for the other under another key.
func BenchmarkRelayRoundTrip(b *testing.B) {
	for _, s := range AllSuites {
		b.Run(s.String(), func(b *testing.B) {
			peer, in, _ := pair(b, s)
			out, _, _ := pair(b, s)
			pkts := newPackets()
			var seq uint16
			b.ReportAllocs()
			b.SetBytes(benchPacket)
			i := chunk
			for b.Loop() {
				if i == chunk {
					b.StopTimer()
					wire(b, peer, pkts, &seq)
					i = 0
					b.StartTimer()
				}
				p, err := in.DecryptRTP(pkts[i], pkts[i])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := out.EncryptRTP(p, p); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
