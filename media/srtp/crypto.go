package srtp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
)

// MaxLifetime is the most packets one SRTP master key may protect (RFC 3711
// §9.2); a longer lifetime is malformed.
const MaxLifetime = 1 << 48

// maxMKILen is the longest MKI RFC 4568 §9.2 allows, in bytes.
const maxMKILen = 128

// Crypto is one a=crypto attribute (RFC 4568 §4):
//
//	tag crypto-suite inline:<key||salt>[|lifetime][|MKI:length][;inline:...] [session-param ...]
type Crypto struct {
	Tag   int // 1–9 digits; an answer repeats the offer's
	Suite Suite
	// Keys holds at least one key. With more than one, every key carries an
	// MKI of the same length, which tells a receiver which key a packet is
	// under.
	Keys []Key
	// Params are the session parameters verbatim (KDR=, UNENCRYPTED_SRTP,
	// UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, FEC_ORDER=, FEC_KEY=, WSH=,
	// and any extension).
	Params []string
}

// Key is one key-param of an a=crypto attribute: a master key and salt with
// the optional lifetime and MKI.
type Key struct {
	Key  []byte // master key, Suite.KeyLen bytes
	Salt []byte // master salt, Suite.SaltLen bytes
	// Lifetime is how many packets the key may protect; 0 if unstated.
	Lifetime uint64
	// MKI is the Master Key Identifier value; MKILen its length in bytes on
	// the wire, 0 for none.
	MKI    uint64
	MKILen int
}

// mkiBytes is the MKI as the packets carry it: MKI, big-endian, in MKILen
// bytes; nil without one.
func (k Key) mkiBytes() []byte {
	if k.MKILen == 0 {
		return nil
	}
	b := make([]byte, max(k.MKILen, 8))
	binary.BigEndian.PutUint64(b[len(b)-8:], k.MKI)
	return b[len(b)-k.MKILen:]
}

// ParseCrypto parses the value of an a=crypto attribute, the text after
// "a=crypto:". Errors wrap ErrMalformed, ErrUnknownSuite or ErrUnsupported
// (a key method other than inline).
func ParseCrypto(value string) (Crypto, error) {
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) < 3 {
		return Crypto{}, fmt.Errorf("%w: want \"tag suite key-params\", got %q", ErrMalformed, value)
	}
	var c Crypto
	tag, err := parseDigits(fields[0], 9)
	if err != nil {
		return Crypto{}, fmt.Errorf("%w: tag %q: %v", ErrMalformed, fields[0], err)
	}
	c.Tag = int(tag)
	if !isSuiteName(fields[1]) {
		return Crypto{}, fmt.Errorf("%w: crypto-suite %q", ErrMalformed, fields[1])
	}
	if c.Suite, err = ParseSuite(fields[1]); err != nil {
		return Crypto{}, err
	}
	for kp := range strings.SplitSeq(fields[2], ";") {
		k, err := parseKeyParam(kp, c.Suite)
		if err != nil {
			return Crypto{}, err
		}
		c.Keys = append(c.Keys, k)
	}
	if err := checkMKIs(c.Keys); err != nil {
		return Crypto{}, err
	}
	for _, p := range fields[3:] {
		if err := checkParam(p); err != nil {
			return Crypto{}, err
		}
	}
	if len(fields) > 3 {
		c.Params = fields[3:]
	}
	return c, nil
}

// parseKeyParam parses "inline:<base64>[|lifetime][|mki:len]".
func parseKeyParam(kp string, s Suite) (Key, error) {
	method, info, ok := strings.Cut(kp, ":")
	if !ok {
		return Key{}, fmt.Errorf("%w: key-param %q has no key method", ErrMalformed, kp)
	}
	if !strings.EqualFold(method, "inline") {
		return Key{}, fmt.Errorf("%w: key method %q (only inline)", ErrUnsupported, method)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return Key{}, fmt.Errorf("%w: key-info %q has more than key|lifetime|mki", ErrMalformed, info)
	}
	raw, err := decodeBase64(parts[0])
	if err != nil {
		return Key{}, fmt.Errorf("%w: key-salt %q: %v", ErrMalformed, parts[0], err)
	}
	if want := s.KeyLen() + s.SaltLen(); len(raw) != want {
		return Key{}, fmt.Errorf("%w: key-salt is %d bytes, %s needs %d", ErrMalformed, len(raw), s, want)
	}
	k := Key{Key: raw[:s.KeyLen():s.KeyLen()], Salt: raw[s.KeyLen():]}
	rest := parts[1:]
	// A lifetime has no colon, an MKI has one; the lifetime comes first.
	if len(rest) > 0 && !strings.Contains(rest[0], ":") {
		if k.Lifetime, err = parseLifetime(rest[0]); err != nil {
			return Key{}, err
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if k.MKI, k.MKILen, err = parseMKI(rest[0]); err != nil {
			return Key{}, err
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return Key{}, fmt.Errorf("%w: key-info %q: lifetime after MKI, or two of either", ErrMalformed, info)
	}
	return k, nil
}

// decodeBase64 decodes standard base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("empty")
	}
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

// parseLifetime parses `["2^"] 1*DIGIT`.
func parseLifetime(s string) (uint64, error) {
	var n uint64
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		e, err := parseDigits(exp, 2)
		if err != nil || e > 48 {
			return 0, fmt.Errorf("%w: lifetime %q: exponent must be 0–48", ErrMalformed, s)
		}
		n = 1 << e
	} else {
		v, err := parseDigits(s, 20)
		if err != nil {
			return 0, fmt.Errorf("%w: lifetime %q: %v", ErrMalformed, s, err)
		}
		n = v
	}
	if n == 0 || n > MaxLifetime {
		return 0, fmt.Errorf("%w: lifetime %q: must be 1–2^48 packets", ErrMalformed, s)
	}
	return n, nil
}

