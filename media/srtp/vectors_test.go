package srtp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// A reference SRTP written from RFC 3711 and RFC 7714 on the standard
// library alone, checked first against the RFCs' own vectors, then used as
// the known answer for packets our Encrypter produces from a master key.

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refKDF is the AES-CM PRF of RFC 3711 §4.3.3 with kdr 0: the master salt
// (left-aligned in a 16-byte block, zero-padded, as libsrtp and pion pad
// the 12-byte GCM salt) XOR the label at byte 7, AES in counter mode.
func refKDF(masterKey, masterSalt []byte, label byte, n int) []byte {
	var iv [16]byte
	copy(iv[:], masterSalt)
	iv[7] ^= label
	out := make([]byte, n)
	block, _ := aes.NewCipher(masterKey)
	cipher.NewCTR(block, iv[:]).XORKeyStream(out, out)
	return out
}

// refKeystream is AES-CM of RFC 3711 §4.1.1: IV = k_s·2^16 ⊕ SSRC·2^64 ⊕ i·2^16.
func refKeystream(key, salt []byte, ssrc uint32, index uint64, n int) []byte {
	var iv [16]byte
	copy(iv[:], salt)
	var x [16]byte
	binary.BigEndian.PutUint32(x[4:], ssrc)      // SSRC·2^64
	binary.BigEndian.PutUint64(x[8:], index<<16) // i·2^16 (48-bit index)
	for i := range iv {
		iv[i] ^= x[i]
	}
	out := make([]byte, n)
	block, _ := aes.NewCipher(key)
	cipher.NewCTR(block, iv[:]).XORKeyStream(out, out)
	return out
}

// refSRTPCM protects an RTP packet (ROC 0) with AES-CM/HMAC-SHA1 from the
// master key, deriving the session keys with refKDF.
func refSRTPCM(mk, ms []byte, tagLen int, pkt []byte) []byte {
	ke, ka, ks := refKDF(mk, ms, 0, len(mk)), refKDF(mk, ms, 1, 20), refKDF(mk, ms, 2, 14)
	ssrc, seq := binary.BigEndian.Uint32(pkt[8:]), binary.BigEndian.Uint16(pkt[2:])
	out := bytes.Clone(pkt)
	ks2 := refKeystream(ke, ks, ssrc, uint64(seq), len(pkt)-12)
	for i := range ks2 {
		out[12+i] ^= ks2[i]
	}
	m := hmac.New(sha1.New, ka)
	m.Write(out)
	m.Write([]byte{0, 0, 0, 0}) // ROC
	return append(out, m.Sum(nil)[:tagLen]...)
}

// refSRTCPCM protects an RTCP packet with SRTCP index idx.
func refSRTCPCM(mk, ms []byte, pkt []byte, idx uint32) []byte {
	ke, ka, ks := refKDF(mk, ms, 3, len(mk)), refKDF(mk, ms, 4, 20), refKDF(mk, ms, 5, 14)
	out := bytes.Clone(pkt)
	ks2 := refKeystream(ke, ks, binary.BigEndian.Uint32(pkt[4:]), uint64(idx), len(pkt)-8)
	for i := range ks2 {
		out[8+i] ^= ks2[i]
	}
	out = binary.BigEndian.AppendUint32(out, 0x80000000|idx)
	m := hmac.New(sha1.New, ka)
	m.Write(out)
	return append(out, m.Sum(nil)[:10]...)
}

// refSRTPGCM is RFC 7714 §8 with session key and salt given (ROC 0).
func refSRTPGCM(key, salt, pkt []byte) []byte {
	var iv [12]byte
	copy(iv[2:], pkt[8:12])
	copy(iv[10:], pkt[2:4])
	for i := range iv {
		iv[i] ^= salt[i]
	}
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	return g.Seal(bytes.Clone(pkt[:12]), iv[:], pkt[12:], pkt[:12])
}

// refSRTCPGCM is RFC 7714 §9 with session key and salt given.
func refSRTCPGCM(key, salt, pkt []byte, idx uint32) []byte {
	var iv [12]byte
	copy(iv[2:], pkt[4:8])
	binary.BigEndian.PutUint32(iv[8:], idx)
	for i := range iv {
		iv[i] ^= salt[i]
	}
	eidx := binary.BigEndian.AppendUint32(nil, 0x80000000|idx)
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	out := g.Seal(bytes.Clone(pkt[:8]), iv[:], pkt[8:], append(bytes.Clone(pkt[:8]), eidx...))
	return append(out, eidx...)
}

