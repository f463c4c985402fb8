package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

var (
	ours   = netip.MustParseAddr("203.0.113.10")
	ours6  = netip.MustParseAddr("2001:db8:5bc::1")
	origin = Origin{Username: "trunkline", SessionID: 42, Version: 7}
)

func TestRewrite(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		m    Media
	}{
		{
			name: "Asterisk offer",
			in:   asteriskOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Asterisk
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 0 8 101
				a=rtpmap:0 PCMU/8000
				a=rtpmap:8 PCMA/8000
				a=rtpmap:101 telephone-event/8000
				a=fmtp:101 0-16
				a=ptime:20
				a=maxptime:150
				a=sendrecv`,
			m: Media{RTP: ap("198.51.100.20:17234"), RTCP: ap("198.51.100.20:17235"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "FreeSWITCH answer with a=rtcp",
			in:   freeswitchAnswer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=FreeSWITCH
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 9 101 13
				a=rtpmap:9 G722/8000
				a=rtpmap:101 telephone-event/8000
				a=fmtp:101 0-16
				a=rtpmap:13 CN/8000
				a=ptime:20`,
			m: Media{RTP: ap("203.0.113.50:24562"), RTCP: ap("203.0.113.50:24563"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "ICE, rtcp-mux and BUNDLE dropped",
			in:   iceOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=LiveKit
				c=IN IP4 203.0.113.10
				t=0 0
				a=msid-semantic: WMS *
				m=audio 20000 RTP/AVP 111 0 8 101
				a=mid:0
				a=rtpmap:111 opus/48000/2
				a=fmtp:111 minptime=10;useinbandfec=1
				a=rtpmap:0 PCMU/8000
				a=rtpmap:8 PCMA/8000
				a=rtpmap:101 telephone-event/8000
				a=ssrc:1001 cname:livekit
				a=sendrecv`,
			m: Media{RTP: ap("192.0.2.80:31000"), RTCP: ap("192.0.2.80:31000"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "RFC 2543 hold keeps 0.0.0.0, no peer",
			in:   holdOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Z
				c=IN IP4 0.0.0.0
				t=0 0
				m=audio 20000 RTP/AVP 0 101
				a=rtpmap:0 PCMU/8000
				a=rtpmap:101 telephone-event/8000
				a=fmtp:101 0-15
				a=sendonly`,
			m: Media{Direction: SendOnly, Proto: "RTP/AVP"},
		},
		{
			name: "RFC 3264 hold",
			in:   sendonlyOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Asterisk
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 0
				a=rtpmap:0 PCMU/8000
				a=sendonly`,
			m: Media{RTP: ap("198.51.100.20:17234"), RTCP: ap("198.51.100.20:17235"), Direction: SendOnly, Proto: "RTP/AVP"},
		},
		{
			name: "IPv6 peer, IPv4 appliance",
			in:   ipv6Offer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=-
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 8 0
				a=rtpmap:8 PCMA/8000
				a=rtpmap:0 PCMU/8000
				a=ptime:20`,
			m: Media{RTP: ap("[2001:db8::10]:40000"), RTCP: ap("[2001:db8::10]:40001"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "a=rtcp on another host, media c= wins",
			in:   rtcpOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=SBC
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 18 101
				c=IN IP4 203.0.113.10
				a=rtpmap:18 G729/8000
				a=fmtp:18 annexb=no
				a=rtpmap:101 telephone-event/8000
				a=recvonly`,
			m: Media{RTP: ap("198.51.100.2:50000"), RTCP: ap("198.51.100.3:50011"), Direction: RecvOnly, Proto: "RTP/AVP"},
		},
		{
			name: "video declined",
			in:   videoOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Talk
				c=IN IP4 203.0.113.10
				b=AS:380
				t=0 0
				a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
				m=audio 20000 RTP/AVP 96 0 8 101
				a=rtpmap:96 opus/48000/2
				a=fmtp:96 useinbandfec=1
				a=rtpmap:101 telephone-event/8000
				m=video 0 RTP/AVP 96 97
				c=IN IP4 203.0.113.10
				b=AS:300
				a=rtpmap:96 VP8/90000
				a=rtpmap:97 H264/90000
				a=fmtp:97 profile-level-id=42801F
				a=rtcp-fb:* ccm fir`,
			m: Media{RTP: ap("198.51.100.30:7078"), RTCP: ap("198.51.100.30:7079"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "T.38 declined",
			in:   t38Offer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=-
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 8
				a=rtpmap:8 PCMA/8000
				m=image 0 udptl t38
				a=T38FaxVersion:0
				a=T38FaxRateManagement:transferredTCF`,
			m: Media{RTP: ap("198.51.100.40:6000"), RTCP: ap("198.51.100.40:6001"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "first live audio anchored, others declined",
			in:   declinedFirstOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=-
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 0 RTP/AVP 0
				m=audio 20000 RTP/SAVP 0
				a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
				m=audio 0 RTP/AVP 8`,
			m: Media{RTP: ap("198.51.100.50:5004"), RTCP: ap("198.51.100.50:5005"), Direction: SendRecv, Proto: "RTP/SAVP",
				Crypto: []string{"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, m, err := RewriteMedia([]byte(tt.in), origin, ours, 20000)
			if err != nil {
				t.Fatal(err)
			}
			if want := crlf(tt.want); string(out) != want {
				t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
			}
			if !reflect.DeepEqual(m, tt.m) {
				t.Errorf("media = %+v, want %+v", m, tt.m)
			}
			_, peer, err := Rewrite([]byte(tt.in), origin, ours, 20000)
			if err != nil || peer != tt.m.RTP {
				t.Errorf("Rewrite peer = %v, %v; want %v", peer, err, tt.m.RTP)
			}
		})
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestRewriteIPv6Appliance(t *testing.T) {
	out, peer, err := Rewrite([]byte(holdOffer), Origin{SessionID: 1, Version: 2}, ours6, 30000)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"o=- 1 2 IN IP6 2001:db8:5bc::1\r\n",
		"c=IN IP4 0.0.0.0\r\n", // the hold stays as the peer wrote it
		"m=audio 30000 RTP/AVP 0 101\r\n",
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("no %q in\n%s", line, out)
		}
	}
	if peer.IsValid() {
		t.Errorf("peer %v on hold, want invalid", peer)
	}
	out, _, err = Rewrite([]byte(asteriskOffer), Origin{SessionID: 1, Version: 2}, ours6, 30000)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "c=IN IP6 2001:db8:5bc::1\r\n") {
		t.Errorf("no IPv6 c= in\n%s", out)
	}
}

// Bodies with LF line ends, as some endpoints send, are taken; the output is
// CRLF.
func TestRewriteLF(t *testing.T) {
	lf := strings.ReplaceAll(asteriskOffer, "\r\n", "\n")
	out, peer, err := Rewrite([]byte(lf), origin, ours, 20000)
	if err != nil {
		t.Fatal(err)
	}
	if peer != ap("198.51.100.20:17234") || !strings.HasPrefix(string(out), "v=0\r\no=trunkline") {
		t.Errorf("peer %v, out\n%q", peer, out)
	}
}

// Rewriting our own output again points at us: the B2BUA's two rewrites
// compose.
func TestRewriteTwice(t *testing.T) {
	for _, f := range fixtures {
		out, m1, err := RewriteMedia([]byte(f), origin, ours, 20000)
		if err != nil {
			t.Fatal(err)
		}
		again, m2, err := RewriteMedia(out, Origin{Username: "x", SessionID: 9, Version: 9}, ours6, 30000)
		if err != nil {
			t.Fatalf("rewriting\n%s\nagain: %v", out, err)
		}
		if m1.RTP.IsValid() && m2.RTP != netip.AddrPortFrom(ours, 20000) {
			t.Errorf("second rewrite's peer %v, want %v:20000", m2.RTP, ours)
		}
		if m1.Direction != m2.Direction {
			t.Errorf("direction %v became %v", m1.Direction, m2.Direction)
		}
		if strings.Contains(string(again), "198.51.100") || strings.Contains(string(again), "203.0.113.50") {
			t.Errorf("a peer address leaks:\n%s", again)
		}
	}
}

func TestRewriteErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"empty", "", ErrMalformed},
		{"not SDP", "hello world", ErrMalformed},
		{"no version", strings.TrimPrefix(asteriskOffer, "v=0\r\n"), ErrMalformed},
		{"bad port", strings.Replace(asteriskOffer, "m=audio 17234", "m=audio 17x34", 1), ErrMalformed},
		{"port out of range", strings.Replace(asteriskOffer, "m=audio 17234", "m=audio 70000", 1), ErrMalformed},
		{"attribute before t=", strings.Replace(asteriskOffer, "t=0 0\r\n", "a=sendrecv\r\nt=0 0\r\n", 1), ErrMalformed},
		{"no connection address", strings.Replace(asteriskOffer, "c=IN IP4 198.51.100.20\r\n", "", 1), ErrMalformed},
		{"host name", strings.Replace(asteriskOffer, "c=IN IP4 198.51.100.20", "c=IN IP4 pbx.example.com", 1), ErrUnsupported},
		{"multicast", strings.Replace(asteriskOffer, "c=IN IP4 198.51.100.20", "c=IN IP4 224.2.1.1/127", 1), ErrUnsupported},
		{"multicast without ttl", strings.Replace(asteriskOffer, "c=IN IP4 198.51.100.20", "c=IN IP4 224.2.1.1", 1), ErrUnsupported},
		{"no media", crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0"), ErrNoAudio},
		{"video only", crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=video 5000 RTP/AVP 96"), ErrNoAudio},
		{"audio declined", strings.Replace(asteriskOffer, "m=audio 17234", "m=audio 0", 1), ErrNoAudio},
		{"DTLS-SRTP only", strings.Replace(asteriskOffer, "RTP/AVP", "UDP/TLS/RTP/SAVPF", 1), ErrNoAudio},
		{"T.38 only", crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=image 6000 udptl t38"), ErrNoAudio},
		{"unknown media hiding a line", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=x\rm=image 1 udptl t38\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", ErrMalformed},
		{"too large", asteriskOffer + strings.Repeat("a=x\r\n", MaxSize/5), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, peer, err := Rewrite([]byte(tt.in), origin, ours, 20000)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if out != nil || peer.IsValid() {
				t.Errorf("out %q, peer %v with an error", out, peer)
			}
		})
	}
}

func TestRewriteArguments(t *testing.T) {
	body := []byte(asteriskOffer)
	for _, tt := range []struct {
		name string
		o    Origin
		addr netip.Addr
		port int
	}{
		{"no address", origin, netip.Addr{}, 20000},
		{"unspecified address", origin, netip.IPv4Unspecified(), 20000},
		{"port 0", origin, ours, 0},
		{"port too large", origin, ours, 65536},
		{"username with a space", Origin{Username: "trunk line"}, ours, 20000},
		{"username with CRLF", Origin{Username: "a\r\nb=x"}, ours, 20000},
	} {
		if _, _, err := Rewrite(body, tt.o, tt.addr, tt.port); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	// A v4-mapped address is written as IPv4.
	out, _, err := Rewrite(body, origin, netip.MustParseAddr("::ffff:203.0.113.10"), 20000)
	if err != nil || !strings.Contains(string(out), "c=IN IP4 203.0.113.10\r\n") {
		t.Errorf("v4-mapped address: %v\n%s", err, out)
	}
}

func TestMediaHold(t *testing.T) {
	for _, tt := range []struct {
		m    Media
		hold bool
	}{
		{Media{RTP: ap("192.0.2.1:4000"), Direction: SendRecv}, false},
		{Media{RTP: ap("192.0.2.1:4000"), Direction: RecvOnly}, false},
		{Media{RTP: ap("192.0.2.1:4000"), Direction: SendOnly}, true},
		{Media{RTP: ap("192.0.2.1:4000"), Direction: Inactive}, true},
		{Media{Direction: SendRecv}, true},
	} {
		if got := tt.m.Hold(); got != tt.hold {
			t.Errorf("%+v.Hold() = %v, want %v", tt.m, got, tt.hold)
		}
	}
}

// Session-level direction applies when the stream has none.
func TestRewriteSessionDirection(t *testing.T) {
	in := crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=inactive\nm=audio 5000 RTP/AVP 0")
	_, m, err := RewriteMedia([]byte(in), origin, ours, 20000)
	if err != nil || m.Direction != Inactive {
		t.Errorf("direction %v, %v; want inactive", m.Direction, err)
	}
}

func FuzzRewrite(f *testing.F) {
	for _, s := range fixtures {
		f.Add([]byte(s))
		f.Add([]byte(strings.ReplaceAll(s, "\r\n", "\n")))
	}
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=image 0 udptl\r\nm=audio 1 RTP/AVP\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, m, err := RewriteMedia(body, origin, ours, 20000)
		if err != nil {
			if out != nil || m.RTP.IsValid() {
				t.Fatalf("output with an error: %q, %v", out, m)
			}
			return
		}
		// What we send parses again, as pion/sdp and as Rewrite reads it,
		// with our address and port on the audio stream.
		var sd psdp.SessionDescription
		if err := sd.Unmarshal(substituteOnly(out)); err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, out)
		}
		_, m2, err := RewriteMedia(out, origin, ours, 20000)
		if err != nil {
			t.Fatalf("output does not rewrite: %v\n%q", err, out)
		}
		if m.RTP.IsValid() && m2.RTP != netip.AddrPortFrom(ours, 20000) {
			t.Fatalf("output's peer %v, want %v:20000\n%q", m2.RTP, ours, out)
		}
		if sd.Origin.UnicastAddress != ours.String() || sd.Origin.SessionVersion != origin.Version {
			t.Fatalf("output's origin %+v", sd.Origin)
		}
	})
}

// substituteOnly is the body pion/sdp parses: with stand-ins for the media
// lines it does not know.
func substituteOnly(body []byte) []byte {
	b, _, _ := substitute(body)
	return b
}

func BenchmarkRewrite(b *testing.B) {
	for _, bm := range []struct {
		name string
		body string
	}{
		{"asterisk", asteriskOffer},
		{"ice", iceOffer},
		{"video", videoOffer},
	} {
		body := []byte(bm.body)
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Rewrite(body, origin, ours, 20000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
