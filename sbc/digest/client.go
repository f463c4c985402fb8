package digest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNoChallenge is the error of Choose when no header value is a Digest
// challenge this package can answer.
var ErrNoChallenge = errors.New("digest: no challenge we can answer")

// Choose picks, among the values of the WWW-Authenticate (or
// Proxy-Authenticate) headers of one response, the challenge to answer: the
// strongest algorithm we compute (RFC 8760 §2.4), the first of equals.
// Values that are not Digest, or malformed, are skipped.
func Choose(values []string) (string, error) {
	best, bestStrength := "", 0
	for _, v := range values {
		c, err := ParseChallenge(v)
		if err != nil || !answerable(c) {
			continue
		}
		if s := c.algorithm().strength(); s > bestStrength {
			best, bestStrength = v, s
		}
	}
	if bestStrength == 0 {
		return "", ErrNoChallenge
	}
	return best, nil
}

func (c Challenge) algorithm() Algorithm {
	if c.Algorithm == "" {
		return MD5
	}
	return c.Algorithm
}

// answerable reports whether we compute c's algorithm and one of its qop
// options (or it has none).
func answerable(c Challenge) bool {
	_, ok := pickQOP(c.QOP)
	return c.Algorithm.Supported() && ok
}

// pickQOP chooses auth over auth-int; "" when none is offered (RFC 2069).
func pickQOP(offered []string) (string, bool) {
	if offered == nil {
		return "", true
	}
	qop := ""
	for _, q := range offered {
		switch q {
		case "auth":
			return q, true
		case "auth-int":
			qop = q
		}
	}
	return qop, qop != ""
}

// clientNonces bounds the nonce counts a Client keeps; past it, it starts
// over, and the server at worst challenges again.
const clientNonces = 256

// Client answers Digest challenges as a SIP client (RFC 3261 §22.2): it
// draws each cnonce at random and counts its uses of each nonce, so that
// reusing a nonce (as an outbound registration does) sends nc 2, 3, ... The
// zero Client is ready to use; it is safe for concurrent use.
type Client struct {
	// Rand is the source of cnonces; nil means crypto/rand.
	Rand io.Reader

	mu    sync.Mutex
	count map[string]uint32 // by realm "\x00" nonce
}

// Answer returns the credentials answering challenge, a WWW-Authenticate or
// Proxy-Authenticate value (see Choose when there are several), for a
// request of method to uri (the Request-URI, exactly as it will be sent) as
// username with password. body is the request body, which the digest covers
// only when the challenge offers qop auth-int and not auth. The result goes
// in an Authorization (401) or Proxy-Authorization (407) header.
func (c *Client) Answer(challenge, method, uri, username, password string, body []byte) (string, error) {
	ch, err := ParseChallenge(challenge)
	if err != nil {
		return "", err
	}
	if !ch.Algorithm.Supported() {
		return "", fmt.Errorf("%w: %q", ErrAlgorithm, ch.Algorithm)
	}
	qop, ok := pickQOP(ch.QOP)
	if !ok {
		return "", fmt.Errorf("%w: none of %q", ErrQOP, ch.QOP)
	}
	cred := Credentials{
		Username:  username,
		Realm:     ch.Realm,
		Nonce:     ch.Nonce,
		URI:       uri,
		Algorithm: ch.Algorithm,
		Opaque:    ch.Opaque,
		QOP:       qop,
	}
	if qop != "" || ch.Algorithm.sess() {
		var raw [16]byte
		r := c.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, raw[:]); err != nil {
			return "", fmt.Errorf("digest: cnonce: %w", err)
		}
		cred.CNonce = hex.EncodeToString(raw[:])
	}
	if qop != "" {
		cred.NC = fmt.Sprintf("%08x", c.next(ch.Realm, ch.Nonce))
	}
	var buf hexBuf
	cred.Response = string(response(&request{
		alg: ch.algorithm(), username: username, realm: ch.Realm, password: password,
		method: method, uri: uri, nonce: ch.Nonce, nc: cred.NC, cnonce: cred.CNonce, qop: qop, body: body,
	}, &buf))
	return cred.String(), nil
}

// next counts one more use of nonce in realm.
func (c *Client) next(realm, nonce string) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := realm + "\x00" + nonce
	n, ok := c.count[key]
	if !ok && len(c.count) >= clientNonces {
		clear(c.count)
	}
	if c.count == nil {
		c.count = make(map[string]uint32)
	}
	n++
	c.count[key] = n
	return n
}
