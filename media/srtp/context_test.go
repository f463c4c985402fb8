package srtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/pion/srtp/v3"
)

const payloadLen = 160 // PCMU, 20 ms

// rtpPacket writes an RTP packet (PT 0, 160-byte payload) into buf.
func rtpPacket(buf []byte, seq uint16, ssrc uint32) []byte {
	p := buf[:12+payloadLen]
	p[0], p[1] = 0x80, 0x00
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := range payloadLen {
		p[12+i] = byte(int(seq) + i)
	}
	return p
}

// rtcpPacket returns a receiver report with one report block.
func rtcpPacket(ssrc uint32) []byte {
	p := make([]byte, 32)
	p[0], p[1] = 0x81, 201 // RR, RC=1
	binary.BigEndian.PutUint16(p[2:], 7)
	binary.BigEndian.PutUint32(p[4:], ssrc)
	for i := 8; i < len(p); i++ {
		p[i] = byte(i)
	}
	return p
}

// pair returns an Encrypter and a Decrypter sharing one fresh key of s.
func pair(t testing.TB, s Suite, params ...string) (*Encrypter, *Decrypter, Crypto) {
	t.Helper()
	c, err := NewCrypto(1, s)
	if err != nil {
		t.Fatal(err)
	}
	c.Params = params
	e, err := NewEncrypter(c)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecrypter(c)
	if err != nil {
		t.Fatal(err)
	}
	return e, d, c
}

func TestRoundTrip(t *testing.T) {
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			e, d, _ := pair(t, s)
			if e.Suite() != s || d.Suite() != s || e.RTPOverhead() != s.RTPOverhead() {
				t.Fatal("accessors")
			}
			buf := make([]byte, 1500)
			want := make([]byte, 1500)
			for seq := uint16(65500); seq != 100; seq++ { // across the ROC rollover
				plain := rtpPacket(want, seq, 0xdecafbad)
				pkt := rtpPacket(buf, seq, 0xdecafbad)
				enc, err := e.EncryptRTP(pkt, pkt) // in place
				if err != nil {
					t.Fatal(err)
				}
				if len(enc) != len(plain)+s.RTPOverhead() || &enc[0] != &buf[0] {
					t.Fatalf("seq %d: %d bytes, not in place", seq, len(enc))
				}
				if bytes.Equal(enc[12:12+payloadLen], plain[12:]) {
					t.Fatalf("seq %d: payload not encrypted", seq)
				}
				if !bytes.Equal(enc[:12], plain[:12]) {
					t.Fatalf("seq %d: header changed", seq)
				}
				var out []byte
				if seq%2 == 0 {
					out, err = d.DecryptRTP(enc, enc)
				} else {
					out, err = d.DecryptRTP(make([]byte, 0, 1500), enc) // into another buffer
				}
				if err != nil {
					t.Fatalf("seq %d: %v", seq, err)
				}
				if !bytes.Equal(out, plain) {
					t.Fatalf("seq %d: round trip differs", seq)
				}
			}
			// nil dst: a new buffer.
			pkt := rtpPacket(make([]byte, 200), 100, 1)
			enc, err := e.EncryptRTP(nil, pkt)
			if err != nil || len(enc) != len(pkt)+s.RTPOverhead() {
				t.Fatalf("nil dst: %d, %v", len(enc), err)
			}
		})
	}
}

func TestRTCPRoundTrip(t *testing.T) {
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			e, d, _ := pair(t, s)
			for i := range 5 {
				plain := rtcpPacket(0x1234)
				buf := make([]byte, len(plain), len(plain)+MaxOverhead)
				copy(buf, plain)
				enc, err := e.EncryptRTCP(buf, buf)
				if err != nil {
					t.Fatal(err)
				}
				if len(enc) != len(plain)+e.RTCPOverhead() || bytes.Equal(enc[8:len(plain)], plain[8:]) {
					t.Fatalf("packet %d not protected", i)
				}
				at := len(plain) // E|index, then the HMAC tag
				if s == AEADAES128GCM || s == AEADAES256GCM {
					at += 16 // the GCM tag, then E|index
				}
				if idx := binary.BigEndian.Uint32(enc[at:]); idx != 0x80000000|uint32(i+1) {
					t.Fatalf("E|index = %08x", idx)
				}
				replay := bytes.Clone(enc)
				out, err := d.DecryptRTCP(enc, enc)
				if err != nil || !bytes.Equal(out, plain) {
					t.Fatalf("packet %d: %v", i, err)
				}
				if _, err := d.DecryptRTCP(nil, replay); err != ErrReplay {
					t.Fatalf("replayed RTCP: %v", err)
				}
				replay[9] ^= 1
				if _, err := d.DecryptRTCP(nil, replay); err != ErrAuth && err != ErrReplay {
					t.Fatalf("tampered RTCP: %v", err)
				}
			}
			// Tampered but fresh index: ErrAuth.
			enc, _ := e.EncryptRTCP(nil, rtcpPacket(0x1234))
			enc[12] ^= 0x40
			if _, err := d.DecryptRTCP(nil, enc); err != ErrAuth {
				t.Fatalf("tampered RTCP: %v", err)
			}
		})
	}
}

