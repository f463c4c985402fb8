// Package media anchors the RTP of a call in the appliance (DESIGN §4.7): a
// Pool hands out even RTP ports (RTCP on the odd port above) from the
// configured range, and a Relay, bound to two such pairs — one advertised to
// each leg — forwards RTP and RTCP between the caller and the callee.
//
// Relaying rules:
//
//   - A packet that arrives on leg A's RTP socket goes out of leg B's RTP
//     socket to leg B's peer, and the other way round; RTCP likewise on the
//     +1 sockets. Each side therefore receives from the very port advertised
//     to it (symmetric RTP, RFC 4961).
//   - A leg's peer is first the address its SDP gave (Leg.SetPeer). The
//     source of the first packet a leg's socket receives then becomes that
//     leg's peer (latching, for peers behind NAT), and packets from any other
//     source are dropped (counted in DroppedForeign). When RTP latches to a
//     host other than the one RTCP is aimed at, and RTCP has not latched
//     yet, RTCP is aimed at the latched host's RTP port + 1 until an RTCP
//     packet latches it. SetPeer with a different address re-arms latching;
//     SetPeer with the address already set (a session refresh) keeps the
//     latch.
//   - A packet is dropped and counted when there is nowhere to send it
//     (DroppedNoPeer), when it is not RTP/RTCP version 2 or is shorter than
//     a header or larger than MaxPacket (DroppedInvalid). An RTCP packet
//     that a peer multiplexes on its RTP port (RFC 5761 payload types
//     192–223) is forwarded out of the other leg's RTCP socket, since our
//     SDP never offers rtcp-mux.
//   - Lost counts RTP packets missing from the sequence numbers a leg's peer
//     sent, the way RFC 3550 §A.3 does (expected − received, so late packets
//     are forgiven); a new SSRC or a jump of more than 3000 starts a new
//     count that adds to the old.
//
// SRTP interworking (SDES, RFC 4568; keys from media/srtp): Leg.SetSRTP
// keys a leg whose peer speaks SRTP, nil leaving it plain, so that one leg
// may be SRTP and the other RTP, or both SRTP under different keys. What
// the leg's peer sends is opened with the session's Decrypter — RTP as
// SRTP, RTCP (on the RTCP port or multiplexed on the RTP one) as SRTCP —
// before anything else: a packet that fails authentication or the replay
// check (or is too short for its tag) is dropped and counted in
// SRTPErrors, and never latches, so an SRTP leg latches only to a source
// holding the key; once latched, a packet from elsewhere is dropped as
// foreign without being opened. What goes to the leg's peer is protected
// with the session's Encrypter, in place in the poller's buffer, which has
// srtp.MaxOverhead bytes of headroom past MaxPacket for the trailer. Byte
// counters count packets as they travel, tag included. The session is an
// atomic.Pointer: a re-INVITE that re-keys swaps it between two packets.
// A leg's Decrypter is used by the poller serving that leg's pair, its
// Encrypter by the poller serving the other leg's pair — one goroutine
// each, as media/srtp requires (a pair's RTP and RTCP sockets share a
// poller, so the RTCP half of a context is never used by two goroutines
// either).
//
// The hot path does not allocate, SRTP included: the sockets are non-blocking descriptors
// served by one epoll goroutine per CPU (poller_linux.go), each reading into
// its own buffer, rather than one goroutine per socket — a call costs no
// goroutine, no stack and no read buffer. A socket belongs to one poller, so
// its packets are handled in order; the poller holds the socket's mutex
// (uncontended) while it handles a batch, which is what lets Close detach a
// relay synchronously. Peers are atomic.Pointer values that change only on
// SetPeer or latching, and the counters are atomics.
//
// Metrics: the relay has no per-packet hook. Stats gives a relay's counters,
// and Pool.Totals sums every relay the pool has handed out, closed ones
// included, which is what trunkline_rtp_packets_total{dir} needs — read at
// scrape time, so the hot path touches no shared cache line.
//
// Lifecycle: NewPool does no I/O. The pool binds a port pair the first time
// it hands it out and keeps it bound until Pool.Close, so a call neither
// binds nor closes sockets: Pool.NewRelay attaches two pairs and the relay
// forwards at once; Relay.Close detaches them (packets that reach a pair no
// call holds are read and dropped) and returns the ports to the pool.
// Pool.Close stops the pollers and closes the sockets. The relay is
// Linux-only (epoll).
//
// media never imports sbc, routing or config: it takes plain values
// (netip.Addr, port numbers, *slog.Logger, *srtp.Session).
package media
