// Package srtp interworks an SRTP call leg with a plain RTP one (DESIGN
// §4.7): SDES key exchange (RFC 4568) in the SDP, and SRTP/SRTCP protect
// and unprotect on the relay's packet path, over github.com/pion/srtp/v3.
//
// SDP side (pure functions, no I/O):
//
//   - ParseCrypto and Crypto.String read and write the value of an
//     a=crypto attribute: "tag suite inline:<base64 key||salt>[|lifetime]
//     [|MKI:length][;inline:...] [session-params]". Suites: the RFC 4568
//     AES_CM_128_HMAC_SHA1_80/_32, RFC 6188's AES_256_CM_HMAC_SHA1_80/_32
//     and RFC 7714's AEAD_AES_128_GCM/AEAD_AES_256_GCM. Errors wrap
//     ErrMalformed, ErrUnknownSuite or ErrUnsupported.
//   - NewKey, NewCrypto and Offer make fresh keys (crypto/rand) for our own
//     lines; Negotiate answers a peer's offer: the first line, in the
//     peer's order, with a suite we enable and parameters we can honour,
//     answered with the same tag and a fresh key of ours. No line fits:
//     ErrNoCommonSuite. All four errors mean 488 Not Acceptable Here.
//   - Lifetimes are parsed and kept but not enforced (pion stops at 2^48
//     packets per key); several keys with MKIs are accepted from a peer.
//     KDR, FEC_ORDER, FEC_KEY, UNAUTHENTICATED_SRTP and unknown session
//     parameters make a line unusable (Usable); UNENCRYPTED_SRTP,
//     UNENCRYPTED_SRTCP and WSH (a wider replay window) are honoured.
//
// Packet side: in SDES each side's line carries the key it sends with, so
// for a leg NewSession(local, remote) builds an Encrypter from our line
// (what we send to the peer) and a Decrypter from the peer's (what it sends
// us). A Decrypter rejects replays with pion's default 64-packet window.
// Encrypt and decrypt work in place or into a caller buffer and allocate
// nothing per packet (TestZeroAllocs, the benchmarks); encryption needs
// room for RTPOverhead/RTCPOverhead (at most MaxOverhead) more bytes.
// Decrypt errors are the bare sentinels ErrAuth, ErrReplay and ErrPacket,
// for the relay to count by comparison; the packet is then dropped. One
// exception to zero allocations: pion wraps a GCM authentication failure
// with fmt.Errorf, so rejecting a forged GCM packet allocates.
//
// Concurrency: the RTP and the RTCP state of an Encrypter or Decrypter
// are separate pion contexts, so the relay's RTP and RTCP goroutines may
// use one at the same time; each half must be used by one goroutine at a
// time.
//
// Lifecycle: constructors do no I/O and hold no goroutine; there is nothing
// to close. Re-keying (a re-INVITE with new lines) is a new Session.
//
// srtp never imports sbc, routing, config or sipgo: it takes and returns
// strings and byte slices.
package srtp
