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
//     else pass unchanged (a=crypto included: SRTP passes the relay end to
//     end), except what describes the other side's transport: ICE
//     (a=candidate, a=ice-*, a=remote-candidates, a=end-of-candidates),
//     a=rtcp and a=rtcp-mux, and a=group:BUNDLE are dropped. Without a=rtcp
//     the far side sends RTCP to our port + 1 (RFC 3605), which is where the
//     relay listens; without rtcp-mux it keeps RTCP off the RTP port.
//
// Rewrite also returns where the peer receives: the audio's connection
// address (media level over session level) and port, its RTCP address
// (a=rtcp, else port + 1) and direction. On an RFC 2543 hold the address is
// invalid: the caller keeps the previous peer.
//
// Parsing is github.com/pion/sdp/v3's, so the SDP must follow RFC 4566's
// line order. Media lines pion does not know (m=image ... udptl t38) are
// still accepted, and declined. A body that does not parse is ErrMalformed;
// a connection address that is a host name or multicast is ErrUnsupported.
// The caller answers all three with 488 Not Acceptable Here.
package sdp
