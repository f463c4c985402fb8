package digest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Challenge
	}{
		{"rfc7616", `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=SHA-256,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
			Challenge{Realm: "http-auth@example.org", QOP: []string{"auth", "auth-int"}, Algorithm: SHA256,
				Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", Opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"}},
		{"case-insensitive names and scheme", `dIgEsT REALM="r", Nonce="n", ALGORITHM=md5-SESS, Stale=TRUE`,
			Challenge{Realm: "r", Nonce: "n", Algorithm: MD5Sess, Stale: true}},
		{"escapes", `Digest realm="a \"quoted\" \\ realm", nonce="n\x"`,
			Challenge{Realm: `a "quoted" \ realm`, Nonce: "nx"}},
		{"unknown params ignored", `Digest charset=UTF-8, userhash=true, realm="r", foo="b,a=r", nonce=abc, bar=baz`,
			Challenge{Realm: "r", Nonce: "abc"}},
		{"token values and spacing", "Digest realm = r ,nonce\t=\tn,,, domain=\"sip:a sip:b\",",
			Challenge{Realm: "r", Nonce: "n", Domain: "sip:a sip:b"}},
		{"empty realm", `Digest realm="", nonce="n"`, Challenge{Nonce: "n"}},
		{"unknown algorithm kept", `Digest realm="r", nonce="n", algorithm=SHA-1`,
			Challenge{Realm: "r", Nonce: "n", Algorithm: "SHA-1"}},
		{"stale false", `Digest realm="r", nonce="n", stale=FALSE, qop=""`,
			Challenge{Realm: "r", Nonce: "n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenge(tt.in)
			if err != nil {
				t.Fatalf("ParseChallenge: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			again, err := ParseChallenge(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Credentials
	}{
		{"rfc2617", `Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b",
				Response: "6629fae49393a05397450978507c4ef1", Opaque: "5ccc069c403ebaf9f0171e9517f40e41"}},
		{"sip, no qop, quoted qop-less algorithm", `Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com;transport=tcp", response="245f2341", algorithm="md5"`,
			Credentials{Username: "bob", Realm: "biloxi.com", Nonce: "dcd98b", URI: "sip:bob@biloxi.com;transport=tcp",
				Response: "245f2341", Algorithm: MD5}},
		{"quoted qop and nc", `Digest USERNAME="a\\b", Realm="r", NONCE="n", URI="sip:x", RESPONSE="ab", QOP="auth", NC="1", CNONCE="c", extra=1`,
			Credentials{Username: `a\b`, Realm: "r", Nonce: "n", URI: "sip:x", Response: "ab", QOP: "auth", NC: "1", CNonce: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			again, err := ParseCredentials(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: %+v, %v", got.String(), again, err)
			}
		})
	}
}

// malformedHeaders are refused by both parsers.
var malformedHeaders = []string{
	"",
	"Digest",
	"Digest ",
	"Digest    ,  ,",
	"Basic dXNlcjpwYXNz",
	`Digestrealm="r"`,
	`Digest realm`,
	`Digest realm=`,
	`Digest realm=,nonce=n`,
	`Digest realm="r" nonce="n"`,
	`Digest realm="r`,
	`Digest realm="r\`,
	`Digest realm="r\"`,
	`Digest ="r"`,
	`Digest realm="r", realm="r", nonce="n", username="u", uri="u", response="r"`,
	"Digest realm=\"r\x00\", nonce=\"n\"",
	"Digest realm=\"r\r\n\", nonce=\"n\"",
	"Digest realm=r\x00, nonce=n",
	"Digest realm=\"r\\\n\", nonce=\"n\"",
	`Digest realm=r@x, nonce=n`,
	"Digest realm=\"r\", nonce=\"n\", x=\"" + strings.Repeat("a", maxHeader) + "\"",
}

