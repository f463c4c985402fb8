package sdp_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/trunkline/trunkline/media/sdp"
	"github.com/trunkline/trunkline/media/srtp"
)

// The caller's offer, rewritten for the callee: our origin, our address, the
// port of the relay's B leg. The caller's address is where the relay's A leg
// sends.
func ExampleRewrite() {
	offer := strings.Join([]string{
		"v=0",
		"o=- 1728394857 1728394857 IN IP4 198.51.100.20",
		"s=Asterisk",
		"c=IN IP4 198.51.100.20",
		"t=0 0",
		"m=audio 17234 RTP/AVP 0 101",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=candidate:1 1 udp 2130706431 198.51.100.20 17234 typ host",
		"a=sendrecv",
		"",
	}, "\r\n")
	toCallee := sdp.Origin{Username: "trunkline", SessionID: 4242, Version: 1}
	out, peer, err := sdp.Rewrite([]byte(offer), toCallee, netip.MustParseAddr("203.0.113.10"), 20002)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
	fmt.Println("caller receives at", peer)
	// Output:
	// v=0
	// o=trunkline 4242 1 IN IP4 203.0.113.10
	// s=Asterisk
	// c=IN IP4 203.0.113.10
	// t=0 0
	// m=audio 20002 RTP/AVP 0 101
	// a=rtpmap:0 PCMU/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-16
	// a=sendrecv
	// caller receives at 198.51.100.20:17234
}

// An SRTP (SDES) caller and a plain RTP callee: the offer goes to the
// callee as RTP/AVP without the caller's keys, and the caller's a=crypto
// values come back for negotiating its leg.
func ExampleRewriteWith() {
	offer := strings.Join([]string{
		"v=0",
		"o=- 20080 20080 IN IP4 192.0.2.33",
		"s=-",
		"c=IN IP4 192.0.2.33",
		"t=0 0",
		"m=audio 11780 RTP/SAVP 0 101",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4",
		"",
	}, "\r\n")
	out, caller, err := sdp.RewriteWith([]byte(offer), sdp.RewriteOptions{
		Origin: sdp.Origin{Username: "trunkline", SessionID: 4242, Version: 1},
		Addr:   netip.MustParseAddr("203.0.113.10"),
		Port:   20002,
		SRTP:   nil, // the callee's trunk is plain RTP
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
	remote, local, err := srtp.Negotiate(caller.Crypto, srtp.AllSuites, nil)
	if err != nil {
		fmt.Println("488:", err)
		return
	}
	// local goes into the answer to the caller, "a=crypto:" + local.String();
	// srtp.NewSession(local, remote) keys the relay's A leg (Leg.SetSRTP).
	fmt.Println(caller.Proto, "caller keys with tag", remote.Tag, remote.Suite, "- we answer tag", local.Tag)
	// Output:
	// v=0
	// o=trunkline 4242 1 IN IP4 203.0.113.10
	// s=-
	// c=IN IP4 203.0.113.10
	// t=0 0
	// m=audio 20002 RTP/AVP 0 101
	// a=rtpmap:0 PCMU/8000
	// a=rtpmap:101 telephone-event/8000
	// RTP/SAVP caller keys with tag 1 AES_CM_128_HMAC_SHA1_80 - we answer tag 1
}