// parseMKI parses `mki-value ":" mki-length`.
func parseMKI(s string) (uint64, int, error) {
	vs, ls, _ := strings.Cut(s, ":")
	v, err := parseDigits(vs, 20)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: MKI %q: value: %v", ErrMalformed, s, err)
	}
	l, err := parseDigits(ls, 3)
	if err != nil || l < 1 || l > maxMKILen {
		return 0, 0, fmt.Errorf("%w: MKI %q: length must be 1–%d bytes", ErrMalformed, s, maxMKILen)
	}
	if l < 8 && bits.Len64(v) > int(l)*8 {
		return 0, 0, fmt.Errorf("%w: MKI %q: value does not fit in %d bytes", ErrMalformed, s, l)
	}
	return v, int(l), nil
}

// checkMKIs enforces RFC 4568 §6.1: several keys need MKIs of one length,
// and distinct ones.
func checkMKIs(keys []Key) error {
	if len(keys) < 2 {
		return nil
	}
	seen := make(map[uint64]bool, len(keys))
	for _, k := range keys {
		if k.MKILen == 0 || k.MKILen != keys[0].MKILen {
			return fmt.Errorf("%w: several keys need MKIs of the same length", ErrMalformed)
		}
		if seen[k.MKI] {
			return fmt.Errorf("%w: MKI %d given twice", ErrMalformed, k.MKI)
		}
		seen[k.MKI] = true
	}
	return nil
}

// checkParam validates the session parameters RFC 4568 §6.3 defines, and
// that any other is at least 1*VCHAR.
func checkParam(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] < 0x21 || p[i] > 0x7e {
			return fmt.Errorf("%w: session parameter %q: not VCHAR", ErrMalformed, p)
		}
	}
	name, val, hasVal := strings.Cut(p, "=")
	bad := false
	switch name {
	case "KDR":
		n, err := parseDigits(val, 2)
		bad = err != nil || n > 24
	case "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP":
		bad = hasVal
	case "FEC_ORDER":
		bad = val != "FEC_SRTP" && val != "SRTP_FEC"
	case "FEC_KEY":
		bad = !hasVal || val == ""
	case "WSH":
		n, err := parseDigits(val, 10)
		bad = err != nil || n < 64
	}
	if bad {
		return fmt.Errorf("%w: session parameter %q", ErrMalformed, p)
	}
	return nil
}

// parseDigits parses 1 to maxDigits ASCII digits.
func parseDigits(s string, maxDigits int) (uint64, error) {
	if s == "" || len(s) > maxDigits {
		return 0, fmt.Errorf("want 1–%d digits", maxDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("want 1–%d digits", maxDigits)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

func isSuiteName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return s != ""
}

// String formats c as the value of an a=crypto attribute, the text after
// "a=crypto:". A lifetime that is a power of two is written 2^n.
func (c Crypto) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(c.Suite.String())
	b.WriteByte(' ')
	for i, k := range c.Keys {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString("inline:")
		b.WriteString(base64.StdEncoding.EncodeToString(append(append(make([]byte, 0, len(k.Key)+len(k.Salt)), k.Key...), k.Salt...)))
		if k.Lifetime != 0 {
			b.WriteByte('|')
			if k.Lifetime&(k.Lifetime-1) == 0 {
				b.WriteString("2^")
				b.WriteString(strconv.Itoa(bits.TrailingZeros64(k.Lifetime)))
			} else {
				b.WriteString(strconv.FormatUint(k.Lifetime, 10))
			}
		}
		if k.MKILen != 0 {
			b.WriteByte('|')
			b.WriteString(strconv.FormatUint(k.MKI, 10))
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(k.MKILen))
		}
	}
	for _, p := range c.Params {
		b.WriteByte(' ')
		b.WriteString(p)
	}
	return b.String()
}

// has reports whether c carries the session parameter name (with or
// without a value).
func (c Crypto) param(name string) (string, bool) {
	for _, p := range c.Params {
		if n, v, _ := strings.Cut(p, "="); n == name {
			return v, true
		}
	}
	return "", false
}

// NewKey returns a fresh master key and salt for s from crypto/rand, with
// neither lifetime nor MKI.
func NewKey(s Suite) (Key, error) { return newKey(s, rand.Reader) }

func newKey(s Suite, r io.Reader) (Key, error) {
	if !s.Valid() {
		return Key{}, fmt.Errorf("%w: %v", ErrUnknownSuite, s)
	}
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, s.KeyLen()+s.SaltLen())
	if _, err := io.ReadFull(r, b); err != nil {
		return Key{}, fmt.Errorf("srtp: new key: %w", err)
	}
	return Key{Key: b[:s.KeyLen():s.KeyLen()], Salt: b[s.KeyLen():]}, nil
}

// NewCrypto returns an a=crypto line for our side of a call: suite s under
// tag, with a fresh key from NewKey. Its String is the attribute value.
func NewCrypto(tag int, s Suite) (Crypto, error) {
	k, err := NewKey(s)
	if err != nil {
		return Crypto{}, err
	}
	return Crypto{Tag: tag, Suite: s, Keys: []Key{k}}, nil
}

// Offer returns one a=crypto line per suite, tagged 1, 2, … in the order
// given (the order of preference), each with its own fresh key.
func Offer(ss []Suite) ([]Crypto, error) {
	out := make([]Crypto, 0, len(ss))
	for i, s := range ss {
		c, err := NewCrypto(i+1, s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
