package srtp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// RFC 4568's examples (§4, §5.1.3, §6.1, §8.1.1 …), as the attribute values.
var rfc4568Examples = []string{
	"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
	"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP",
	"1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32",
	"2 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32",
	"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4;inline:QUJjZGVmZ2hpSktMbW9QcXJzVHVWd1l6MTIzNDU2|2^20|2:4 FEC_ORDER=FEC_SRTP",
	"1 AES_CM_128_HMAC_SHA1_80 inline:WSJ+PSdFcGdUJShpX1ZjNzB4d1BINUAvLEw6UzF3|2^20|1:32",
}

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

func TestParseCrypto(t *testing.T) {
	k30 := b64(30, 1)
	tests := []struct {
		name  string
		in    string
		want  Crypto
		check func(t *testing.T, c Crypto)
	}{
		{name: "rfc4568 lifetime and mki", in: rfc4568Examples[0], check: func(t *testing.T, c Crypto) {
			if c.Tag != 1 || c.Suite != AESCM128HMACSHA1_80 || len(c.Keys) != 1 {
				t.Fatalf("got %+v", c)
			}
			k := c.Keys[0]
			if len(k.Key) != 16 || len(k.Salt) != 14 || k.Lifetime != 1<<20 || k.MKI != 1 || k.MKILen != 32 {
				t.Fatalf("key %+v", k)
			}
		}},
		{name: "rfc4568 two keys", in: rfc4568Examples[4], check: func(t *testing.T, c Crypto) {
			if len(c.Keys) != 2 || c.Keys[1].MKI != 2 || c.Keys[1].MKILen != 4 || !reflect.DeepEqual(c.Params, []string{"FEC_ORDER=FEC_SRTP"}) {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "bare key", in: "7 AES_CM_128_HMAC_SHA1_32 inline:" + k30, want: Crypto{Tag: 7, Suite: AESCM128HMACSHA1_32,
			Keys: []Key{{Key: bytes.Repeat([]byte{1}, 16), Salt: bytes.Repeat([]byte{1}, 14)}}}},
		{name: "decimal lifetime", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1000", check: func(t *testing.T, c Crypto) {
			if c.Keys[0].Lifetime != 1000 || c.Keys[0].MKILen != 0 {
				t.Fatalf("key %+v", c.Keys[0])
			}
		}},
		{name: "mki without lifetime", in: "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|255:1", check: func(t *testing.T, c Crypto) {
			if c.Keys[0].Lifetime != 0 || c.Keys[0].MKI != 255 || c.Keys[0].MKILen != 1 {
				t.Fatalf("key %+v", c.Keys[0])
			}
		}},
		{name: "gcm 128 padded", in: "3 AEAD_AES_128_GCM inline:" + b64(28, 2), check: func(t *testing.T, c Crypto) {
			if c.Suite != AEADAES128GCM || len(c.Keys[0].Key) != 16 || len(c.Keys[0].Salt) != 12 {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "gcm 128 unpadded", in: "3 AEAD_AES_128_GCM inline:" + strings.TrimRight(b64(28, 2), "="), check: func(t *testing.T, c Crypto) {
			if c.Suite != AEADAES128GCM {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "gcm 256", in: "4 AEAD_AES_256_GCM inline:" + b64(44, 3), check: func(t *testing.T, c Crypto) {
			if c.Suite != AEADAES256GCM || len(c.Keys[0].Key) != 32 || len(c.Keys[0].Salt) != 12 {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "aes 256", in: "5 AES_256_CM_HMAC_SHA1_80 inline:" + b64(46, 4), check: func(t *testing.T, c Crypto) {
			if c.Suite != AESCM256HMACSHA1_80 || len(c.Keys[0].Key) != 32 || len(c.Keys[0].Salt) != 14 {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "session params and tabs", in: "\t2\tAES_CM_128_HMAC_SHA1_80  inline:" + k30 + " UNENCRYPTED_SRTCP WSH=128 X-EXT=1\r\n",
			check: func(t *testing.T, c Crypto) {
				if !reflect.DeepEqual(c.Params, []string{"UNENCRYPTED_SRTCP", "WSH=128", "X-EXT=1"}) {
					t.Fatalf("params %q", c.Params)
				}
			}},
		{name: "lowercase suite", in: "1 aes_cm_128_hmac_sha1_80 inline:" + k30, check: func(t *testing.T, c Crypto) {
			if c.Suite != AESCM128HMACSHA1_80 {
				t.Fatalf("suite %v", c.Suite)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCrypto(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			} else if !reflect.DeepEqual(c, tt.want) {
				t.Fatalf("got %+v, want %+v", c, tt.want)
			}
		})
	}
}

func TestParseCryptoRejects(t *testing.T) {
	k30 := b64(30, 1)
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrMalformed},
		{"no key", "1 AES_CM_128_HMAC_SHA1_80", ErrMalformed},
		{"tag not digits", "x AES_CM_128_HMAC_SHA1_80 inline:" + k30, ErrMalformed},
		{"tag ten digits", "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + k30, ErrMalformed},
		{"negative tag", "-1 AES_CM_128_HMAC_SHA1_80 inline:" + k30, ErrMalformed},
		{"f8 suite", "1 F8_128_HMAC_SHA1_80 inline:" + k30, ErrUnknownSuite},
		{"aes 192", "1 AES_192_CM_HMAC_SHA1_80 inline:" + b64(38, 1), ErrUnknownSuite},
		{"suite punctuation", "1 AES-CM inline:" + k30, ErrMalformed},
		{"other key method", "1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", ErrUnsupported},
		{"no key method", "1 AES_CM_128_HMAC_SHA1_80 " + k30, ErrMalformed},
		{"bad base64", "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!" + k30[4:], ErrMalformed},
		{"empty key", "1 AES_CM_128_HMAC_SHA1_80 inline:", ErrMalformed},
		{"short key", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(29, 1), ErrMalformed},
		{"gcm key for cm suite", "1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(28, 1), ErrMalformed},
		{"lifetime zero", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|0", ErrMalformed},
		{"lifetime over 2^48", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|2^49", ErrMalformed},
		{"lifetime garbage", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|2^x", ErrMalformed},
		{"mki length zero", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1:0", ErrMalformed},
		{"mki length 129", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1:129", ErrMalformed},
		{"mki value too big", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|256:1", ErrMalformed},
		{"mki no length", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1:", ErrMalformed},
		{"mki before lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1:4|2^20", ErrMalformed},
		{"four fields", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|2^20|1:4|x", ErrMalformed},
		{"two keys no mki", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + ";inline:" + k30, ErrMalformed},
		{"two keys mki lengths differ", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1:4;inline:" + k30 + "|2:2", ErrMalformed},
		{"two keys same mki", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + "|1:4;inline:" + k30 + "|1:4", ErrMalformed},
		{"KDR out of range", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + " KDR=25", ErrMalformed},
		{"WSH below 64", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + " WSH=32", ErrMalformed},
		{"FEC_ORDER bad", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + " FEC_ORDER=X", ErrMalformed},
		{"flag with value", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + " UNENCRYPTED_SRTP=1", ErrMalformed},
		{"non-VCHAR param", "1 AES_CM_128_HMAC_SHA1_80 inline:" + k30 + " é", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCrypto(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseCrypto(%q) = %+v, %v; want %v", tt.in, c, err, tt.want)
			}
		})
	}
}

func TestCryptoStringRoundTrip(t *testing.T) {
	for _, in := range append(rfc4568Examples,
		"9 AEAD_AES_256_GCM inline:"+b64(44, 9)+"|1000|7:2 UNENCRYPTED_SRTP",
		"123456789 AES_256_CM_HMAC_SHA1_32 inline:"+b64(46, 8)+"|2^31",
	) {
		c, err := ParseCrypto(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := c.String(); got != in {
			t.Errorf("String() = %q, want %q", got, in)
		}
	}
}

func TestNewKey(t *testing.T) {
	for _, s := range AllSuites {
		t.Run(s.String(), func(t *testing.T) {
			c, err := NewCrypto(1, s)
			if err != nil {
				t.Fatal(err)
			}
			k := c.Keys[0]
			if len(k.Key) != s.KeyLen() || len(k.Salt) != s.SaltLen() {
				t.Fatalf("key %d salt %d bytes", len(k.Key), len(k.Salt))
			}
			back, err := ParseCrypto(c.String())
			if err != nil {
				t.Fatalf("%q: %v", c.String(), err)
			}
			if !reflect.DeepEqual(back, c) {
				t.Fatalf("round trip: %+v != %+v", back, c)
			}
			other, _ := NewKey(s)
			if bytes.Equal(other.Key, k.Key) || bytes.Equal(other.Salt, k.Salt) {
				t.Fatal("two keys are equal")
			}
		})
	}
	if _, err := NewKey(0); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("NewKey(0): %v", err)
	}
	offer, err := Offer([]Suite{AEADAES128GCM, AESCM128HMACSHA1_80})
	if err != nil || len(offer) != 2 || offer[0].Tag != 1 || offer[1].Tag != 2 || offer[1].Suite != AESCM128HMACSHA1_80 {
		t.Fatalf("Offer: %+v, %v", offer, err)
	}
}

func TestSuiteNames(t *testing.T) {
	for _, s := range AllSuites {
		got, err := ParseSuite(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSuite(%q) = %v, %v", s.String(), got, err)
		}
	}
	if Suite(0).Valid() || Suite(99).Valid() || Suite(99).String() != "Suite(99)" {
		t.Error("invalid suites")
	}
	if MaxOverhead < AEADAES256GCM.RTCPOverhead() {
		t.Error("MaxOverhead too small")
	}
}

// FuzzParseCrypto checks that the parser never panics, and that whatever it
// accepts formats to a value that parses back to the same thing.
func FuzzParseCrypto(f *testing.F) {
	for _, s := range rfc4568Examples {
		f.Add(s)
	}
	f.Add("1 AEAD_AES_128_GCM inline:" + b64(28, 0) + " WSH=64")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(30, 0) + "|2^48|18446744073709551615:128 KDR=24 UNAUTHENTICATED_SRTP")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCrypto(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownSuite) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		out := c.String()
		back, err := ParseCrypto(out)
		if err != nil {
			t.Fatalf("%q parsed, its String %q does not: %v", in, out, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("%q: %+v != %+v", in, back, c)
		}
		if back.String() != out {
			t.Fatalf("String not stable: %q != %q", back.String(), out)
		}
	})
}
