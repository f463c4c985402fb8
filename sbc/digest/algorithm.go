package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"
)

// Algorithm names a digest algorithm as the algorithm parameter spells it
// (RFC 7616 §3.3, RFC 8760 §2.2).
type Algorithm string

// The algorithms this package computes.
const (
	MD5           Algorithm = "MD5"
	MD5Sess       Algorithm = "MD5-sess"
	SHA256        Algorithm = "SHA-256"
	SHA256Sess    Algorithm = "SHA-256-sess"
	SHA512256     Algorithm = "SHA-512-256"
	SHA512256Sess Algorithm = "SHA-512-256-sess"
)

var algorithms = [...]Algorithm{MD5, MD5Sess, SHA256, SHA256Sess, SHA512256, SHA512256Sess}

// canonical returns the known algorithm s names, matched without regard to
// case, or s itself.
func canonical(s string) Algorithm {
	for _, a := range algorithms {
		if strings.EqualFold(s, string(a)) {
			return a
		}
	}
	return Algorithm(s)
}

// Supported reports whether the package computes a. The empty algorithm
// (the parameter absent) is MD5.
func (a Algorithm) Supported() bool {
	return a == "" || a.base() != ""
}

// base is the algorithm's hash without -sess, or "" when unknown.
func (a Algorithm) base() Algorithm {
	switch a {
	case "", MD5, MD5Sess:
		return MD5
	case SHA256, SHA256Sess:
		return SHA256
	case SHA512256, SHA512256Sess:
		return SHA512256
	}
	return ""
}

func (a Algorithm) sess() bool {
	return a == MD5Sess || a == SHA256Sess || a == SHA512256Sess
}

// strength orders the algorithms by preference (RFC 8760 §2.4: the
// strongest first); 0 for one we do not compute.
func (a Algorithm) strength() int {
	switch a.base() {
	case MD5:
		return 1
	case SHA256:
		return 2
	case SHA512256:
		return 3
	}
	return 0
}

// hexLen is the length of the hex digest of a supported algorithm.
func (a Algorithm) hexLen() int {
	if a.base() == MD5 {
		return 2 * md5.Size
	}
	return 2 * sha256.Size
}

// hexBuf holds a hex digest: 64 characters at most (SHA-256, SHA-512/256).
type hexBuf [2 * sha256.Size]byte

// sumHex hashes b with a's hash and writes the lower-case hex digest into
// dst, returning it.
func sumHex(a Algorithm, dst *hexBuf, b []byte) []byte {
	switch a.base() {
	case SHA256:
		s := sha256.Sum256(b)
		return dst[:hex.Encode(dst[:], s[:])]
	case SHA512256:
		s := sha512.Sum512_256(b)
		return dst[:hex.Encode(dst[:], s[:])]
	default:
		s := md5.Sum(b)
		return dst[:hex.Encode(dst[:], s[:])]
	}
}

// request holds what the digest of a request covers.
type request struct {
	alg                       Algorithm
	username, realm, password string
	method, uri               string
	nonce, nc, cnonce, qop    string
	body                      []byte // qop=auth-int only
}

// response computes the request digest of RFC 7616 §3.4.1 (and of RFC 2069
// when qop is empty) into dst:
//
//	A1   = username ":" realm ":" password
//	       (-sess: H(that) ":" nonce ":" cnonce)
//	A2   = method ":" uri  (auth-int: ":" H(body))
//	resp = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))
//	       (no qop: H(H(A1) ":" nonce ":" H(A2)))
func response(r *request, dst *hexBuf) []byte {
	var scratch [256]byte
	var ha1, ha2, hbody hexBuf

	b := append(scratch[:0], r.username...)
	b = append(b, ':')
	b = append(b, r.realm...)
	b = append(b, ':')
	b = append(b, r.password...)
	h1 := sumHex(r.alg, &ha1, b)
	if r.alg.sess() {
		b = append(scratch[:0], h1...)
		b = append(b, ':')
		b = append(b, r.nonce...)
		b = append(b, ':')
		b = append(b, r.cnonce...)
		h1 = sumHex(r.alg, &ha1, b)
	}

	b = append(scratch[:0], r.method...)
	b = append(b, ':')
	b = append(b, r.uri...)
	if r.qop == "auth-int" {
		b = append(b, ':')
		b = append(b, sumHex(r.alg, &hbody, r.body)...)
	}
	h2 := sumHex(r.alg, &ha2, b)

	b = append(scratch[:0], h1...)
	b = append(b, ':')
	b = append(b, r.nonce...)
	b = append(b, ':')
	if r.qop != "" {
		b = append(b, r.nc...)
		b = append(b, ':')
		b = append(b, r.cnonce...)
		b = append(b, ':')
		b = append(b, r.qop...)
		b = append(b, ':')
	}
	b = append(b, h2...)
	return sumHex(r.alg, dst, b)
}
