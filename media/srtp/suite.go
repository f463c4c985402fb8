package srtp

import (
	"fmt"
	"strings"

	"github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto-suite of RFC 4568 §6.2, RFC 6188 and RFC 7714
// §12: the transform and the lengths of its master key, master salt and
// authentication tags.
type Suite uint8

// The suites pion/srtp implements. The zero Suite is invalid.
const (
	AESCM128HMACSHA1_80 Suite = iota + 1 // AES_CM_128_HMAC_SHA1_80 (RFC 4568)
	AESCM128HMACSHA1_32                  // AES_CM_128_HMAC_SHA1_32 (RFC 4568)
	AESCM256HMACSHA1_80                  // AES_256_CM_HMAC_SHA1_80 (RFC 6188)
	AESCM256HMACSHA1_32                  // AES_256_CM_HMAC_SHA1_32 (RFC 6188)
	AEADAES128GCM                        // AEAD_AES_128_GCM (RFC 7714)
	AEADAES256GCM                        // AEAD_AES_256_GCM (RFC 7714)
)

// suiteInfo is what a suite means to SDES and to pion.
type suiteInfo struct {
	name     string
	profile  srtp.ProtectionProfile
	keyLen   int // master key, bytes
	saltLen  int // master salt, bytes
	rtpTag   int // bytes appended to an RTP packet
	rtcpTail int // bytes appended to an RTCP packet: tag + E-flag/index
}

var suites = [...]suiteInfo{
	AESCM128HMACSHA1_80: {"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14, 10, 10 + 4},
	AESCM128HMACSHA1_32: {"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14, 4, 10 + 4},
	AESCM256HMACSHA1_80: {"AES_256_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14, 10, 10 + 4},
	AESCM256HMACSHA1_32: {"AES_256_CM_HMAC_SHA1_32", srtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14, 4, 10 + 4},
	AEADAES128GCM:       {"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16, 12, 16, 16 + 4},
	AEADAES256GCM:       {"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm, 32, 12, 16, 16 + 4},
}

// AllSuites lists every suite this package implements, strongest first: a
// sensible default for an offer.
var AllSuites = []Suite{AEADAES256GCM, AEADAES128GCM, AESCM256HMACSHA1_80, AESCM128HMACSHA1_80, AESCM256HMACSHA1_32, AESCM128HMACSHA1_32}

// MaxOverhead is the most an Encrypter adds to a packet, RTP or RTCP, for
// every suite, when its key has no MKI (keys from NewKey have none). A
// buffer of len(pkt)+MaxOverhead is always enough to encrypt pkt in place.
const MaxOverhead = 16 + 4

// ParseSuite returns the suite SDP names name. Names are matched without
// regard to case, since some endpoints lowercase them.
func ParseSuite(name string) (Suite, error) {
	for s := Suite(1); int(s) < len(suites); s++ {
		if strings.EqualFold(name, suites[s].name) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownSuite, name)
}

// Valid reports whether s is one of the suites above.
func (s Suite) Valid() bool { return s > 0 && int(s) < len(suites) }

// String returns the suite's SDP name, AES_CM_128_HMAC_SHA1_80 for instance.
func (s Suite) String() string {
	if !s.Valid() {
		return fmt.Sprintf("Suite(%d)", uint8(s))
	}
	return suites[s].name
}

// KeyLen is the length of the suite's master key in bytes.
func (s Suite) KeyLen() int { return s.info().keyLen }

// SaltLen is the length of the suite's master salt in bytes.
func (s Suite) SaltLen() int { return s.info().saltLen }

// RTPOverhead is how many bytes the suite adds to an RTP packet (the
// authentication tag), not counting an MKI.
func (s Suite) RTPOverhead() int { return s.info().rtpTag }

// RTCPOverhead is how many bytes the suite adds to an RTCP packet (E flag,
// SRTCP index and authentication tag), not counting an MKI.
func (s Suite) RTCPOverhead() int { return s.info().rtcpTail }

func (s Suite) info() suiteInfo {
	if !s.Valid() {
		return suiteInfo{}
	}
	return suites[s]
}
