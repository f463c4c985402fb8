package sipmsg

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// parse parses raw SIP text (lines joined with CRLF) as sipgo would off the
// wire, and fails the test unless it is a request.
func parse(t *testing.T, data []byte) *sip.Request {
	t.Helper()
	msg, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		t.Fatalf("sipgo refused the message: %v", err)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("parsed a %T, want a request", msg)
	}
	return req
}

func crlf(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n")
}

// wantVerdict checks ValidateRequest's answer: code 0 means valid.
func wantVerdict(t *testing.T, req *sip.Request, code int, reason string) {
	t.Helper()
	err := ValidateRequest(req)
	if code == 0 {
		if err != nil {
			t.Fatalf("ValidateRequest = %v, want nil", err)
		}
		return
	}
	var verr *Error
	if !errors.As(err, &verr) {
		t.Fatalf("ValidateRequest = %v, want *Error %d", err, code)
	}
	if verr.Code != code || (reason != "" && verr.Reason != reason) {
		t.Fatalf("ValidateRequest = %d %q, want %d %q", verr.Code, verr.Reason, code, reason)
	}
}

func TestValidateRequest(t *testing.T) {
	valid := []string{
		"INVITE sip:1000@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1",
		"Max-Forwards: 70",
		"From: <sip:alice@127.0.0.1>;tag=a1",
		"To: <sip:1000@127.0.0.1>",
		"Call-ID: c1@127.0.0.1",
		"CSeq: 1 INVITE",
		"Content-Length: 0",
	}
	// without drops the header named name; with replaces the line starting
	// like line (up to its first ':' or ' '), or appends it.
	without := func(name string) []string {
		var out []string
		for _, l := range valid {
			if !strings.HasPrefix(l, name+":") {
				out = append(out, l)
			}
		}
		return out
	}
	with := func(line string) []string {
		key := line[:strings.IndexAny(line, ": ")+1]
		out := append([]string(nil), valid...)
		for i, l := range out {
			if strings.HasPrefix(l, key) {
				out[i] = line
				return out
			}
		}
		return append(out, line)
	}
	cases := []struct {
		name   string
		lines  []string
		code   int
		reason string
	}{
		{"valid INVITE", valid, 0, ""},
		{"compact headers", []string{
			"OPTIONS sip:127.0.0.1 SIP/2.0",
			"v: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-2",
			"Max-Forwards: 70",
			"f: <sip:alice@127.0.0.1>;tag=a1",
			"t: <sip:127.0.0.1>",
			"i: c2@127.0.0.1",
			"CSeq: 1 OPTIONS",
			"l: 0",
		}, 0, ""},
		{"tel Request-URI", with("INVITE tel:+442071234567 SIP/2.0"), 0, ""},
		{"no Call-ID", without("Call-ID"), 400, "Missing Call-ID"},
		{"no From", without("From"), 400, "Missing From"},
		{"no To", without("To"), 400, "Missing To"},
		// RFC 2543 had no Max-Forwards; RFC 4475 "inv2543" asks us to accept it.
		{"no Max-Forwards", without("Max-Forwards"), 0, ""},
		{"no Max-Forwards, Max-Forwards 0 rule skipped", append(without("Max-Forwards"), "Content-Type: application/sdp"), 0, ""},
		{"no Via", without("Via"), 400, "Missing Via"},
		{"no CSeq", without("CSeq"), 400, "Missing CSeq"},
		{"two Max-Forwards", append(with("Max-Forwards: 70"), "Max-Forwards: 69"), 400, "Duplicate Max-Forwards"},
		{"two Vias", append(with("Max-Forwards: 70"), "Via: SIP/2.0/UDP 127.0.0.9;branch=z9hG4bK-9"), 0, ""},
		{"CSeq 2**31-1", with("CSeq: 2147483647 INVITE"), 0, ""},
		{"Max-Forwards 255", with("Max-Forwards: 255"), 0, ""},
		{"Max-Forwards 256", with("Max-Forwards: 256"), 400, "Max-Forwards out of range"},
		{"Max-Forwards 0 on OPTIONS", []string{
			"OPTIONS sip:127.0.0.1 SIP/2.0",
			"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-4",
			"Max-Forwards: 0",
			"From: <sip:alice@127.0.0.1>;tag=a1",
			"To: <sip:127.0.0.1>",
			"Call-ID: c4@127.0.0.1",
			"CSeq: 1 OPTIONS",
			"Content-Length: 0",
		}, 0, ""},
		{"CSeq method in lower case", with("CSeq: 1 invite"), 0, ""},
		{"headers in Request-URI", with("INVITE sip:1000@127.0.0.1?Route=%3Csip:evil.example%3E SIP/2.0"), 400, "Headers in Request-URI"},
		{"URI parameters in Request-URI", with("INVITE sip:1000@127.0.0.1;user=phone SIP/2.0"), 0, ""},
		{"sips Request-URI", with("INVITE sips:1000@127.0.0.1 SIP/2.0"), 0, ""},
		{"lower-case version", with("INVITE sip:1000@127.0.0.1 sip/2.0"), 0, ""},
		{"SIP/2.1", with("INVITE sip:1000@127.0.0.1 SIP/2.1"), 505, "Version Not Supported"},
		{"urn Request-URI", with("INVITE urn:service:sos SIP/2.0"), 416, "Unsupported URI Scheme"},
		{"two Call-IDs", append(with("Call-ID: c1@127.0.0.1"), "Call-ID: c9@127.0.0.1"), 400, "Duplicate Call-ID"},
		{"CSeq of another method", with("CSeq: 1 BYE"), 400, "CSeq method does not match the request"},
		{"Max-Forwards 0 on INVITE", with("Max-Forwards: 0"), 483, "Too Many Hops"},
		{"http Request-URI", with("INVITE http://example.com/ SIP/2.0"), 416, "Unsupported URI Scheme"},
		{"SIP/3.0", with("INVITE sip:1000@127.0.0.1 SIP/3.0"), 505, "Version Not Supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantVerdict(t, parse(t, crlf(c.lines...)), c.code, c.reason)
		})
	}
}

