package srtp_test

import (
	"fmt"

	"github.com/trunkline/trunkline/media/srtp"
)

// A caller offers SRTP (SDES) on its leg; the B2BUA answers and then relays
// between that leg and a plain RTP one.
func Example() {
	// The caller's a=crypto lines, in its order of preference.
	offered := []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
		"2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20",
	}
	remote, local, err := srtp.Negotiate(offered, srtp.AllSuites, nil)
	if err != nil {
		fmt.Println("488:", err)
		return
	}
	// local.String() goes into our answer as "a=crypto:" + local.String().
	fmt.Println("answer tag", local.Tag, local.Suite)

	leg, err := srtp.NewSession(local, remote)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Toward the SRTP leg: protect in place; the buffer has room for the tag.
	buf := make([]byte, 1500)
	n := copy(buf, []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0xde, 0xca, 0xfb, 0xad})
	n += 160 // 20 ms of PCMU
	pkt, err := leg.Out.EncryptRTP(buf, buf[:n])
	fmt.Println(len(pkt)-n, "bytes of tag", err)

	// From the SRTP leg: a forged or replayed packet is a counted drop.
	if _, err := leg.In.DecryptRTP(pkt, pkt); err != nil {
		fmt.Println("dropped:", err)
	}
	// Output:
	// answer tag 1 AES_CM_128_HMAC_SHA1_80
	// 10 bytes of tag <nil>
	// dropped: srtp: authentication failed
}