// TestRFC3711KeyDerivation: RFC 3711 Appendix B.3 (AES-128) and RFC 6188
// §7.2 (AES-256).
func TestRFC3711KeyDerivation(t *testing.T) {
	tests := []struct{ mk, ms, ke, ks, ka string }{
		{"E1F97A0D3E018BE0D64FA32C06DE4139", "0EC675AD498AFEEBB6960B3AABE6",
			"C61E7A93744F39EE10734AFE3FF7A087", "30CBBC08863D8C85D49DB34A9AE1", "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"},
		{"f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6", "3b04803de51ee7c96423ab5b78d2",
			"5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4", "fa31791685ca444a9e07c6c64e93",
			"fd9c32d39ed5fbb5a9dc96b30818454d1313dc05"},
	}
	for _, tt := range tests {
		mk, ms := unhex(t, tt.mk), unhex(t, tt.ms)
		if got := refKDF(mk, ms, 0, len(mk)); !bytes.Equal(got, unhex(t, tt.ke)) {
			t.Errorf("cipher key %x", got)
		}
		if got := refKDF(mk, ms, 2, 14); !bytes.Equal(got, unhex(t, tt.ks)) {
			t.Errorf("cipher salt %x", got)
		}
		if got := refKDF(mk, ms, 1, 20); !bytes.Equal(got, unhex(t, tt.ka)) {
			t.Errorf("auth key %x", got)
		}
	}
}

// TestRFC3711Keystream: RFC 3711 Appendix B.2.
func TestRFC3711Keystream(t *testing.T) {
	got := refKeystream(unhex(t, "2B7E151628AED2A6ABF7158809CF4F3C"), unhex(t, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), 0, 0, 48)
	want := unhex(t, "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0")
	if !bytes.Equal(got, want) {
		t.Fatalf("keystream\n%x\nwant\n%x", got, want)
	}
}

// TestRFC7714Vectors: RFC 7714 §16.1 and §17.1 (AES-128-GCM) for the
// reference.
func TestRFC7714Vectors(t *testing.T) {
	key, salt := unhex(t, "000102030405060708090a0b0c0d0e0f"), unhex(t, "517569642070726f2071756f")
	rtpPlain := unhex(t, "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573")
	rtpWire := unhex(t, `8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
		0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`)
	if got := refSRTPGCM(key, salt, rtpPlain); !bytes.Equal(got, rtpWire) {
		t.Errorf("SRTP\n%x\nwant\n%x", got, rtpWire)
	}
	rtcpPlain := unhex(t, `81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
		deadbeef deadbeef deadbeef deadbeef deadbeef`)
	rtcpWire := unhex(t, `81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
		c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`)
	if got := refSRTCPGCM(key, salt, rtcpPlain, 0x5d4); !bytes.Equal(got, rtcpWire) {
		t.Errorf("SRTCP\n%x\nwant\n%x", got, rtcpWire)
	}
}

// TestKnownAnswer: what our Encrypter puts on the wire from a master key
// is, byte for byte, what the reference computes, for every suite — and
// the Decrypter opens the reference's packet.
func TestKnownAnswer(t *testing.T) {
	mk256 := unhex(t, "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6")
	mk128 := unhex(t, "E1F97A0D3E018BE0D64FA32C06DE4139")
	salt14 := unhex(t, "0EC675AD498AFEEBB6960B3AABE6")
	rtpPlain := append(unhex(t, "800f1234decafbadcafebabe"), bytes.Repeat([]byte{0xab}, 16)...)
	rtcpPlain := rtcpPacket(0xcafebabe)
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			mk := mk128
			if s.KeyLen() == 32 {
				mk = mk256
			}
			ms := salt14[:s.SaltLen()]
			var wantRTP, wantRTCP []byte
			switch s {
			case AEADAES128GCM, AEADAES256GCM:
				wantRTP = refSRTPGCM(refKDF(mk, ms, 0, len(mk)), refKDF(mk, ms, 2, 12), rtpPlain)
				wantRTCP = refSRTCPGCM(refKDF(mk, ms, 3, len(mk)), refKDF(mk, ms, 5, 12), rtcpPlain, 1)
			default:
				wantRTP = refSRTPCM(mk, ms, s.RTPOverhead(), rtpPlain)
				wantRTCP = refSRTCPCM(mk, ms, rtcpPlain, 1)
			}
			c := Crypto{Tag: 1, Suite: s, Keys: []Key{{Key: mk, Salt: ms}}}
			e, err := NewEncrypter(c)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := e.EncryptRTP(nil, rtpPlain); !bytes.Equal(got, wantRTP) {
				t.Errorf("SRTP\n%x\nwant\n%x", got, wantRTP)
			}
			if got, _ := e.EncryptRTCP(nil, rtcpPlain); !bytes.Equal(got, wantRTCP) {
				t.Errorf("SRTCP\n%x\nwant\n%x", got, wantRTCP)
			}
			d, _ := NewDecrypter(c)
			if got, err := d.DecryptRTP(nil, wantRTP); err != nil || !bytes.Equal(got, rtpPlain) {
				t.Errorf("decrypting the reference SRTP: %v", err)
			}
			if got, err := d.DecryptRTCP(nil, wantRTCP); err != nil || !bytes.Equal(got, rtcpPlain) {
				t.Errorf("decrypting the reference SRTCP: %v", err)
			}
		})
	}
	// libsrtp's AES_CM_128_HMAC_SHA1_80 test packet, pinned.
	want := unhex(t, "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb")
	if got := refSRTPCM(mk128, salt14, 10, rtpPlain); !bytes.Equal(got, want) {
		t.Errorf("libsrtp vector\n%x\nwant\n%x", got, want)
	}
}
