package sdp_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/trunkline/trunkline/media/sdp"
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