func TestTamper(t *testing.T) {
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			e, d, _ := pair(t, s)
			good, _ := e.EncryptRTP(nil, rtpPacket(make([]byte, 200), 1, 7))
			for _, at := range []int{1, 3, 11, 12, 12 + payloadLen - 1, len(good) - 1} {
				bad := bytes.Clone(good)
				bad[at] ^= 0x01
				if _, err := d.DecryptRTP(nil, bad); err != ErrAuth {
					t.Errorf("bit flipped at %d: %v, want ErrAuth", at, err)
				}
			}
			if _, err := d.DecryptRTP(nil, good[:len(good)-1]); err != ErrAuth && err != ErrPacket {
				t.Errorf("truncated: %v", err)
			}
			// A forged packet does not burn its sequence number.
			if out, err := d.DecryptRTP(nil, good); err != nil || len(out) != 12+payloadLen {
				t.Fatalf("genuine packet after forgeries: %v", err)
			}
			// Another key is a forgery too.
			_, other, _ := pair(t, s)
			if _, err := other.DecryptRTP(nil, good); err != ErrAuth {
				t.Errorf("wrong key: %v", err)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	e, d, _ := pair(t, AESCM128HMACSHA1_80)
	var sent [][]byte
	for seq := range uint16(200) {
		p, _ := e.EncryptRTP(nil, rtpPacket(make([]byte, 200), seq, 9))
		sent = append(sent, p)
	}
	// 100..199 in order, except 150 and 120 held back.
	for i := 100; i < 200; i++ {
		if i == 150 || i == 120 {
			continue
		}
		if _, err := d.DecryptRTP(nil, bytes.Clone(sent[i])); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	if _, err := d.DecryptRTP(nil, bytes.Clone(sent[150])); err != nil {
		t.Fatalf("late packet within the window: %v", err)
	}
	if _, err := d.DecryptRTP(nil, bytes.Clone(sent[150])); err != ErrReplay {
		t.Fatalf("second copy: %v, want ErrReplay", err)
	}
	if _, err := d.DecryptRTP(nil, bytes.Clone(sent[199])); err != ErrReplay {
		t.Fatalf("copy of the newest: %v, want ErrReplay", err)
	}
	if _, err := d.DecryptRTP(nil, bytes.Clone(sent[120])); err != ErrReplay {
		t.Fatalf("older than the 64-packet window: %v, want ErrReplay", err)
	}
	// WSH widens the window.
	c, _ := NewCrypto(1, AESCM128HMACSHA1_80)
	e, _ = NewEncrypter(c)
	c.Params = []string{"WSH=256"}
	d, err := NewDecrypter(c)
	if err != nil {
		t.Fatal(err)
	}
	sent = sent[:0]
	for seq := range uint16(200) {
		p, _ := e.EncryptRTP(nil, rtpPacket(make([]byte, 200), seq, 9))
		sent = append(sent, p)
	}
	for _, i := range []int{199, 20} {
		if _, err := d.DecryptRTP(nil, sent[i]); err != nil {
			t.Fatalf("WSH=256, packet %d: %v", i, err)
		}
	}
}

func TestBadPackets(t *testing.T) {
	e, d, _ := pair(t, AESCM128HMACSHA1_80)
	for _, p := range [][]byte{nil, make([]byte, 11), append([]byte{0x40}, make([]byte, 40)...)} {
		if _, err := e.EncryptRTP(nil, p); err != ErrPacket {
			t.Errorf("EncryptRTP(%x): %v", p, err)
		}
		if _, err := d.DecryptRTP(nil, p); err != ErrPacket {
			t.Errorf("DecryptRTP(%x): %v", p, err)
		}
	}
	// A header whose CSRC count runs past the end.
	p := make([]byte, 20)
	p[0] = 0x8f
	if _, err := d.DecryptRTP(nil, p); err != ErrPacket {
		t.Errorf("CSRC overrun: %v", err)
	}
	for _, p := range [][]byte{nil, make([]byte, 7), {0x40, 200, 0, 1, 0, 0, 0, 1}} {
		if _, err := e.EncryptRTCP(nil, p); err != ErrPacket {
			t.Errorf("EncryptRTCP(%x): %v", p, err)
		}
		if _, err := d.DecryptRTCP(nil, p); err != ErrPacket {
			t.Errorf("DecryptRTCP(%x): %v", p, err)
		}
	}
	short := []byte{0x81, 201, 0, 1, 0, 0, 0, 1, 0x80, 0, 0, 1}
	if _, err := d.DecryptRTCP(nil, short); err != ErrPacket {
		t.Errorf("SRTCP without room for a tag: %v", err)
	}
}

// TestInteropPion plays the peer with pion/srtp contexts created on their
// own from the same key material, as a separate SRTP stack would.
func TestInteropPion(t *testing.T) {
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			remote, _ := NewCrypto(1, s) // the peer's line
			local, _ := NewCrypto(1, s)  // ours
			sess, err := NewSession(local, remote)
			if err != nil {
				t.Fatal(err)
			}
			profile := s.info().profile
			peerOut, err := srtp.CreateContext(remote.Keys[0].Key, remote.Keys[0].Salt, profile)
			if err != nil {
				t.Fatal(err)
			}
			peerIn, err := srtp.CreateContext(local.Keys[0].Key, local.Keys[0].Salt, profile, srtp.SRTPReplayProtection(64))
			if err != nil {
				t.Fatal(err)
			}
			for seq := uint16(1); seq < 50; seq++ {
				plain := rtpPacket(make([]byte, 200), seq, 0xabcdef)
				wire, err := peerOut.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := sess.In.DecryptRTP(nil, wire)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("peer → us, seq %d: %v", seq, err)
				}
				wire, err = sess.Out.EncryptRTP(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				got, err = peerIn.DecryptRTP(nil, wire, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("us → peer, seq %d: %v", seq, err)
				}
			}
			rr := rtcpPacket(0xabcdef)
			wire, err := peerOut.EncryptRTCP(nil, rr, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := sess.In.DecryptRTCP(nil, wire); err != nil || !bytes.Equal(got, rr) {
				t.Fatalf("RTCP peer → us: %v", err)
			}
			wire, _ = sess.Out.EncryptRTCP(nil, rr)
			if got, err := peerIn.DecryptRTCP(nil, wire, nil); err != nil || !bytes.Equal(got, rr) {
				t.Fatalf("RTCP us → peer: %v", err)
			}
		})
	}
}

