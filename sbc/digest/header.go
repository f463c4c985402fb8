package digest

import (
	"errors"
	"fmt"
	"strings"
)

// Challenge is one Digest challenge, the value of a WWW-Authenticate or
// Proxy-Authenticate header (RFC 7616 §3.3).
type Challenge struct {
	Realm  string
	Domain string
	Nonce  string
	Opaque string
	// Stale says the previous credentials were right but their nonce had
	// expired: the client answers again without asking its user.
	Stale bool
	// Algorithm as the server spelled it (canonical when we know it); ""
	// when absent, which means MD5.
	Algorithm Algorithm
	// QOP lists the qop-options offered, nil when absent (RFC 2069).
	QOP []string
}

// Credentials are a Digest answer, the value of an Authorization or
// Proxy-Authorization header (RFC 7616 §3.4).
type Credentials struct {
	Username string
	Realm    string
	Nonce    string
	URI      string
	// Response is the request digest in hex.
	Response string
	// Algorithm as the client spelled it (canonical when we know it); ""
	// when absent, which means MD5.
	Algorithm Algorithm
	CNonce    string
	Opaque    string
	// QOP is the quality of protection chosen, "" for none (RFC 2069).
	QOP string
	// NC is the nonce count exactly as sent (8 hex digits), since the
	// digest covers its spelling.
	NC string
}

// ErrMalformed is the error of a header value that is not a well-formed
// Digest challenge or credentials. The parsers wrap it with the detail.
var ErrMalformed = errors.New("digest: malformed header")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// maxHeader bounds what the parsers read: no honest Digest header comes
// near it, and it keeps a hostile one from costing more than a few pages.
const maxHeader = 8 << 10

// ParseChallenge parses a WWW-Authenticate or Proxy-Authenticate value. The
// scheme must be Digest; parameter names are case-insensitive, values are
// tokens or quoted strings, unknown parameters are ignored, realm and nonce
// are required. One challenge per value: a header with several values is
// several calls (see Choose).
func ParseChallenge(s string) (Challenge, error) {
	var c Challenge
	var seen uint32
	err := parseDigest(s, func(name, value string) error {
		var bit uint32
		switch name {
		case "realm":
			bit, c.Realm = 1<<0, value
		case "domain":
			bit, c.Domain = 1<<1, value
		case "nonce":
			bit, c.Nonce = 1<<2, value
		case "opaque":
			bit, c.Opaque = 1<<3, value
		case "stale":
			bit, c.Stale = 1<<4, strings.EqualFold(value, "true")
		case "algorithm":
			bit, c.Algorithm = 1<<5, canonical(value)
		case "qop":
			bit, c.QOP = 1<<6, splitList(value)
		default:
			return nil
		}
		if seen&bit != 0 {
			return malformed("parameter %s repeated", name)
		}
		seen |= bit
		return nil
	})
	if err != nil {
		return Challenge{}, err
	}
	if seen&(1<<0) == 0 {
		return Challenge{}, malformed("no realm")
	}
	if c.Nonce == "" {
		return Challenge{}, malformed("no nonce")
	}
	return c, nil
}

// ParseCredentials parses an Authorization or Proxy-Authorization value.
// The scheme must be Digest; parameter names are case-insensitive, values
// are tokens or quoted strings, unknown parameters are ignored. username,
// realm, nonce, uri and response are required, and with a qop also cnonce
// and nc (1 to 8 hex digits).
func ParseCredentials(s string) (Credentials, error) {
	var c Credentials
	var seen uint32
	err := parseDigest(s, func(name, value string) error {
		var bit uint32
		switch name {
		case "username":
			bit, c.Username = 1<<0, value
		case "realm":
			bit, c.Realm = 1<<1, value
		case "nonce":
			bit, c.Nonce = 1<<2, value
		case "uri":
			bit, c.URI = 1<<3, value
		case "response":
			bit, c.Response = 1<<4, value
		case "algorithm":
			bit, c.Algorithm = 1<<5, canonical(value)
		case "cnonce":
			bit, c.CNonce = 1<<6, value
		case "opaque":
			bit, c.Opaque = 1<<7, value
		case "qop":
			bit, c.QOP = 1<<8, value
		case "nc":
			bit, c.NC = 1<<9, value
		default:
			return nil
		}
		if seen&bit != 0 {
			return malformed("parameter %s repeated", name)
		}
		seen |= bit
		return nil
	})
	if err != nil {
		return Credentials{}, err
	}
	switch {
	case seen&(1<<0) == 0:
		return Credentials{}, malformed("no username")
	case seen&(1<<1) == 0:
		return Credentials{}, malformed("no realm")
	case c.Nonce == "":
		return Credentials{}, malformed("no nonce")
	case c.URI == "":
		return Credentials{}, malformed("no uri")
	case c.Response == "":
		return Credentials{}, malformed("no response")
	}
	if c.QOP != "" {
		if c.CNonce == "" {
			return Credentials{}, malformed("qop without cnonce")
		}
		if _, ok := parseNC(c.NC); !ok {
			return Credentials{}, malformed("qop with a bad nc %q", c.NC)
		}
	}
	return c, nil
}

// parseNC reads a nonce count: 1 to 8 hex digits.
func parseNC(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > 8 {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		d := unhex(s[i])
		if d < 0 {
			return 0, false
		}
		n = n<<4 | uint32(d)
	}
	return n, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// String formats the challenge as a header value that ParseChallenge reads
// back.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString("Digest ")
	writeParam(&b, "realm", c.Realm, true, true)
	if c.Domain != "" {
		writeParam(&b, "domain", c.Domain, true, false)
	}
	writeParam(&b, "nonce", c.Nonce, true, false)
	if c.Opaque != "" {
		writeParam(&b, "opaque", c.Opaque, true, false)
	}
	if c.Stale {
		writeParam(&b, "stale", "true", false, false)
	}
	if c.Algorithm != "" {
		writeParam(&b, "algorithm", string(c.Algorithm), false, false)
	}
	if len(c.QOP) > 0 {
		writeParam(&b, "qop", strings.Join(c.QOP, ","), true, false)
	}
	return b.String()
}

