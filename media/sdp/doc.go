// Package sdp rewrites the SDP bodies a B2BUA relays between its two legs
// when it anchors the media (DESIGN §4.6–4.7): each leg sees the appliance's
// origin, address and port, never the other side's.
//
// Rewrite takes an offer or an answer from one leg and returns the body for
// the other leg:
//
//   - o= becomes the appliance's: the Origin given (username, session id and
//     version, which the caller keeps per leg and bumps when the SDP it sends
//     to that leg changes) and the advertised address.
//   - Every c= line, session and media level, becomes the advertised address,
//     except a c= with the unspecified address (0.0.0.0 or ::, the RFC 2543
//     hold), which is kept so that the far side sees the hold.
//   - The anchored stream is the first audio m= line with a non-zero port and
//     an RTP profile (RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF); its port
//     becomes the relay's. Every other m= line (video, a second audio,
//     image/T.38, ...) is declined with port 0, as RFC 3264 §6 allows. No
//     such audio line: ErrNoAudio.
//   - Codecs, a=rtpmap, a=fmtp, a=ptime, direction attributes and everything
//     else pass unchanged, except what describes the other side's
//     transport: ICE (a=candidate, a=ice-*, a=remote-candidates,
//     a=end-of-candidates), a=rtcp and a=rtcp-mux, and a=group:BUNDLE are
//     dropped. Without a=rtcp the far side sends RTCP to our port + 1 (RFC
//     3605), which is where the relay listens; without rtcp-mux it keeps
//     RTCP off the RTP port.
//
// SRTP: RewriteWith, given RewriteOptions, terminates SDES (RFC 4568) per
// hop, as the relay's Leg.SetSRTP does for the packets. The body's
// a=crypto lines are never copied to the other leg — at any level, on any
// m= line — since a key belongs to one hop. With RewriteOptions.SRTP (our
// lines for that leg, from srtp.Offer or srtp.Negotiate) the audio stream
// goes as RTP/SAVP, or RTP/SAVPF when the body's profile was AVPF or SAVPF,
// and carries our a=crypto lines; without, as RTP/AVP (RTP/AVPF) with none.
// Declined streams keep their profile. Rewrite and RewriteMedia instead
// pass the body's profile and a=crypto lines unchanged: SRTP end to end,
// which the relay forwards untouched when no leg is keyed.
//
// Every form also returns what the body says of the peer's audio stream
// (Media): its connection address (media level over session level) and
// port, its RTCP address (a=rtcp, else port + 1), its direction, its
// profile as received, and its a=crypto values in order, for the caller to
// negotiate (srtp.Negotiate) or read (srtp.ParseCrypto). On an RFC 2543
// hold the address is invalid: the caller keeps the previous peer.
// a=crypto at session level, which RFC 4568 does not define, is ignored.
//
// Parsing is github.com/pion/sdp/v3's, so the SDP must follow RFC 4566's
// line order. Media lines pion does not know (m=image ... udptl t38) are
// still accepted, and declined. A body that does not parse is ErrMalformed;
// a connection address that is a host name or multicast is ErrUnsupported.
// The caller answers all three with 488 Not Acceptable Here.
package sdp
