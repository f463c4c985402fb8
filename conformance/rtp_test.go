package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The RTP fixture every media scenario plays with SIPp's play_pcap_audio: a
// 1 kHz tone in PCMA (payload type 8), 20 ms packets of 160 samples, for
// 1.5 s. SIPp sends it from the port written as [media_port+4] in its SDP,
// rewriting only the UDP ports, so what arrives at the far end is exactly
// these RTP packets.
const (
	rtpFixture       = "pcma_tone_1500ms.pcap"
	rtpFixturePT     = 8 // PCMA
	rtpFixturePTime  = 20 * time.Millisecond
	rtpFixtureCount  = 75
	rtpSamplesPerPkt = 160
	rtpFixtureSSRC   = 0x7e1e_c0de
)

var update = flag.Bool("update", false, "rewrite the generated fixtures in scenarios/ (the pcap and the per-code scenario files)")

// TestRTPFixtureUpToDate keeps scenarios/pcma_tone_1500ms.pcap equal to what
// writeRTPPcap generates (go test ./conformance/ -run Fixture -update
// rewrites it).
func TestRTPFixtureUpToDate(t *testing.T) {
	var want bytes.Buffer
	writeRTPPcap(&want)
	path := filepath.Join(scenarioDir(t), rtpFixture)
	if *update {
		if err := os.WriteFile(path, want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./conformance/ -run Fixture -update writes it)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s differs from what writeRTPPcap generates; run go test ./conformance/ -run Fixture -update", path)
	}
}

// writeRTPPcap writes the RTP fixture as a classic pcap file (Ethernet,
// IPv4, UDP 10.0.0.1:5000 -> 10.0.0.2:6000; SIPp replaces the addresses and
// ports when it plays it).
func writeRTPPcap(w *bytes.Buffer) {
	le := binary.LittleEndian
	be := binary.BigEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond timestamps
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535) // snaplen
	le.PutUint32(hdr[20:], 1)     // LINKTYPE_ETHERNET
	w.Write(hdr)

	samples := pcmaTone(rtpFixtureCount * rtpSamplesPerPkt)
	for i := range rtpFixtureCount {
		rtp := make([]byte, 12+rtpSamplesPerPkt)
		rtp[0] = 0x80 // V=2
		rtp[1] = rtpFixturePT
		if i == 0 {
			rtp[1] |= 0x80 // marker: start of a talkspurt
		}
		be.PutUint16(rtp[2:], uint16(1000+i))
		be.PutUint32(rtp[4:], uint32(i*rtpSamplesPerPkt))
		be.PutUint32(rtp[8:], rtpFixtureSSRC)
		copy(rtp[12:], samples[i*rtpSamplesPerPkt:])

		udp := make([]byte, 8, 8+len(rtp))
		be.PutUint16(udp[0:], 5000)
		be.PutUint16(udp[2:], 6000)
		be.PutUint16(udp[4:], uint16(8+len(rtp)))
		udp = append(udp, rtp...)

		ip := make([]byte, 20, 20+len(udp))
		ip[0] = 0x45
		be.PutUint16(ip[2:], uint16(20+len(udp)))
		be.PutUint16(ip[4:], uint16(i))
		ip[8] = 64 // TTL
		ip[9] = 17 // UDP
		copy(ip[12:], []byte{10, 0, 0, 1})
		copy(ip[16:], []byte{10, 0, 0, 2})
		be.PutUint16(ip[10:], ipChecksum(ip))
		ip = append(ip, udp...)

		eth := make([]byte, 14, 14+len(ip))
		copy(eth[0:], []byte{0x02, 0, 0, 0, 0, 2})
		copy(eth[6:], []byte{0x02, 0, 0, 0, 0, 1})
		be.PutUint16(eth[12:], 0x0800)
		eth = append(eth, ip...)

		rec := make([]byte, 16)
		ts := time.Duration(i) * rtpFixturePTime
		le.PutUint32(rec[0:], uint32(ts/time.Second))
		le.PutUint32(rec[4:], uint32((ts%time.Second)/time.Microsecond))
		le.PutUint32(rec[8:], uint32(len(eth)))
		le.PutUint32(rec[12:], uint32(len(eth)))
		w.Write(rec)
		w.Write(eth)
	}
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// pcmaTone returns n samples of a 1 kHz sine at about -10 dBFS, 8 kHz,
// encoded as G.711 A-law.
func pcmaTone(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		v := 0.316 * math.Sin(2*math.Pi*1000*float64(i)/8000)
		out[i] = alawEncode(int16(v * 32767))
	}
	return out
}