func TestParseMalformed(t *testing.T) {
	for _, in := range malformedHeaders {
		if c, err := ParseChallenge(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseChallenge(%q) = %+v, %v; want ErrMalformed", in, c, err)
		}
		if c, err := ParseCredentials(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCredentials(%q) = %+v, %v; want ErrMalformed", in, c, err)
		}
	}
	// Missing or bad required parameters.
	for _, in := range []string{
		`Digest realm="r"`,
		`Digest nonce="n"`,
		`Digest realm="r", nonce=""`,
	} {
		if _, err := ParseChallenge(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseChallenge(%q): %v; want ErrMalformed", in, err)
		}
	}
	full := `username="u", realm="r", nonce="n", uri="sip:a", response="00"`
	for _, in := range []string{
		`Digest realm="r", nonce="n", uri="sip:a", response="00"`,
		`Digest username="u", nonce="n", uri="sip:a", response="00"`,
		`Digest username="u", realm="r", uri="sip:a", response="00"`,
		`Digest username="u", realm="r", nonce="n", response="00"`,
		`Digest username="u", realm="r", nonce="n", uri="sip:a"`,
		`Digest username="u", realm="r", nonce="n", uri="sip:a", response=""`,
		`Digest ` + full + `, qop=auth, nc=00000001`,
		`Digest ` + full + `, qop=auth, cnonce="c"`,
		`Digest ` + full + `, qop=auth, cnonce="c", nc=000000001`,
		`Digest ` + full + `, qop=auth, cnonce="c", nc=0000000g`,
		`Digest ` + full + `, qop=auth, cnonce="c", nc=""`,
	} {
		if _, err := ParseCredentials(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCredentials(%q): %v; want ErrMalformed", in, err)
		}
	}
}

func TestForRealm(t *testing.T) {
	values := []string{
		"Basic abc",
		`Digest username="u", realm="other", nonce="n", uri="sip:a", response="00"`,
		`Digest username="u", realm="ours", nonce="n", uri="sip:a", response="00"`,
	}
	if v, ok := ForRealm(values, "ours"); !ok || v != values[2] {
		t.Errorf("ForRealm(ours) = %q, %v", v, ok)
	}
	if v, ok := ForRealm(values, "none"); ok {
		t.Errorf("ForRealm(none) = %q, %v", v, ok)
	}
}

var challengeSeeds = []string{
	`Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5`,
	`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
	`Digest realm="a \"b\" \\", nonce=n, stale=true`,
	`digest REALM=r,,NONCE="n",`,
}

var credentialSeeds = []string{
	`Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
	`Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=SHA-256`,
	`Digest username="a\\b", realm="", nonce=n, uri="sip:x", response=00`,
}

// FuzzParseChallenge: never a panic; what parses formats to a value that
// parses to the same challenge.
func FuzzParseChallenge(f *testing.F) {
	for _, s := range append(challengeSeeds, malformedHeaders...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChallenge(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again, err := ParseChallenge(c.String())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %q via %q: %+v, %v; want %+v", s, c.String(), again, err, c)
		}
	})
}

// FuzzParseCredentials: never a panic; what parses formats to a value that
// parses to the same credentials, and Verify refuses it without panicking.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range append(credentialSeeds, malformedHeaders...) {
		f.Add(s)
	}
	v, err := NewVerifier(Options{})
	if err != nil {
		f.Fatal(err)
	}
	lookup := func(string, string) (string, bool) { return "pw", true }
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
		} else {
			again, err := ParseCredentials(c.String())
			if err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("round trip of %q via %q: %+v, %v; want %+v", s, c.String(), again, err, c)
			}
		}
		if _, res, err := v.Verify("INVITE", "sip:x", s, lookup); res != Fail || err == nil {
			t.Fatalf("Verify(%q) = %v, %v", s, res, err)
		}
	})
}

// TestFormatNoInjection: values given by the caller (a realm from the
// configuration) cannot split the header.
func TestFormatNoInjection(t *testing.T) {
	s := Challenge{Realm: "r\r\nVia: evil\x00", Nonce: "n\n"}.String()
	if strings.ContainsAny(s, "\r\n\x00") {
		t.Fatalf("%q", s)
	}
	if c, err := ParseChallenge(s); err != nil || c.Realm != "rVia: evil" || c.Nonce != "n" {
		t.Fatalf("%+v, %v", c, err)
	}
}
