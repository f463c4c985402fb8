package digest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	md5 := `Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"`
	noalg := `Digest realm="r", nonce="n0"`
	sha := `Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"`
	sha512 := `Digest realm="r", nonce="n3", algorithm=SHA-512-256-sess, qop="auth"`
	unknown := `Digest realm="r", nonce="n4", algorithm=SHA-1`
	intOnly := `Digest realm="r", nonce="n5", algorithm=SHA-256, qop="auth-int"`
	badQOP := `Digest realm="r", nonce="n6", algorithm=SHA-256, qop="foo"`
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"SHA-256 first", []string{sha, md5}, sha},
		{"SHA-256 second", []string{md5, sha}, sha},
		{"no algorithm is MD5", []string{noalg, md5}, noalg},
		{"strongest", []string{md5, sha512, sha}, sha512},
		{"skip unknown, Basic and malformed", []string{unknown, `Basic realm="r"`, "Digest", md5}, md5},
		{"auth-int only is answerable", []string{intOnly}, intOnly},
		{"skip unknown qop", []string{badQOP, md5}, md5},
		{"none", []string{unknown, badQOP, `Basic realm="r"`}, ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Choose(tt.values)
			if got != tt.want || (tt.want == "") != errors.Is(err, ErrNoChallenge) {
				t.Fatalf("Choose = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestAnswer checks what the credentials carry, and their digest against
// response() with the same inputs.
func TestAnswer(t *testing.T) {
	tests := []struct {
		name      string
		challenge string
		body      []byte
		want      Credentials // Response and CNonce not compared
		cnonce    bool
	}{
		{"SHA-256 auth", `Digest realm="atlanta.com", nonce="abc", algorithm=SHA-256, qop="auth-int,auth", opaque="xyz"`, nil,
			Credentials{Username: "alice", Realm: "atlanta.com", Nonce: "abc", URI: "sip:bob@biloxi.com", Algorithm: SHA256, Opaque: "xyz", QOP: "auth", NC: "00000001"}, true},
		{"MD5 auth-int", `Digest realm="atlanta.com", nonce="abc", algorithm=md5, qop="auth-int"`, []byte("v=0\r\n"),
			Credentials{Username: "alice", Realm: "atlanta.com", Nonce: "abc", URI: "sip:bob@biloxi.com", Algorithm: MD5, QOP: "auth-int", NC: "00000001"}, true},
		{"RFC 2069", `Digest realm="atlanta.com", nonce="abc"`, nil,
			Credentials{Username: "alice", Realm: "atlanta.com", Nonce: "abc", URI: "sip:bob@biloxi.com"}, false},
		{"sess", `Digest realm="atlanta.com", nonce="abc", algorithm=SHA-512-256-sess, qop="auth"`, nil,
			Credentials{Username: "alice", Realm: "atlanta.com", Nonce: "abc", URI: "sip:bob@biloxi.com", Algorithm: SHA512256Sess, QOP: "auth", NC: "00000001"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cl Client
			s, err := cl.Answer(tt.challenge, "INVITE", "sip:bob@biloxi.com", "alice", "secret", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseCredentials(s)
			if err != nil {
				t.Fatalf("our credentials %q: %v", s, err)
			}
			if (got.CNonce != "") != tt.cnonce {
				t.Errorf("cnonce %q", got.CNonce)
			}
			resp, cn := got.Response, got.CNonce
			got.Response, got.CNonce = "", ""
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			alg := got.Algorithm
			if alg == "" {
				alg = MD5
			}
			var buf hexBuf
			want := response(&request{alg: alg, username: "alice", realm: got.Realm, password: "secret", method: "INVITE",
				uri: got.URI, nonce: got.Nonce, nc: got.NC, cnonce: cn, qop: got.QOP, body: tt.body}, &buf)
			if resp != string(want) {
				t.Errorf("response %s, want %s", resp, want)
			}
		})
	}
}

func TestAnswerCounts(t *testing.T) {
	var cl Client
	nc := func(challenge string) string {
		s, err := cl.Answer(challenge, "REGISTER", "sip:r", "u", "p", nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := ParseCredentials(s)
		return c.NC
	}
	a := `Digest realm="r", nonce="a", qop="auth"`
	b := `Digest realm="r", nonce="b", qop="auth"`
	for i, want := range []string{"00000001", "00000002", "00000003"} {
		if got := nc(a); got != want {
			t.Errorf("use %d of a: nc %s, want %s", i+1, got, want)
		}
	}
	if got := nc(b); got != "00000001" {
		t.Errorf("first use of b: nc %s", got)
	}
	// The table is bounded: it starts over when full.
	for i := range clientNonces + 10 {
		nc(`Digest realm="r", qop="auth", nonce="` + strings.Repeat("x", i+1) + `"`)
	}
	cl.mu.Lock()
	n := len(cl.count)
	cl.mu.Unlock()
	if n > clientNonces {
		t.Errorf("client remembers %d nonces", n)
	}
}

func TestAnswerCNonce(t *testing.T) {
	cl := Client{Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 32))}
	s, err := cl.Answer(`Digest realm="r", nonce="n", qop="auth"`, "INVITE", "sip:x", "u", "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ParseCredentials(s); c.CNonce != strings.Repeat("ab", 16) {
		t.Errorf("cnonce %q", c.CNonce)
	}
	var a, b Client
	s1, _ := a.Answer(`Digest realm="r", nonce="n", qop="auth"`, "INVITE", "sip:x", "u", "p", nil)
	s2, _ := b.Answer(`Digest realm="r", nonce="n", qop="auth"`, "INVITE", "sip:x", "u", "p", nil)
	if s1 == s2 {
		t.Errorf("two clients drew the same cnonce: %q", s1)
	}
}

func TestAnswerErrors(t *testing.T) {
	tests := []struct {
		name      string
		challenge string
		rand      io.Reader
		want      error
	}{
		{"malformed", `Digest realm="r"`, nil, ErrMalformed},
		{"basic", `Basic realm="r"`, nil, ErrMalformed},
		{"unknown algorithm", `Digest realm="r", nonce="n", algorithm=SHA-1`, nil, ErrAlgorithm},
		{"unknown qop", `Digest realm="r", nonce="n", qop="auth-conf"`, nil, ErrQOP},
		{"no randomness", `Digest realm="r", nonce="n", qop="auth"`, bytes.NewReader(nil), io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := Client{Rand: tt.rand}
			if s, err := cl.Answer(tt.challenge, "INVITE", "sip:x", "u", "p", nil); !errors.Is(err, tt.want) {
				t.Fatalf("Answer = %q, %v; want %v", s, err, tt.want)
			}
		})
	}
}