// TestValidateRequestBuilt covers the rules sipgo's parser enforces itself
// (so no datagram reaches them) on requests built or edited in code.
func TestValidateRequestBuilt(t *testing.T) {
	base := func() *sip.Request {
		return parse(t, crlf(
			"MESSAGE sip:1000@127.0.0.1 SIP/2.0",
			"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-5",
			"Max-Forwards: 70",
			"From: <sip:alice@127.0.0.1>;tag=a1",
			"To: <sip:1000@127.0.0.1>",
			"Call-ID: c5@127.0.0.1",
			"CSeq: 1 MESSAGE",
			"Content-Type: text/plain",
			"Content-Length: 0",
		))
	}
	cases := []struct {
		name   string
		edit   func(*sip.Request)
		code   int
		reason string
	}{
		{"as parsed", func(*sip.Request) {}, 0, ""},
		{"CSeq 2**31-1", func(r *sip.Request) { r.CSeq().SeqNo = 1<<31 - 1 }, 0, ""},
		{"CSeq 2**31", func(r *sip.Request) { r.CSeq().SeqNo = 1 << 31 }, 400, "CSeq number out of range"},
		{"CSeq 2**32-1", func(r *sip.Request) { r.CSeq().SeqNo = 1<<32 - 1 }, 400, "CSeq number out of range"},
		{"Max-Forwards 2**32-1", func(r *sip.Request) { *r.MaxForwards() = 1<<32 - 1 }, 400, "Max-Forwards out of range"},
		{"body longer than Content-Length", func(r *sip.Request) { r.SetBody([]byte("hello")); *r.ContentLength() = 3 }, 400, "Content-Length does not match the body"},
		{"Content-Length beyond the body", func(r *sip.Request) { *r.ContentLength() = 10 }, 400, "Content-Length does not match the body"},
		{"body with its Content-Length", func(r *sip.Request) { r.SetBody([]byte("hello")) }, 0, ""},
		{"no Content-Length", func(r *sip.Request) { r.RemoveHeader("Content-Length") }, 0, ""},
		{"SIP/3.0", func(r *sip.Request) { r.SipVersion = "SIP/3.0" }, 505, "Version Not Supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := base()
			c.edit(req)
			wantVerdict(t, req, c.code, c.reason)
		})
	}
}

func TestUnsupportedRequire(t *testing.T) {
	cases := []struct {
		name      string
		require   []string
		supported []string
		want      []string
	}{
		{"no Require", nil, nil, nil},
		{"empty Require", []string{""}, nil, nil},
		{"all supported", []string{"100rel, Timer"}, []string{"timer", "100rel"}, nil},
		{"bext01", []string{"nothingSupportsThis, nothingSupportsThisEither"}, []string{"100rel"},
			[]string{"nothingSupportsThis", "nothingSupportsThisEither"}},
		{"several headers, repeats", []string{"foo", "100rel,foo , bar", "FOO"}, []string{"100rel"}, []string{"foo", "bar"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := []string{
				"OPTIONS sip:127.0.0.1 SIP/2.0",
				"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-6",
				"Max-Forwards: 70",
				"From: <sip:alice@127.0.0.1>;tag=a1",
				"To: <sip:127.0.0.1>",
				"Call-ID: c6@127.0.0.1",
				"CSeq: 1 OPTIONS",
			}
			for _, r := range c.require {
				lines = append(lines, "Require: "+r)
			}
			lines = append(lines, "Proxy-Require: proxiesOnly", "Content-Length: 0")
			got := UnsupportedRequire(parse(t, crlf(lines...)), c.supported...)
			if !slices.Equal(got, c.want) {
				t.Fatalf("UnsupportedRequire = %q, want %q", got, c.want)
			}
		})
	}
}

func TestValidateRequestBodyWithoutType(t *testing.T) {
	data := []byte("MESSAGE sip:1000@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-3\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=a1\r\n" +
		"To: <sip:1000@127.0.0.1>\r\n" +
		"Call-ID: c3@127.0.0.1\r\n" +
		"CSeq: 1 MESSAGE\r\n" +
		"Content-Length: 5\r\n" +
		"\r\n" +
		"hello")
	wantVerdict(t, parse(t, data), 400, "Missing Content-Type for the body")
}

func TestErrorString(t *testing.T) {
	err := &Error{Code: 400, Reason: "Missing Call-ID"}
	if got := err.Error(); got != "400 Missing Call-ID" {
		t.Fatalf("Error() = %q", got)
	}
}
