package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// validHostname reports whether s is a host name per RFC 1123: dot-separated
// labels of 1..63 letters, digits and hyphens, not starting or ending with a
// hyphen, 253 characters at most (one trailing dot allowed). A name whose last
// label is all digits is refused: no top-level domain is numeric, so it is a
// mistyped IP address.
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return false
		}
	}
	return !isDigits(labels[len(labels)-1])
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !isAlnum(l[i]) && l[i] != '-' {
			return false
		}
	}
	return true
}

// checkHost accepts an IP address or a host name, without a port.
func checkHost(s string) error {
	if _, err := netip.ParseAddr(s); err == nil || validHostname(s) {
		return nil
	}
	return fmt.Errorf("%q is not an IP address or host name", s)
}

// parsePort reads a decimal port number 0..65535.
func parsePort(s string) (int, error) {
	if !isDigits(s) || len(s) > 5 {
		return 0, fmt.Errorf("port %q is not a number 0..65535", s)
	}
	n, _ := strconv.Atoi(s) // at most 5 digits: cannot fail
	if n > 65535 {
		return 0, fmt.Errorf("port %d is outside 0..65535", n)
	}
	return n, nil
}

// addrKind says what an address setting requires.
type addrKind int

const (
	listenAddr addrKind = iota // empty host = every interface; port 0 = any free port
	dialAddr                   // a host and a port 1..65535
)

// checkHostPort checks "host:port", "[v6]:port" or, for a listener, ":port".
func checkHostPort(s string, kind addrKind) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	n, err := parsePort(port)
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	if n == 0 && kind == dialAddr {
		return fmt.Errorf("%q: port 0 cannot be dialled", s)
	}
	if host == "" {
		if kind == dialAddr {
			return fmt.Errorf("%q has no host", s)
		}
		return nil
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	return nil
}

// checkListen checks a SIP listener "udp://host:port" and returns its scheme.
func checkListen(s string) (string, error) {
	scheme, addr, ok := strings.Cut(s, "://")
	if !ok || (scheme != "udp" && scheme != "tcp" && scheme != "tls") {
		return "", fmt.Errorf("%q is not udp://, tcp:// or tls:// followed by host:port", s)
	}
	if err := checkHostPort(addr, listenAddr); err != nil {
		return "", err
	}
	return scheme, nil
}

// checkSourceHost accepts an IP address or a CIDR prefix.
func checkSourceHost(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return nil
	}
	return fmt.Errorf("%q is not an IP address or CIDR such as 198.51.100.0/28", s)
}

// checkDestinationHost accepts IP, IP:port, host, host:port and [v6]:port
// (port 0..65535; 0 or none asks for RFC 3263 look-ups).
func checkDestinationHost(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	host := s
	if strings.Contains(s, ":") {
		h, port, err := net.SplitHostPort(s)
		if err != nil {
			return fmt.Errorf("%q is not IP, IP:port, host, host:port or [IPv6]:port", s)
		}
		if _, err := parsePort(port); err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		host = h
	}
	if err := checkHost(host); err != nil {
		if host == s {
			return err
		}
		return fmt.Errorf("%q: %w", s, err)
	}
	return nil
}

// checkHTTPURL accepts an absolute http:// or https:// URL with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	return nil
}

// checkPortRange checks media.rtpPorts: "lo-hi", 1024 <= lo < hi <= 65535.
// An odd lo is fine: RTP takes the even port of each pair in the range.
func checkPortRange(s string) error {
	los, his, ok := strings.Cut(s, "-")
	lo, err1 := parsePort(los)
	hi, err2 := parsePort(his)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("%q is not a port range lo-hi such as \"20000-30000\"", s)
	}
	switch {
	case lo < 1024 || lo+lo%2+1 > hi: // the first even port and its RTCP port
		return fmt.Errorf("%q: want 1024 <= lo < hi <= 65535 with room for an RTP/RTCP pair", s)
	}
	return nil
}

// validToken reports whether s is an RFC 7230 token, as header names are.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
