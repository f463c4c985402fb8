package srtp

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/replaydetector"
)

// ReplayWindow is the replay window of a Decrypter, in packets, unless the
// peer's line asks for a larger one with WSH: pion/srtp's session default.
const ReplayWindow = 64

// maxReplayWindow bounds what a peer's WSH can make us keep per SSRC.
const maxReplayWindow = 4096

// Limits of RFC 3711 §9.2 on the packets one master key may protect.
const (
	maxSRTPIndex  = 1<<48 - 1
	maxSRTCPIndex = 1<<31 - 1
)

// Encrypter protects what we send to an SRTP peer: RTP into SRTP and RTCP
// into SRTCP, under our own key (the a=crypto line we sent).
//
// The RTP methods and the RTCP methods have separate state and may run on
// two goroutines at once; each pair must be called from one goroutine at a
// time, as the relay's one-goroutine-per-socket design does.
type Encrypter struct {
	suite    Suite
	mkiLen   int
	rtp      *srtp.Context
	rtcp     *srtp.Context
	rtpHdr   rtp.Header
	rtcpHdr  rtcp.Header
	rtpOver  int
	rtcpOver int
}

// Decrypter checks and opens what an SRTP peer sends us, under the peer's
// key (the a=crypto line it sent), rejecting replays within the replay
// window. Concurrency is as for Encrypter.
type Decrypter struct {
	suite Suite
	rtp   *srtp.Context
	rtcp  *srtp.Context
	// rtpReplayed and rtcpReplayed are set by the replay windows when they
	// turn a packet down: pion's own replay error is unexported.
	rtpReplayed  bool
	rtcpReplayed bool
	rtpHdr       rtp.Header
	rtcpHdr      rtcp.Header
}

// Session is the SRTP state of one call leg: In opens what the leg's peer
// sends, Out protects what we send it.
type Session struct {
	In  *Decrypter
	Out *Encrypter
}

// NewSession keys a leg: local is the a=crypto line we sent (our offer or
// answer), remote the one the peer sent.
func NewSession(local, remote Crypto) (*Session, error) {
	out, err := NewEncrypter(local)
	if err != nil {
		return nil, err
	}
	in, err := NewDecrypter(remote)
	if err != nil {
		return nil, err
	}
	return &Session{In: in, Out: out}, nil
}

// NewEncrypter returns the Encrypter for our line c, keyed with its first
// key (and that key's MKI, if any). It does no I/O.
func NewEncrypter(c Crypto) (*Encrypter, error) {
	if err := Usable(c); err != nil {
		return nil, err
	}
	k := c.Keys[0]
	opts := contextOptions(c)
	if k.MKILen > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(k.mkiBytes()))
	}
	e := &Encrypter{
		suite:    c.Suite,
		mkiLen:   k.MKILen,
		rtpOver:  c.Suite.RTPOverhead() + k.MKILen,
		rtcpOver: c.Suite.RTCPOverhead() + k.MKILen,
	}
	var err error
	if e.rtp, err = srtp.CreateContext(k.Key, k.Salt, c.Suite.info().profile, opts...); err != nil {
		return nil, fmt.Errorf("srtp: %s: %w", c.Suite, err)
	}
	if e.rtcp, err = srtp.CreateContext(k.Key, k.Salt, c.Suite.info().profile, opts...); err != nil {
		return nil, fmt.Errorf("srtp: %s: %w", c.Suite, err)
	}
	return e, nil
}

// NewDecrypter returns the Decrypter for the peer's line c. With several
// keys (each with its MKI) a packet is opened with the key its MKI names.
// A WSH session parameter widens the replay window (up to 4096). It does
// no I/O.
func NewDecrypter(c Crypto) (*Decrypter, error) {
	if err := Usable(c); err != nil {
		return nil, err
	}
	window := uint(ReplayWindow)
	if v, ok := c.param("WSH"); ok {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil && n > uint64(window) {
			window = uint(min(n, maxReplayWindow))
		}
	}
	d := &Decrypter{suite: c.Suite}
	mk := func(maxIndex uint64, replayed *bool, withFactory func(func() replaydetector.ReplayDetector) srtp.ContextOption) (*srtp.Context, error) {
		factory := func() replaydetector.ReplayDetector {
			return newReplayWindow(replaydetector.New(window, maxIndex), replayed)
		}
		opts := append(contextOptions(c), withFactory(factory))
		if c.Keys[0].MKILen > 0 {
			opts = append(opts, srtp.MasterKeyIndicator(c.Keys[0].mkiBytes()))
		}
		ctx, err := srtp.CreateContext(c.Keys[0].Key, c.Keys[0].Salt, c.Suite.info().profile, opts...)
		if err != nil {
			return nil, fmt.Errorf("srtp: %s: %w", c.Suite, err)
		}
		for _, k := range c.Keys[1:] {
			if err := ctx.AddCipherForMKI(k.mkiBytes(), k.Key, k.Salt); err != nil {
				return nil, fmt.Errorf("srtp: %s: MKI %d: %w", c.Suite, k.MKI, err)
			}
		}
		return ctx, nil
	}
	var err error
	if d.rtp, err = mk(maxSRTPIndex, &d.rtpReplayed, srtp.SRTPReplayDetectorFactory); err != nil {
		return nil, err
	}
	if d.rtcp, err = mk(maxSRTCPIndex, &d.rtcpReplayed, srtp.SRTCPReplayDetectorFactory); err != nil {
		return nil, err
	}
	return d, nil
}

