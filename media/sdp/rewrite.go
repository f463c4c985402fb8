package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/trunkline/trunkline/media/srtp"
)

// The verdicts of Rewrite; each is answered with 488 Not Acceptable Here.
var (
	// ErrMalformed: the body is not an SDP session description.
	ErrMalformed = errors.New("sdp: malformed session description")
	// ErrNoAudio: no audio stream with an RTP profile and a port.
	ErrNoAudio = errors.New("sdp: no audio stream to relay")
	// ErrUnsupported: valid SDP the relay cannot serve (a host name or a
	// multicast group as the audio's connection address).
	ErrUnsupported = errors.New("sdp: unsupported session description")
)

// MaxSize is the largest body Rewrite takes.
const MaxSize = 64 << 10

// Origin is the o= line the appliance writes toward one leg (RFC 4566 §5.2):
// the same Username and SessionID for the life of the call, and a Version
// the caller increments whenever the SDP it sends to that leg changes.
type Origin struct {
	Username  string // "-" when empty
	SessionID uint64
	Version   uint64
}

// Direction is a stream's direction attribute (RFC 3264 §5.1).
type Direction string

// The directions.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Media is what an SDP says of the peer's audio stream.
type Media struct {
	// RTP is where the peer receives RTP; invalid on an RFC 2543 hold
	// (c=0.0.0.0), when the caller keeps the previous peer.
	RTP netip.AddrPort
	// RTCP is where it receives RTCP: a=rtcp (RFC 3605), else RTP's port + 1.
	RTCP netip.AddrPort
	// Direction of the audio stream (media level, else session level, else
	// sendrecv).
	Direction Direction
	// Proto is the audio stream's transport as received: RTP/AVP,
	// RTP/AVPF, RTP/SAVP or RTP/SAVPF.
	Proto string
	// Crypto holds the values of the audio stream's a=crypto attributes
	// (RFC 4568: the text after "a=crypto:"), in the body's order — for
	// srtp.Negotiate when the body is an offer, srtp.ParseCrypto when it
	// answers ours. They are reported whatever Proto says; a=crypto at
	// session level is not RFC 4568's and is ignored.
	Crypto []string
}

// SRTP reports whether the peer's audio stream is SRTP by its profile:
// RTP/SAVP or RTP/SAVPF.
func (m Media) SRTP() bool { return m.Proto == "RTP/SAVP" || m.Proto == "RTP/SAVPF" }

// Hold reports whether the SDP puts the stream on hold: the RFC 2543
// connection address 0.0.0.0, or RFC 3264's sendonly or inactive.
func (m Media) Hold() bool {
	return !m.RTP.IsValid() || m.Direction == SendOnly || m.Direction == Inactive
}

// RewriteOptions is what the appliance advertises to the leg a body goes
// to.
type RewriteOptions struct {
	Origin Origin     // the o= toward that leg
	Addr   netip.Addr // the appliance's address toward it, for o= and c=
	Port   int        // the relay's RTP port for that leg
	// SRTP are our a=crypto lines toward that leg (SDES, RFC 4568): those of
	// our offer in order of preference, or the one of our answer, each
	// keying what we send it. With any, the audio stream goes as RTP/SAVP
	// (RTP/SAVPF when the body's was AVPF or SAVPF) and carries them; with
	// none, as RTP/AVP (RTP/AVPF) without a=crypto.
	SRTP []srtp.Crypto
	// SRTPFor, when set, decides SRTP instead of SRTP, from what the body
	// says of the peer's audio stream (its profile and a=crypto lines): the
	// caller negotiates (an offer) or matches (an answer) with one parse of
	// the body. An error from it is returned as is.
	SRTPFor func(peer Media) ([]srtp.Crypto, error)
}

// Rewrite rewrites an offer or an answer for the other leg (see the package
// documentation): o= becomes o, every c= becomes addr (a hold's 0.0.0.0
// stays), the audio stream's port becomes port, other streams are declined.
// It returns the rewritten body and the peer's RTP address, invalid on an
// RFC 2543 hold. The body's profile and a=crypto lines pass unchanged: SRTP
// end to end, which the relay forwards as it is; RewriteWith terminates
// SRTP per leg instead.
func Rewrite(body []byte, o Origin, addr netip.Addr, port int) (out []byte, peer netip.AddrPort, err error) {
	out, m, err := RewriteMedia(body, o, addr, port)
	return out, m.RTP, err
}

