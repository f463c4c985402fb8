package sdp

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"

	"github.com/trunkline/trunkline/media/srtp"
)

// SDES samples: what phones and gateways send.
var (
	// A desk phone offering SRTP with two suites, keys with lifetime and
	// MKI.
	savpOffer = crlf(`
		v=0
		o=- 20080 20080 IN IP4 192.0.2.33
		s=SDP data
		c=IN IP4 192.0.2.33
		t=0 0
		m=audio 11780 RTP/SAVP 0 8 9 101
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:9 G722/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-15
		a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4
		a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4
		a=ptime:20
		a=sendrecv`)

	// A softphone with RTCP feedback and no SRTP.
	avpfOffer = crlf(`
		v=0
		o=alice 2817 1374 IN IP4 192.0.2.60
		s=Talk
		c=IN IP4 192.0.2.60
		t=0 0
		a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
		m=audio 7078 RTP/AVPF 96 0 8 101
		a=rtpmap:96 opus/48000/2
		a=fmtp:96 useinbandfec=1
		a=rtpmap:101 telephone-event/8000
		a=rtcp-fb:* trr-int 1000
		a=rtcp-fb:* ccm tmmbr`)

	// The same softphone with SDES and RTCP feedback, video too, RTCP
	// multiplexed.
	savpfOffer = crlf(`
		v=0
		o=bob 1900 678 IN IP4 192.0.2.61
		s=Talk
		c=IN IP4 192.0.2.61
		t=0 0
		m=audio 7080 RTP/SAVPF 96 0 101
		a=rtpmap:96 opus/48000/2
		a=rtpmap:101 telephone-event/8000
		a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
		a=crypto:2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==
		a=rtcp:7080
		a=rtcp-mux
		a=rtcp-fb:* trr-int 1000
		m=video 9078 RTP/SAVPF 96
		a=rtpmap:96 VP8/90000
		a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj`)

	// a=crypto at session level, which RFC 4568 does not define: ignored.
	sessionCryptoOffer = crlf(`
		v=0
		o=- 5 5 IN IP4 192.0.2.70
		s=-
		c=IN IP4 192.0.2.70
		t=0 0
		a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
		m=audio 9000 RTP/SAVP 0
		a=rtpmap:0 PCMU/8000`)
)

// srtpFixtures are the SDES samples, for the fuzz seeds and round trips.
var srtpFixtures = []string{savpOffer, avpfOffer, savpfOffer, sessionCryptoOffer}

// ourLines are the a=crypto lines the appliance offers a leg in the tests:
// fixed keys, so that the output is known.
var ourLines = []srtp.Crypto{
	{Tag: 1, Suite: srtp.AESCM128HMACSHA1_80, Keys: []srtp.Key{{Key: seq(0x10, 16), Salt: seq(0x20, 14)}}},
	{Tag: 2, Suite: srtp.AEADAES128GCM, Keys: []srtp.Key{{Key: seq(0x30, 16), Salt: seq(0x40, 12)}}},
}

