package srtp

import "errors"

// Errors of the SDP side. Parse and negotiation errors wrap one of the first
// four; the caller answers any of them with 488 Not Acceptable Here.
var (
	// ErrMalformed: an a=crypto value that does not follow RFC 4568's
	// grammar, or a key whose length does not fit its suite.
	ErrMalformed = errors.New("srtp: malformed crypto attribute")
	// ErrUnknownSuite: a crypto-suite this package does not implement.
	ErrUnknownSuite = errors.New("srtp: unknown crypto suite")
	// ErrUnsupported: a well-formed attribute asking for something pion/srtp
	// cannot do (a key derivation rate, FEC, unauthenticated SRTP, a key
	// method other than inline).
	ErrUnsupported = errors.New("srtp: unsupported crypto parameter")
	// ErrNoCommonSuite: none of the peer's crypto lines is acceptable.
	ErrNoCommonSuite = errors.New("srtp: no acceptable crypto attribute")
)

// Errors of the packet path. They are returned bare — never wrapped — so
// that the relay can count them with a comparison and no allocation.
var (
	// ErrAuth: the packet's authentication tag does not verify (or its MKI
	// names no key we hold): forged, corrupted, or keyed differently.
	ErrAuth = errors.New("srtp: authentication failed")
	// ErrReplay: the packet's index was already received, or is older than
	// the replay window.
	ErrReplay = errors.New("srtp: replayed packet")
	// ErrPacket: not an RTP (or RTCP) packet, or too short to hold the
	// header and the suite's trailer.
	ErrPacket = errors.New("srtp: malformed packet")
)