// String formats the credentials as a header value that ParseCredentials
// reads back.
func (c Credentials) String() string {
	var b strings.Builder
	b.WriteString("Digest ")
	writeParam(&b, "username", c.Username, true, true)
	writeParam(&b, "realm", c.Realm, true, false)
	writeParam(&b, "nonce", c.Nonce, true, false)
	writeParam(&b, "uri", c.URI, true, false)
	writeParam(&b, "response", c.Response, true, false)
	if c.Algorithm != "" {
		writeParam(&b, "algorithm", string(c.Algorithm), false, false)
	}
	if c.CNonce != "" {
		writeParam(&b, "cnonce", c.CNonce, true, false)
	}
	if c.Opaque != "" {
		writeParam(&b, "opaque", c.Opaque, true, false)
	}
	if c.QOP != "" {
		writeParam(&b, "qop", c.QOP, false, false)
	}
	if c.NC != "" {
		writeParam(&b, "nc", c.NC, false, false)
	}
	return b.String()
}

// writeParam writes name=value, quoted when asked or when the value is not
// a token, escaping '"' and '\' and dropping NUL, CR and LF.
func writeParam(b *strings.Builder, name, value string, quote, first bool) {
	if !first {
		b.WriteString(", ")
	}
	b.WriteString(name)
	b.WriteByte('=')
	if !quote && isToken(value) {
		b.WriteString(value)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case 0, '\r', '\n':
			continue // never in a parsed value; never let one split a header
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(value[i])
	}
	b.WriteByte('"')
}

// splitList splits a comma-separated list (a challenge's qop-options),
// trimming blanks and dropping empty items; nil when none is left.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.Trim(item, " \t"); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseDigest reads `Digest name=value, ...` and hands each parameter to
// param with its name lower-cased and its value unquoted. Empty list
// elements (",,") are allowed, as RFC 7230 §7 allows them.
func parseDigest(s string, param func(name, value string) error) error {
	if len(s) > maxHeader {
		return malformed("longer than %d bytes", maxHeader)
	}
	i := skipSpace(s, 0)
	j := i
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	if !strings.EqualFold(s[i:j], "Digest") {
		return malformed("scheme is not Digest")
	}
	if j == len(s) || !isSpace(s[j]) {
		return malformed("no parameters")
	}
	i = j
	n := 0
	for {
		i = skipSpace(s, i)
		if i == len(s) {
			break
		}
		if s[i] == ',' {
			i++
			continue
		}
		// name
		j = i
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		if j == i {
			return malformed("bad character %q at %d", s[i], i)
		}
		name := lower(s[i:j])
		i = skipSpace(s, j)
		if i == len(s) || s[i] != '=' {
			return malformed("parameter %s without a value", name)
		}
		i = skipSpace(s, i+1)
		// value
		var value string
		if i < len(s) && s[i] == '"' {
			v, next, err := unquote(s, i)
			if err != nil {
				return err
			}
			value, i = v, next
		} else {
			j = i
			for j < len(s) && isTokenChar(s[j]) {
				j++
			}
			if j == i {
				return malformed("parameter %s without a value", name)
			}
			value, i = s[i:j], j
		}
		if err := param(name, value); err != nil {
			return err
		}
		n++
		// separator
		i = skipSpace(s, i)
		if i < len(s) && s[i] != ',' {
			return malformed("missing comma at %d", i)
		}
	}
	if n == 0 {
		return malformed("no parameters")
	}
	return nil
}

// unquote reads the quoted string that starts at s[i] (a '"'), resolving
// quoted-pairs. It returns the value and the index after the closing quote.
// NUL, CR and LF are refused, quoted or not: nothing honest carries them and
// values end up in logs and headers.
func unquote(s string, i int) (string, int, error) {
	start := i + 1
	escaped := false
	for j := start; j < len(s); j++ {
		switch c := s[j]; c {
		case 0, '\r', '\n':
			return "", 0, malformed("control character in quoted string at %d", j)
		case '\\':
			escaped = true
			j++
			if j == len(s) {
				return "", 0, malformed("unterminated quoted string")
			}
			if c := s[j]; c == 0 || c == '\r' || c == '\n' {
				return "", 0, malformed("control character in quoted string at %d", j)
			}
		case '"':
			if !escaped {
				return s[start:j], j + 1, nil
			}
			var b strings.Builder
			b.Grow(j - start)
			for k := start; k < j; k++ {
				if s[k] == '\\' {
					k++
				}
				b.WriteByte(s[k])
			}
			return b.String(), j + 1, nil
		}
	}
	return "", 0, malformed("unterminated quoted string")
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// isSpace reports whether c is linear white space between parameters; CR
// and LF count, so that folded headers (and the RFC examples) parse.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isTokenChar reports whether c may appear in a token (RFC 3261 §25.1).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// lower lower-cases an ASCII token without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// ForRealm returns the first of a request's Authorization (or
// Proxy-Authorization) values that is Digest credentials for realm: a
// request may carry credentials for several servers (RFC 3261 §22.3).
func ForRealm(values []string, realm string) (string, bool) {
	for _, v := range values {
		if c, err := ParseCredentials(v); err == nil && c.Realm == realm {
			return v, true
		}
	}
	return "", false
}