func seq(from byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

func opts(lines ...srtp.Crypto) RewriteOptions {
	return RewriteOptions{Origin: origin, Addr: ours, Port: 20000, SRTP: lines}
}

func TestRewriteWith(t *testing.T) {
	crypto1 := "a=crypto:" + ourLines[0].String()
	crypto2 := "a=crypto:" + ourLines[1].String()
	tests := []struct {
		name string
		in   string
		srtp []srtp.Crypto
		want string
		m    Media
	}{
		{
			name: "plain to plain",
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
			name: "plain to SRTP",
			in:   asteriskOffer,
			srtp: ourLines,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Asterisk
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/SAVP 0 8 101
				a=rtpmap:0 PCMU/8000
				a=rtpmap:8 PCMA/8000
				a=rtpmap:101 telephone-event/8000
				a=fmtp:101 0-16
				a=ptime:20
				a=maxptime:150
				a=sendrecv
				` + crypto1 + `
				` + crypto2,
			m: Media{RTP: ap("198.51.100.20:17234"), RTCP: ap("198.51.100.20:17235"), Direction: SendRecv, Proto: "RTP/AVP"},
		},
		{
			name: "SRTP to plain",
			in:   savpOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=SDP data
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 0 8 9 101
				a=rtpmap:0 PCMU/8000
				a=rtpmap:8 PCMA/8000
				a=rtpmap:9 G722/8000
				a=rtpmap:101 telephone-event/8000
				a=fmtp:101 0-15
				a=ptime:20
				a=sendrecv`,
			m: Media{RTP: ap("192.0.2.33:11780"), RTCP: ap("192.0.2.33:11781"), Direction: SendRecv, Proto: "RTP/SAVP", Crypto: []string{
				"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
				"2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4",
			}},
		},
		{
			name: "SRTP to SRTP: our keys, not the peer's",
			in:   savpOffer,
			srtp: ourLines[:1],
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=SDP data
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/SAVP 0 8 9 101
				a=rtpmap:0 PCMU/8000
				a=rtpmap:8 PCMA/8000
				a=rtpmap:9 G722/8000
				a=rtpmap:101 telephone-event/8000
				a=fmtp:101 0-15
				a=ptime:20
				a=sendrecv
				` + crypto1,
			m: Media{RTP: ap("192.0.2.33:11780"), RTCP: ap("192.0.2.33:11781"), Direction: SendRecv, Proto: "RTP/SAVP", Crypto: []string{
				"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
				"2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4",
			}},
		},
		{
			name: "AVPF to SRTP keeps the feedback profile",
			in:   avpfOffer,
			srtp: ourLines[1:],
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Talk
				c=IN IP4 203.0.113.10
				t=0 0
				a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
				m=audio 20000 RTP/SAVPF 96 0 8 101
				a=rtpmap:96 opus/48000/2
				a=fmtp:96 useinbandfec=1
				a=rtpmap:101 telephone-event/8000
				a=rtcp-fb:* trr-int 1000
				a=rtcp-fb:* ccm tmmbr
				` + crypto2,
			m: Media{RTP: ap("192.0.2.60:7078"), RTCP: ap("192.0.2.60:7079"), Direction: SendRecv, Proto: "RTP/AVPF"},
		},
		{
			name: "AVPF to plain",
			in:   avpfOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Talk
				c=IN IP4 203.0.113.10
				t=0 0
				a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
				m=audio 20000 RTP/AVPF 96 0 8 101
				a=rtpmap:96 opus/48000/2
				a=fmtp:96 useinbandfec=1
				a=rtpmap:101 telephone-event/8000
				a=rtcp-fb:* trr-int 1000
				a=rtcp-fb:* ccm tmmbr`,
			m: Media{RTP: ap("192.0.2.60:7078"), RTCP: ap("192.0.2.60:7079"), Direction: SendRecv, Proto: "RTP/AVPF"},
		},
		{
			name: "SAVPF to plain: AVPF, no key of the video's either",
			in:   savpfOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Talk
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVPF 96 0 101
				a=rtpmap:96 opus/48000/2
				a=rtpmap:101 telephone-event/8000
				a=rtcp-fb:* trr-int 1000
				m=video 0 RTP/SAVPF 96
				a=rtpmap:96 VP8/90000`,
			m: Media{RTP: ap("192.0.2.61:7080"), RTCP: ap("192.0.2.61:7080"), Direction: SendRecv, Proto: "RTP/SAVPF", Crypto: []string{
				"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
				"2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==",
			}},
		},
		{
			name: "SAVPF to SRTP",
			in:   savpfOffer,
			srtp: ourLines,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=Talk
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/SAVPF 96 0 101
				a=rtpmap:96 opus/48000/2
				a=rtpmap:101 telephone-event/8000
				a=rtcp-fb:* trr-int 1000
				` + crypto1 + `
				` + crypto2 + `
				m=video 0 RTP/SAVPF 96
				a=rtpmap:96 VP8/90000`,
			m: Media{RTP: ap("192.0.2.61:7080"), RTCP: ap("192.0.2.61:7080"), Direction: SendRecv, Proto: "RTP/SAVPF", Crypto: []string{
				"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
				"2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==",
			}},
		},
		{
			name: "session-level crypto ignored and dropped",
			in:   sessionCryptoOffer,
			want: `
				v=0
				o=trunkline 42 7 IN IP4 203.0.113.10
				s=-
				c=IN IP4 203.0.113.10
				t=0 0
				m=audio 20000 RTP/AVP 0
				a=rtpmap:0 PCMU/8000`,
			m: Media{RTP: ap("192.0.2.70:9000"), RTCP: ap("192.0.2.70:9001"), Direction: SendRecv, Proto: "RTP/SAVP"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, m, err := RewriteWith([]byte(tt.in), opts(tt.srtp...))
			if err != nil {
				t.Fatal(err)
			}
			if want := crlf(tt.want); string(out) != want {
				t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
			}
			if !reflect.DeepEqual(m, tt.m) {
				t.Errorf("media = %+v, want %+v", m, tt.m)
			}
			if m.SRTP() != strings.Contains(tt.m.Proto, "SAVP") {
				t.Errorf("SRTP() = %v for %s", m.SRTP(), m.Proto)
			}
		})
	}
}

// Whatever the body, the peer's keys never reach the other leg, and the
// anchored stream carries exactly our lines under the profile they call
// for.
func TestRewriteWithNeverCopiesKeys(t *testing.T) {
	for _, f := range append(slices.Clone(fixtures), srtpFixtures...) {
		for _, lines := range [][]srtp.Crypto{nil, ourLines[:1], ourLines} {
			out, m, err := RewriteWith([]byte(f), opts(lines...))
			if err != nil {
				t.Fatal(err)
			}
			var sd psdp.SessionDescription
			if err := sd.Unmarshal(substituteOnly(out)); err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			if slices.ContainsFunc(sd.Attributes, isCrypto) {
				t.Errorf("session-level a=crypto in\n%s", out)
			}
			audio := slices.IndexFunc(sd.MediaDescriptions, anchorable)
			for i, d := range sd.MediaDescriptions {
				var got []string
				for _, a := range d.Attributes {
					if isCrypto(a) {
						got = append(got, a.Value)
					}
				}
				var want []string
				if i == audio {
					for _, c := range lines {
						want = append(want, c.String())
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("m= line %d: a=crypto %q, want %q in\n%s", i, got, want, out)
				}
			}
			proto := strings.Join(sd.MediaDescriptions[audio].MediaName.Protos, "/")
			wantProto := "RTP/AVP"
			if lines != nil {
				wantProto = "RTP/SAVP"
			}
			if strings.HasSuffix(m.Proto, "F") {
				wantProto += "F"
			}
			if proto != wantProto {
				t.Errorf("audio profile %s from %s with %d lines, want %s", proto, m.Proto, len(lines), wantProto)
			}
		}
	}
}

// An SRTP offer rewritten for the other leg with our lines can be answered
// there: the far side negotiates our lines, and the caller ours with its.
func TestRewriteWithNegotiates(t *testing.T) {
	// The caller's offer, toward the callee as SRTP with fresh keys of ours.
	toCallee, err := srtp.Offer([]srtp.Suite{srtp.AEADAES128GCM, srtp.AESCM128HMACSHA1_80})
	if err != nil {
		t.Fatal(err)
	}
	out, caller, err := RewriteWith([]byte(savpOffer), opts(toCallee...))
	if err != nil {
		t.Fatal(err)
	}
	// The caller's keys, for the A leg: we answer its first usable line.
	remoteA, localA, err := srtp.Negotiate(caller.Crypto, srtp.AllSuites, nil)
	if err != nil || remoteA.Tag != 1 || localA.Suite != srtp.AESCM128HMACSHA1_80 {
		t.Fatalf("negotiating the caller's offer: %v, %v, %v", remoteA, localA, err)
	}
	if _, err := srtp.NewSession(localA, remoteA); err != nil {
		t.Fatal(err)
	}
	// The callee reads our offer and answers it.
	_, callee, err := RewriteWith(out, opts())
	if err != nil {
		t.Fatal(err)
	}
	if callee.Proto != "RTP/SAVP" || len(callee.Crypto) != 2 {
		t.Fatalf("the callee sees %s with %q", callee.Proto, callee.Crypto)
	}
	remoteB, _, err := srtp.Negotiate(callee.Crypto, []srtp.Suite{srtp.AESCM128HMACSHA1_80}, nil)
	if err != nil || remoteB.Tag != 2 || !slices.Equal(remoteB.Keys[0].Key, toCallee[1].Keys[0].Key) {
		t.Fatalf("the callee negotiated %v, %v; want our tag 2", remoteB, err)
	}
}

func TestRewriteWithOptionErrors(t *testing.T) {
	bad := ourLines[0]
	bad.Keys = nil
	short := ourLines[0]
	short.Keys = []srtp.Key{{Key: seq(0, 15), Salt: seq(0, 14)}}
	for _, tt := range []struct {
		name  string
		lines []srtp.Crypto
		err   error
	}{
		{"no key", []srtp.Crypto{bad}, srtp.ErrMalformed},
		{"short key", []srtp.Crypto{short}, srtp.ErrMalformed},
		{"no suite", []srtp.Crypto{{Tag: 1, Keys: ourLines[0].Keys}}, srtp.ErrUnknownSuite},
		{"KDR", []srtp.Crypto{{Tag: 1, Suite: ourLines[0].Suite, Keys: ourLines[0].Keys, Params: []string{"KDR=1"}}}, srtp.ErrUnsupported},
		{"tag twice", []srtp.Crypto{ourLines[0], ourLines[0]}, nil},
		{"negative tag", []srtp.Crypto{{Tag: -1, Suite: ourLines[0].Suite, Keys: ourLines[0].Keys}}, nil},
	} {
		out, m, err := RewriteWith([]byte(asteriskOffer), opts(tt.lines...))
		if err == nil || out != nil || m.RTP.IsValid() {
			t.Errorf("%s: %v, %q, %v; want an error", tt.name, err, out, m)
			continue
		}
		if tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
	}
	// The other arguments are checked as Rewrite checks them.
	if _, _, err := RewriteWith([]byte(asteriskOffer), RewriteOptions{Addr: ours}); err == nil {
		t.Error("port 0: no error")
	}
}

// Rewrite (and RewriteMedia) pass SRTP end to end: profile and keys as
// they came, reported as well.
func TestRewritePassesSRTP(t *testing.T) {
	out, m, err := RewriteMedia([]byte(savpfOffer), origin, ours, 20000)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"m=audio 20000 RTP/SAVPF 96 0 101\r\n",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n",
		"a=crypto:2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==\r\n",
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("no %q in\n%s", line, out)
		}
	}
	if m.Proto != "RTP/SAVPF" || len(m.Crypto) != 2 {
		t.Errorf("media %+v", m)
	}
}

func FuzzRewriteWith(f *testing.F) {
	for _, s := range append(slices.Clone(fixtures), srtpFixtures...) {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, secure bool) {
		var lines []srtp.Crypto
		if secure {
			lines = ourLines
		}
		out, m, err := RewriteWith(body, opts(lines...))
		if err != nil {
			if out != nil || m.RTP.IsValid() || m.Crypto != nil {
				t.Fatalf("output with an error: %q, %v", out, m)
			}
			return
		}
		// Our output reads back with our lines alone, under the right
		// profile.
		_, m2, err := RewriteWith(out, opts())
		if err != nil {
			t.Fatalf("output does not rewrite: %v\n%q", err, out)
		}
		var want []string
		for _, c := range lines {
			want = append(want, c.String())
		}
		if !slices.Equal(m2.Crypto, want) || m2.SRTP() != secure {
			t.Fatalf("output's audio: %s with %q, want our %q\n%q", m2.Proto, m2.Crypto, want, out)
		}
	})
}
