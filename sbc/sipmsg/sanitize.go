package sipmsg

import "strings"

// SanitizeValue makes s safe as a SIP header value set by configuration, a
// script or the API: CR, LF and NUL are removed (they would end the header or
// the message and let the value inject headers of its own), and the result is
// trimmed of surrounding white space.
func SanitizeValue(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case '\r', '\n', 0:
				return -1
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

// SanitizeDisplayName makes s safe inside a quoted display name: what
// SanitizeValue removes, plus the quote and the backslash, which would end or
// escape the quoting.
func SanitizeDisplayName(s string) string {
	s = SanitizeValue(s)
	if strings.ContainsAny(s, `"\`) {
		s = strings.NewReplacer(`"`, "", `\`, "").Replace(s)
	}
	return s
}

// ExpandHeader substitutes the call's numbers into a custom header value of a
// route destination: ${to} becomes to and ${from} becomes from; any other
// text is kept. The result is sanitised (SanitizeValue), so a number taken
// from the wire cannot inject a header either.
func ExpandHeader(value, to, from string) string {
	if strings.Contains(value, "${") {
		value = strings.NewReplacer("${to}", to, "${from}", from).Replace(value)
	}
	return SanitizeValue(value)
}

// ValidHeaderName reports whether name is a SIP header name (an RFC 3261
// token), so that a configured custom header cannot smuggle a colon, a space
// or a line break into the message.
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