// RewriteMedia is Rewrite, returning all it learnt of the peer's audio
// stream: RTP and RTCP addresses, direction, profile and a=crypto values.
func RewriteMedia(body []byte, o Origin, addr netip.Addr, port int) (out []byte, m Media, err error) {
	return rewrite(body, RewriteOptions{Origin: o, Addr: addr, Port: port}, true)
}

// RewriteWith rewrites an offer or an answer for the other leg as Rewrite
// does, with the profile and keys opts gives for that leg: the body's
// a=crypto lines never pass (SRTP keys are per hop), and the audio stream
// goes as SRTP with opts.SRTP, or as plain RTP without. It returns the
// rewritten body and what it learnt of the peer's audio stream, a=crypto
// values included, for the caller to key the relay's leg with srtp. The
// body's errors are Rewrite's; a line of opts.SRTP that media/srtp could
// not run, or two with one tag, is an error wrapping none of them (the
// caller's mistake, not the peer's).
func RewriteWith(body []byte, opts RewriteOptions) (out []byte, m Media, err error) {
	return rewrite(body, opts, false)
}

// rewrite does Rewrite (passSRTP: the body's profile and a=crypto lines
// pass) and RewriteWith.
func rewrite(body []byte, opts RewriteOptions, passSRTP bool) (out []byte, m Media, err error) {
	addr, port := opts.Addr.Unmap().WithZone(""), opts.Port
	if !addr.IsValid() || addr.IsUnspecified() {
		return nil, Media{}, fmt.Errorf("sdp: cannot advertise address %v", addr)
	}
	if port < 1 || port > 65535 {
		return nil, Media{}, fmt.Errorf("sdp: cannot advertise port %d", port)
	}
	user := opts.Origin.Username
	if user == "" {
		user = "-"
	}
	if strings.ContainsFunc(user, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, Media{}, fmt.Errorf("sdp: origin username %q holds a space or a control character", user)
	}
	if len(body) > MaxSize {
		return nil, Media{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(body), MaxSize)
	}

	sd, err := parse(body)
	if err != nil {
		return nil, Media{}, err
	}
	audio := slices.IndexFunc(sd.MediaDescriptions, anchorable)
	if audio < 0 {
		return nil, Media{}, ErrNoAudio
	}
	md := sd.MediaDescriptions[audio]
	if m, err = peerOf(sd, md); err != nil {
		return nil, Media{}, err
	}
	keys := opts.SRTP
	if opts.SRTPFor != nil {
		if keys, err = opts.SRTPFor(m); err != nil {
			return nil, Media{}, err
		}
	}
	crypto, err := cryptoAttributes(keys)
	if err != nil {
		return nil, Media{}, err
	}

	addrType := "IP4"
	if addr.Is6() {
		addrType = "IP6"
	}
	sd.Origin = psdp.Origin{
		Username:       user,
		SessionID:      opts.Origin.SessionID,
		SessionVersion: opts.Origin.Version,
		NetworkType:    "IN",
		AddressType:    addrType,
		UnicastAddress: addr.String(),
	}
	ours := func(c *psdp.ConnectionInformation) {
		if c == nil || isUnspecified(c) {
			return
		}
		c.NetworkType, c.AddressType = "IN", addrType
		c.Address = &psdp.Address{Address: addr.String()}
	}
	drop := otherTransport
	if !passSRTP {
		drop = func(a psdp.Attribute) bool { return otherTransport(a) || isCrypto(a) }
	}
	ours(sd.ConnectionInformation)
	sd.Attributes = slices.DeleteFunc(sd.Attributes, drop)
	for i, d := range sd.MediaDescriptions {
		ours(d.ConnectionInformation)
		d.Attributes = slices.DeleteFunc(d.Attributes, drop)
		d.MediaName.Port = psdp.RangedPort{Value: port}
		if i != audio {
			d.MediaName.Port.Value = 0
		}
	}
	if !passSRTP {
		md.MediaName.Protos = profile(m.Proto, len(crypto) > 0)
		md.Attributes = append(md.Attributes, crypto...)
	}
	out, err = sd.Marshal()
	if err != nil {
		return nil, Media{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return out, m, nil
}

// cryptoAttributes returns our a=crypto lines as attributes, after checking
// that they are usable and their tags distinct.
func cryptoAttributes(cs []srtp.Crypto) ([]psdp.Attribute, error) {
	attrs := make([]psdp.Attribute, 0, len(cs))
	for i, c := range cs {
		if err := srtp.Usable(c); err != nil {
			return nil, fmt.Errorf("sdp: our a=crypto line %d: %w", i+1, err)
		}
		if c.Tag < 0 || c.Tag > 999999999 || slices.ContainsFunc(cs[:i], func(o srtp.Crypto) bool { return o.Tag == c.Tag }) {
			return nil, fmt.Errorf("sdp: our a=crypto line %d: tag %d is out of range or given twice", i+1, c.Tag)
		}
		attrs = append(attrs, psdp.Attribute{Key: "crypto", Value: c.String()})
	}
	return attrs, nil
}

// profile is the transport of the audio stream we send: SAVP with SRTP,
// AVP without, with the feedback (F) of proto, the body's.
func profile(proto string, secure bool) []string {
	p := "AVP"
	if secure {
		p = "SAVP"
	}
	if strings.HasSuffix(proto, "F") {
		p += "F"
	}
	return []string{"RTP", p}
}

func isCrypto(a psdp.Attribute) bool { return strings.EqualFold(a.Key, "crypto") }

// rtpProfiles are the transports of a stream the relay anchors.
var rtpProfiles = []string{"RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF"}

// anchorable reports whether d is an audio stream the relay can carry.
func anchorable(d *psdp.MediaDescription) bool {
	return d.MediaName.Media == "audio" && d.MediaName.Port.Value != 0 &&
		slices.Contains(rtpProfiles, strings.Join(d.MediaName.Protos, "/"))
}

// peerOf reads where the peer receives the audio stream md of sd.
func peerOf(sd *psdp.SessionDescription, md *psdp.MediaDescription) (Media, error) {
	m := Media{Direction: SendRecv, Proto: strings.Join(md.MediaName.Protos, "/")}
	for _, a := range md.Attributes {
		if isCrypto(a) {
			m.Crypto = append(m.Crypto, a.Value)
		}
	}
	for _, attrs := range [][]psdp.Attribute{sd.Attributes, md.Attributes} { // media level last: it wins
		for _, a := range attrs {
			if d := Direction(strings.ToLower(a.Key)); a.Value == "" && (d == SendRecv || d == SendOnly || d == RecvOnly || d == Inactive) {
				m.Direction = d
			}
		}
	}
	c := md.ConnectionInformation
	if c == nil {
		c = sd.ConnectionInformation
	}
	if c == nil || c.Address == nil {
		return Media{}, fmt.Errorf("%w: no connection address for the audio stream", ErrMalformed)
	}
	ip, err := netip.ParseAddr(c.Address.Address)
	if err != nil || ip.IsMulticast() {
		return Media{}, fmt.Errorf("%w: audio connection address %q", ErrUnsupported, c.Address.Address)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() {
		return m, nil // RFC 2543 hold: no address
	}
	port := uint16(md.MediaName.Port.Value)
	m.RTP = netip.AddrPortFrom(ip, port)
	if port < 65535 {
		m.RTCP = netip.AddrPortFrom(ip, port+1)
	}
	if v, ok := md.Attribute("rtcp"); ok {
		if rtcp, ok := parseRTCP(v, ip); ok {
			m.RTCP = rtcp
		}
	}
	return m, nil
}

// parseRTCP parses the value of a=rtcp (RFC 3605): a port, optionally
// followed by "IN IP4|IP6 address". Without an address, the port is on ip.
func parseRTCP(v string, ip netip.Addr) (netip.AddrPort, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, false
	}
	if len(f) == 4 {
		a, err := netip.ParseAddr(f[3])
		if err != nil || a.IsUnspecified() || a.IsMulticast() {
			return netip.AddrPort{}, false
		}
		ip = a.Unmap()
	}
	return netip.AddrPortFrom(ip, uint16(port)), true
}

func isUnspecified(c *psdp.ConnectionInformation) bool {
	if c.Address == nil {
		return false
	}
	ip, err := netip.ParseAddr(c.Address.Address)
	return err == nil && ip.IsUnspecified()
}

// otherTransport reports whether a describes the sending side's own
// transport, which the relay replaces: ICE, a=rtcp, rtcp-mux and BUNDLE.
func otherTransport(a psdp.Attribute) bool {
	k := strings.ToLower(a.Key)
	switch {
	case k == "candidate", k == "remote-candidates", k == "end-of-candidates",
		strings.HasPrefix(k, "ice-"),
		k == "rtcp", k == "rtcp-mux", k == "rtcp-mux-only":
		return true
	case k == "group":
		sem, _, _ := strings.Cut(a.Value, " ")
		return strings.EqualFold(sem, "BUNDLE")
	}
	return false
}

// The media types and transport protocols pion/sdp parses. An m= line with
// another one (m=image 0 udptl t38) is parsed under a stand-in and restored,
// so that it can be declined instead of failing the whole body.
var (
	pionMedia  = []string{"audio", "video", "text", "application", "message"}
	pionProtos = []string{"UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP", "MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC"}
)

const (
	standInMedia = "application"
	standInProto = "UDP"
)

// standIn is an m= line parsed under a stand-in: its index among the m=
// lines and its own media type and protocol.
type standIn struct {
	index        int
	media, proto string
}

// parse parses body with pion/sdp, after standing in for the m= lines it
// does not know.
func parse(body []byte) (*psdp.SessionDescription, error) {
	body, standIns, lines := substitute(body)
	var sd psdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// pion/sdp takes a body that ends anywhere; v=, o=, s= and t= are
	// mandatory (RFC 4566 §5), and t= comes after the others.
	if len(sd.TimeDescriptions) == 0 {
		return nil, fmt.Errorf("%w: no v=, o=, s= and t= lines", ErrMalformed)
	}
	if len(sd.MediaDescriptions) != lines {
		return nil, fmt.Errorf("%w: m= lines out of place", ErrMalformed)
	}
	for _, s := range standIns {
		mn := &sd.MediaDescriptions[s.index].MediaName
		if mn.Media != standInMedia || !slices.Equal(mn.Protos, []string{standInProto}) {
			return nil, fmt.Errorf("%w: m= lines out of place", ErrMalformed)
		}
		mn.Media, mn.Protos = s.media, strings.Split(s.proto, "/")
	}
	return &sd, nil
}

// substitute returns body with every m= line of a media type or protocol
// pion/sdp refuses standing in as "application <port> UDP", the stand-ins,
// and the number of m= lines. It copies body only when it changes it.
func substitute(body []byte) ([]byte, []standIn, int) {
	var standIns []standIn
	lines := 0
	var out []byte // nil while nothing changed
	last := 0      // body[:last] is in out already
	for start := 0; start < len(body); {
		end := start + bytes.IndexAny(body[start:], "\r\n")
		if end < start {
			end = len(body)
		}
		if line := body[start:end]; bytes.HasPrefix(line, []byte("m=")) {
			if media, proto, mStart, pStart, ok := mediaTokens(line[2:]); ok {
				if !slices.Contains(pionMedia, media) || slices.ContainsFunc(strings.Split(proto, "/"), func(p string) bool { return !slices.Contains(pionProtos, p) }) {
					standIns = append(standIns, standIn{index: lines, media: media, proto: proto})
					mStart += start + 2
					pStart += start + 2
					out = append(out, body[last:mStart]...)
					out = append(out, standInMedia...)
					out = append(out, body[mStart+len(media):pStart]...)
					out = append(out, standInProto...)
					last = pStart + len(proto)
				}
			}
			lines++
		}
		start = end + 1
	}
	if out == nil {
		return body, nil, lines
	}
	return append(out, body[last:]...), standIns, lines
}

// mediaTokens finds the media type and the protocol of an m= line's value
// (the text after "m="), split the way pion/sdp splits fields: at single
// spaces or tabs, runs of them counting as one.
func mediaTokens(v []byte) (media, proto string, mediaAt, protoAt int, ok bool) {
	field := func(at int) (int, int) { // a field's end, and the start of the next
		end := at
		for end < len(v) && v[end] != ' ' && v[end] != '\t' {
			end++
		}
		next := end
		for next < len(v) && (v[next] == ' ' || v[next] == '\t') {
			next++
		}
		return end, next
	}
	mEnd, portAt := field(0)
	_, pAt := field(portAt)
	pEnd, _ := field(pAt)
	if mEnd == 0 || pEnd == pAt {
		return "", "", 0, 0, false
	}
	return string(v[:mEnd]), string(v[pAt:pEnd]), 0, pAt, true
}
