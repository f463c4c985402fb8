package sdp

import "strings"

// crlf turns a readable fixture (LF lines, indentation trimmed) into SDP
// with CRLF line ends.
func crlf(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString(strings.TrimSpace(line))
		b.WriteString("\r\n")
	}
	return b.String()
}

// Offers and answers as real endpoints send them (addresses from the
// documentation ranges).
var (
	asteriskOffer = crlf(`
		v=0
		o=- 1728394857 1728394857 IN IP4 198.51.100.20
		s=Asterisk
		c=IN IP4 198.51.100.20
		t=0 0
		m=audio 17234 RTP/AVP 0 8 101
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-16
		a=ptime:20
		a=maxptime:150
		a=sendrecv`)

	freeswitchAnswer = crlf(`
		v=0
		o=FreeSWITCH 1700000000 1700000001 IN IP4 203.0.113.50
		s=FreeSWITCH
		c=IN IP4 203.0.113.50
		t=0 0
		m=audio 24562 RTP/AVP 9 101 13
		a=rtpmap:9 G722/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-16
		a=rtpmap:13 CN/8000
		a=ptime:20
		a=rtcp:24563 IN IP4 203.0.113.50`)

	// LiveKit / Twilio style: ICE-lite, candidates, rtcp-mux, BUNDLE.
	iceOffer = crlf(`
		v=0
		o=- 3890412345 3890412345 IN IP4 10.0.0.5
		s=LiveKit
		c=IN IP4 192.0.2.80
		t=0 0
		a=ice-lite
		a=group:BUNDLE 0
		a=msid-semantic: WMS *
		m=audio 31000 RTP/AVP 111 0 8 101
		a=mid:0
		a=rtpmap:111 opus/48000/2
		a=fmtp:111 minptime=10;useinbandfec=1
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:101 telephone-event/8000
		a=ice-ufrag:8hhY
		a=ice-pwd:asd88fgpdd777uzjYhagZg
		a=ice-options:trickle
		a=candidate:1 1 udp 2130706431 10.0.0.5 31000 typ host
		a=candidate:2 1 udp 1694498815 192.0.2.80 31000 typ srflx raddr 10.0.0.5 rport 31000
		a=end-of-candidates
		a=rtcp-mux
		a=rtcp:31000
		a=ssrc:1001 cname:livekit
		a=sendrecv`)

	// RFC 2543 hold: the connection address 0.0.0.0.
	holdOffer = crlf(`
		v=0
		o=Zoiper 1000 1002 IN IP4 198.51.100.7
		s=Z
		c=IN IP4 0.0.0.0
		t=0 0
		m=audio 8000 RTP/AVP 0 101
		a=rtpmap:0 PCMU/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-15
		a=sendonly`)

	// RFC 3264 hold: a real address, sendonly.
	sendonlyOffer = crlf(`
		v=0
		o=- 20 21 IN IP4 198.51.100.20
		s=Asterisk
		c=IN IP4 198.51.100.20
		t=0 0
		m=audio 17234 RTP/AVP 0
		a=rtpmap:0 PCMU/8000
		a=sendonly`)

	ipv6Offer = crlf(`
		v=0
		o=- 4000 4000 IN IP6 2001:db8::10
		s=-
		c=IN IP6 2001:db8::10
		t=0 0
		m=audio 40000 RTP/AVP 8 0
		a=rtpmap:8 PCMA/8000
		a=rtpmap:0 PCMU/8000
		a=ptime:20`)

	// a=rtcp on another host, media-level c= over session-level.
	rtcpOffer = crlf(`
		v=0
		o=carrier 55 55 IN IP4 198.51.100.1
		s=SBC
		c=IN IP4 198.51.100.1
		t=0 0
		m=audio 50000 RTP/AVP 18 101
		c=IN IP4 198.51.100.2
		a=rtpmap:18 G729/8000
		a=fmtp:18 annexb=no
		a=rtpmap:101 telephone-event/8000
		a=rtcp:50011 IN IP4 198.51.100.3
		a=recvonly`)

	// Audio and video: the video is declined.
	videoOffer = crlf(`
		v=0
		o=Linphone 123 456 IN IP4 198.51.100.30
		s=Talk
		c=IN IP4 198.51.100.30
		b=AS:380
		t=0 0
		a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
		m=audio 7078 RTP/AVP 96 0 8 101
		a=rtpmap:96 opus/48000/2
		a=fmtp:96 useinbandfec=1
		a=rtpmap:101 telephone-event/8000
		a=rtcp:7079
		m=video 9078 RTP/AVP 96 97
		c=IN IP4 198.51.100.31
		b=AS:300
		a=rtpmap:96 VP8/90000
		a=rtpmap:97 H264/90000
		a=fmtp:97 profile-level-id=42801F
		a=rtcp-fb:* ccm fir`)

	// A fax gateway offering audio and T.38 (m=image, which pion does not
	// parse): the image stream is declined.
	t38Offer = crlf(`
		v=0
		o=gw 7 7 IN IP4 198.51.100.40
		s=-
		c=IN IP4 198.51.100.40
		t=0 0
		m=audio 6000 RTP/AVP 8
		a=rtpmap:8 PCMA/8000
		m=image 6002 udptl t38
		a=T38FaxVersion:0
		a=T38FaxRateManagement:transferredTCF`)

	// A stream the offerer had already declined keeps its place; the next
	// audio stream is anchored, a second live one declined.
	declinedFirstOffer = crlf(`
		v=0
		o=- 1 2 IN IP4 198.51.100.50
		s=-
		c=IN IP4 198.51.100.50
		t=0 0
		m=audio 0 RTP/AVP 0
		m=audio 5004/2 RTP/SAVP 0
		a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
		m=audio 5008 RTP/AVP 8`)
)

// fixtures are every sample, for the fuzz seeds and the round trips.
var fixtures = []string{
	asteriskOffer, freeswitchAnswer, iceOffer, holdOffer, sendonlyOffer, ipv6Offer,
	rtcpOffer, videoOffer, t38Offer, declinedFirstOffer,
}