// TestMKI: a peer offering two keys, each with an MKI, may switch keys
// mid-stream; packets are opened with the key their MKI names.
func TestMKI(t *testing.T) {
	remote, err := ParseCrypto(rfc4568Examples[4][:len(rfc4568Examples[4])-len(" FEC_ORDER=FEC_SRTP")])
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecrypter(remote)
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := remote.Keys[0], remote.Keys[1]
	peer, err := srtp.CreateContext(k1.Key, k1.Salt, srtp.ProtectionProfileAes128CmHmacSha1_80, srtp.MasterKeyIndicator([]byte{0, 0, 0, 1}))
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.AddCipherForMKI([]byte{0, 0, 0, 2}, k2.Key, k2.Salt); err != nil {
		t.Fatal(err)
	}
	for seq := uint16(1); seq < 10; seq++ {
		if seq == 5 {
			if err := peer.SetSendMKI([]byte{0, 0, 0, 2}); err != nil {
				t.Fatal(err)
			}
		}
		plain := rtpPacket(make([]byte, 200), seq, 5)
		wire, _ := peer.EncryptRTP(nil, plain, nil)
		if got, err := d.DecryptRTP(nil, wire); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	// Unknown MKI: ErrAuth.
	wire, _ := peer.EncryptRTP(nil, rtpPacket(make([]byte, 200), 20, 5), nil)
	wire[len(wire)-10-1] = 9
	if _, err := d.DecryptRTP(nil, wire); err != ErrAuth {
		t.Fatalf("unknown MKI: %v", err)
	}
	// Our own line with an MKI: the Encrypter writes it.
	local := Crypto{Tag: 1, Suite: AESCM128HMACSHA1_32, Keys: []Key{{Key: k1.Key, Salt: k1.Salt, MKI: 3, MKILen: 2}}}
	e, err := NewEncrypter(local)
	if err != nil || e.RTPOverhead() != 4+2 || e.RTCPOverhead() != 14+2 {
		t.Fatalf("%v, overhead %d", err, e.RTPOverhead())
	}
	out, _ := e.EncryptRTP(nil, rtpPacket(make([]byte, 200), 1, 5))
	if mki := out[len(out)-4-2 : len(out)-4]; !bytes.Equal(mki, []byte{0, 3}) {
		t.Fatalf("MKI on the wire %x", mki)
	}
}

// TestUnencrypted: UNENCRYPTED_SRTP/SRTCP leave the payload readable but
// still authenticated.
func TestUnencrypted(t *testing.T) {
	for _, s := range []Suite{AESCM128HMACSHA1_80, AEADAES128GCM} {
		e, d, _ := pair(t, s, "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP")
		plain := rtpPacket(make([]byte, 200), 1, 5)
		wire, err := e.EncryptRTP(nil, plain)
		if err != nil || !bytes.Equal(wire[:len(plain)], plain) {
			t.Fatalf("%v: payload changed or %v", s, err)
		}
		if got, err := d.DecryptRTP(nil, bytes.Clone(wire)); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%v: %v", s, err)
		}
		wire[20] ^= 1
		wire[3]++ // a fresh sequence number, so that replay is not the verdict
		if _, err := d.DecryptRTP(nil, wire); err != ErrAuth {
			t.Fatalf("%v: tampered: %v", s, err)
		}
		rr := rtcpPacket(5)
		wire, _ = e.EncryptRTCP(nil, rr)
		if !bytes.Equal(wire[:len(rr)], rr) {
			t.Fatalf("%v: RTCP payload changed", s)
		}
		if got, err := d.DecryptRTCP(nil, wire); err != nil || !bytes.Equal(got, rr) {
			t.Fatalf("%v: RTCP: %v", s, err)
		}
	}
}

