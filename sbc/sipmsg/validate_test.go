package sipmsg

import (
	"errors"
	"os"
	"path/filepath"
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

// TestRFC4475 runs the RFC 4475 torture messages that sipgo's parser accepts
// through ValidateRequest: the valid ones pass, the invalid ones earn the
// response RFC 4475 names for them.
func TestRFC4475(t *testing.T) {
	cases := []struct {
		file   string
		code   int
		reason string
	}{
		// Messages RFC 4475 calls valid.
		{"dblreq", 0, ""},
		{"esc01", 0, ""},
		{"escnull", 0, ""},
		{"intmeth", 0, ""},
		{"longreq", 0, ""},
		{"lwsdisp", 0, ""},
		{"mpart01", 0, ""},
		{"semiuri", 0, ""},
		{"transports", 0, ""},
		{"wsinv", 0, ""},
		// Max-Forwards 0 on an OPTIONS: an endpoint answers it.
		{"zeromf", 0, ""},
		// Messages it calls invalid, with the answer it expects.
		{"badvers", 505, "Version Not Supported"},
		{"unkscm", 416, "Unsupported URI Scheme"},
		{"insuf", 400, "Missing From"},
		{"multi01", 400, "Duplicate From"},
		{"mcl01", 400, "Duplicate Content-Length"},
		{"mismatch01", 400, "CSeq method does not match the request"},
		// RFC 4475 allows 400 or 501 for an unknown method whose CSeq does
		// not match; validation runs first, so 400.
		{"mismatch02", 400, "CSeq method does not match the request"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "rfc4475", c.file+".dat"))
			if err != nil {
				t.Fatal(err)
			}
			wantVerdict(t, parse(t, data), c.code, c.reason)
		})
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
		{"no Max-Forwards", without("Max-Forwards"), 400, "Missing Max-Forwards"},
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
