package digest_test

import (
	"fmt"

	"github.com/trunkline/trunkline/sbc/digest"
)

// A server challenges, a client answers, the server verifies.
func Example() {
	verifier, err := digest.NewVerifier(digest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	passwords := map[string]string{"pbx1": "s3cret"}
	lookup := func(username, realm string) (string, bool) {
		p, ok := passwords[username]
		return p, ok && realm == "sbc.example.com"
	}

	// The server refuses an INVITE without credentials: 407 with one
	// Proxy-Authenticate header per value, SHA-256 first.
	values := verifier.Challenge("sbc.example.com", false)

	// The client picks the strongest challenge and answers it.
	var client digest.Client
	challenge, err := digest.Choose(values)
	if err != nil {
		fmt.Println(err)
		return
	}
	credentials, err := client.Answer(challenge, "INVITE", "sip:+4930123@sbc.example.com", "pbx1", "s3cret", nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The server verifies the retried INVITE's Proxy-Authorization.
	user, result, err := verifier.Verify("INVITE", "sip:+4930123@sbc.example.com", credentials, lookup)
	fmt.Println(user, result, err)

	// The same credentials again are a replay.
	_, result, err = verifier.Verify("INVITE", "sip:+4930123@sbc.example.com", credentials, lookup)
	fmt.Println(result, err)
	// Output:
	// pbx1 ok <nil>
	// fail digest: nonce count replayed: nc 00000001 (user "pbx1")
}