// TestZeroAllocs: the packet path allocates nothing once an SSRC is known,
// in place or into a caller buffer.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			e, d, _ := pair(t, s)
			buf := make([]byte, 1500)
			dst := make([]byte, 1500)
			rtcpBuf := make([]byte, 64)
			seq := uint16(0)
			check := func(what string, f func()) {
				t.Helper()
				if n := testing.AllocsPerRun(1000, f); n != 0 {
					t.Errorf("%s: %v allocs per packet", what, n)
				}
			}
			check("RTP in place", func() {
				seq++
				p, err := e.EncryptRTP(buf, rtpPacket(buf, seq, 1))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := d.DecryptRTP(p, p); err != nil {
					t.Fatal(err)
				}
			})
			check("RTP into caller buffer", func() {
				seq++
				p, err := e.EncryptRTP(dst, rtpPacket(buf, seq, 1))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := d.DecryptRTP(buf, p); err != nil {
					t.Fatal(err)
				}
			})
			rr := rtcpPacket(2)
			check("RTCP", func() {
				p := rtcpBuf[:copy(rtcpBuf, rr)]
				p, err := e.EncryptRTCP(p, p)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := d.DecryptRTCP(p, p); err != nil {
					t.Fatal(err)
				}
			})
			if s == AEADAES128GCM || s == AEADAES256GCM {
				return // pion wraps GCM's open error with fmt.Errorf: 4 allocations per forgery
			}
			forged := rtpPacket(make([]byte, 200), 1, 1)
			forged = append(forged, make([]byte, 16)...)
			check("rejecting a forgery", func() {
				seq++
				binary.BigEndian.PutUint16(forged[2:], seq+1000)
				if _, err := d.DecryptRTP(forged, forged); !errors.Is(err, ErrAuth) {
					t.Fatal(err)
				}
			})
		})
	}
}