// alawEncode is the G.711 A-law encoder (ITU-T G.711, as in Sun's g711.c).
func alawEncode(pcm int16) byte {
	segEnd := [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
	v := int(pcm) >> 3
	mask := 0xD5
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for seg < 8 && v > segEnd[seg] {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	aval := seg << 4
	if seg < 2 {
		aval |= (v >> 1) & 0x0F
	} else {
		aval |= (v >> seg) & 0x0F
	}
	return byte(aval ^ mask)
}

// rtpProbe is the runner's end of one SIPp instance's media: a UDP socket on
// the address and port that instance writes into its SDP ([media_ip],
// [media_port+4]). SIPp binds -mp and -mp+2 itself and sends its pcap from
// [media_port+4] through a raw socket, so the probe sees every RTP packet the
// far end sends back to that instance. An echoing probe returns each packet
// to its sender, as SIPp's -rtp_echo would, from the very port it advertised
// (symmetric RTP); it is what the callee side runs, so that RTP flows both
// ways and each direction is counted on its own.
type rtpProbe struct {
	conn *net.UDPConn
	echo bool
	done chan struct{}

	mu      sync.Mutex
	stats   rtpStats
	readErr error
}

// rtpStats is what a probe saw.
type rtpStats struct {
	Packets int                    // RTP packets received (version 2, not RTCP)
	Echoed  int                    // of those, sent back
	Other   int                    // datagrams that are not RTP
	Sources map[netip.AddrPort]int // packets per sender
	Types   map[uint8]int          // packets per payload type
	First   time.Time
	Last    time.Time
}

func newRTPProbe(t *testing.T, ip string, port int, echo bool) *rtpProbe {
	t.Helper()
	addr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port)))
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		t.Fatalf("rtp probe on %s: %v", addr, err)
	}
	p := &rtpProbe{conn: conn, echo: echo, done: make(chan struct{}),
		stats: rtpStats{Sources: map[netip.AddrPort]int{}, Types: map[uint8]int{}}}
	go p.serve()
	t.Cleanup(func() { p.close() })
	return p
}

func (p *rtpProbe) serve() {
	defer close(p.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.mu.Lock()
				p.readErr = err
				p.mu.Unlock()
			}
			return
		}
		pkt := buf[:n]
		isRTP := n >= 12 && pkt[0]>>6 == 2 && (pkt[1] < 200 || pkt[1] > 204)
		echoed := false
		if isRTP && p.echo {
			_, err := p.conn.WriteToUDPAddrPort(pkt, from)
			echoed = err == nil
		}
		now := time.Now()
		p.mu.Lock()
		if isRTP {
			s := &p.stats
			s.Packets++
			if echoed {
				s.Echoed++
			}
			s.Sources[from]++
			s.Types[pkt[1]&0x7f]++
			if s.First.IsZero() {
				s.First = now
			}
			s.Last = now
		} else {
			p.stats.Other++
		}
		p.mu.Unlock()
	}
}

// close stops the probe and returns what it saw. It may be called more
// than once.
func (p *rtpProbe) close() rtpStats {
	p.conn.Close()
	<-p.done
	return p.snapshot()
}

func (p *rtpProbe) snapshot() rtpStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Sources = make(map[netip.AddrPort]int, len(p.stats.Sources))
	for k, v := range p.stats.Sources {
		s.Sources[k] = v
	}
	s.Types = make(map[uint8]int, len(p.stats.Types))
	for k, v := range p.stats.Types {
		s.Types[k] = v
	}
	return s
}

// sipSink stands for a trunk that must never be reached: it listens where
// the trunk's destinationHosts point (UDP, or TCP) and records whatever
// arrives, answering nothing.
type sipSink struct {
	udp  *net.UDPConn
	tcp  net.Listener
	done sync.WaitGroup

	mu       sync.Mutex
	received []string // the first line of each datagram or connection
}

func newSIPSink(t *testing.T, ip string, port int, transport string) *sipSink {
	t.Helper()
	s := &sipSink{}
	ap := netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))
	if transport == "tcp" {
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
		if err != nil {
			t.Fatalf("sink on tcp %s: %v", ap, err)
		}
		s.tcp = ln
		s.done.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 4096)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, _ := c.Read(buf)
				s.record(buf[:n], "tcp connection")
				c.Close()
			}
		})
	} else {
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			t.Fatalf("sink on udp %s: %v", ap, err)
		}
		s.udp = conn
		s.done.Go(func() {
			buf := make([]byte, 65536)
			for {
				n, _, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				s.record(buf[:n], "datagram")
			}
		})
	}
	t.Cleanup(func() { s.close() })
	return s
}

func (s *sipSink) record(b []byte, what string) {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	if len(line) == 0 {
		line = []byte("(empty " + what + ")")
	}
	s.mu.Lock()
	s.received = append(s.received, string(line))
	s.mu.Unlock()
}

// snapshot returns the first line of everything the sink got so far.
func (s *sipSink) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

// close stops the sink and returns the first line of everything it got.
func (s *sipSink) close() []string {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	s.done.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}