func contextOptions(c Crypto) []srtp.ContextOption {
	var opts []srtp.ContextOption
	if _, ok := c.param("UNENCRYPTED_SRTP"); ok {
		opts = append(opts, srtp.SRTPNoEncryption())
	}
	if _, ok := c.param("UNENCRYPTED_SRTCP"); ok {
		opts = append(opts, srtp.SRTCPNoEncryption())
	}
	return opts
}

// Suite returns the suite the Encrypter runs.
func (e *Encrypter) Suite() Suite { return e.suite }

// RTPOverhead is how many bytes EncryptRTP adds to a packet.
func (e *Encrypter) RTPOverhead() int { return e.rtpOver }

// RTCPOverhead is how many bytes EncryptRTCP adds to a packet.
func (e *Encrypter) RTCPOverhead() int { return e.rtcpOver }

// EncryptRTP protects the RTP packet pkt and returns the SRTP packet,
// written from the start of dst. dst may be pkt itself (in place) or a
// buffer that does not overlap it; with cap(dst) >= len(pkt)+RTPOverhead
// nothing is allocated, otherwise a new buffer is. An invalid RTP header is
// ErrPacket.
func (e *Encrypter) EncryptRTP(dst, pkt []byte) ([]byte, error) {
	if !isRTP(pkt) {
		return nil, ErrPacket
	}
	out, err := e.rtp.EncryptRTP(dst, pkt, &e.rtpHdr)
	if err != nil {
		return nil, encryptError(err)
	}
	return out, nil
}

// EncryptRTCP protects the RTCP packet (or compound packet) pkt and returns
// the SRTCP packet, with the buffer rules of EncryptRTP and RTCPOverhead.
func (e *Encrypter) EncryptRTCP(dst, pkt []byte) ([]byte, error) {
	if !isRTCP(pkt) {
		return nil, ErrPacket
	}
	out, err := e.rtcp.EncryptRTCP(dst, pkt, &e.rtcpHdr)
	if err != nil {
		return nil, encryptError(err)
	}
	return out, nil
}

func encryptError(err error) error {
	// What pion can refuse once the header parsed: the key's 2^48 (2^31)
	// packets are used up, and the leg must be re-keyed.
	return fmt.Errorf("srtp: encrypt: %w", err)
}

// Suite returns the suite the Decrypter runs.
func (d *Decrypter) Suite() Suite { return d.suite }

// DecryptRTP authenticates the SRTP packet pkt, checks it against the
// replay window and returns the RTP packet, written from the start of dst:
// dst may be pkt (in place) or a buffer that does not overlap it; with
// cap(dst) >= len(pkt) nothing is allocated. The error is one of the bare
// sentinels ErrAuth, ErrReplay or ErrPacket, and what dst holds (pkt, when
// in place) is then unspecified: drop the packet.
func (d *Decrypter) DecryptRTP(dst, pkt []byte) ([]byte, error) {
	if !isRTP(pkt) {
		return nil, ErrPacket
	}
	d.rtpReplayed = false
	out, err := d.rtp.DecryptRTP(dst, pkt, &d.rtpHdr)
	if err != nil {
		return nil, decryptError(err, d.rtpReplayed)
	}
	return out, nil
}

// DecryptRTCP is DecryptRTP for an SRTCP packet.
func (d *Decrypter) DecryptRTCP(dst, pkt []byte) ([]byte, error) {
	if !isRTCP(pkt) {
		return nil, ErrPacket
	}
	d.rtcpReplayed = false
	out, err := d.rtcp.DecryptRTCP(dst, pkt, &d.rtcpHdr)
	if err != nil {
		return nil, decryptError(err, d.rtcpReplayed)
	}
	return out, nil
}

func decryptError(err error, replayed bool) error {
	switch {
	case replayed:
		return ErrReplay
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag), errors.Is(err, srtp.ErrMKINotFound):
		return ErrAuth
	default: // too short for the trailer, header extension overrun, cryptex
		return ErrPacket
	}
}

// isRTP reports whether pkt can be an RTP packet: version 2 and a fixed
// header.
func isRTP(pkt []byte) bool { return len(pkt) >= 12 && pkt[0]>>6 == 2 }

// isRTCP reports whether pkt can be an RTCP packet: version 2 and a header
// with the sender's SSRC.
func isRTCP(pkt []byte) bool { return len(pkt) >= 8 && pkt[0]>>6 == 2 }

// newReplayWindow wraps pion's sliding window so that a rejection sets
// *replayed, keeping pion's allocation-free CheckAccepter path when the
// window offers it.
func newReplayWindow(d replaydetector.ReplayDetector, replayed *bool) replaydetector.ReplayDetector {
	if ca, ok := d.(replaydetector.CheckAccepter); ok {
		return &replayAccepter{replayCheck{d, replayed}, ca}
	}
	return &replayCheck{d, replayed}
}

type replayCheck struct {
	d        replaydetector.ReplayDetector
	replayed *bool
}

func (w *replayCheck) Check(seq uint64) (func() bool, bool) {
	accept, ok := w.d.Check(seq)
	if !ok {
		*w.replayed = true
	}
	return accept, ok
}

type replayAccepter struct {
	replayCheck
	ca replaydetector.CheckAccepter
}

var _ replaydetector.CheckAccepter = (*replayAccepter)(nil)

func (w *replayAccepter) CheckSeq(seq uint64) replaydetector.Token {
	t := w.ca.CheckSeq(seq)
	if !t.Passed() {
		*w.replayed = true
	}
	return t
}

func (w *replayAccepter) Accept(t replaydetector.Token) bool { return w.ca.Accept(t) }
