package sipmsg

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/internal/sipvectors"
)

// tortureEntry is one line of the shared manifest.tsv.
type tortureEntry struct {
	file     string // relative to the torture directory, e.g. "rfc5118/ipv6-bad.dat"
	validity string // "valid" or "invalid"
	expected string // what an element must do, in words, with the codes it may answer
	policy   string // must-answer, must-reject, reject-or-lenient, response
	section  string
	sha256   string
	data     []byte
}

// allowsDrop reports whether the manifest lets a B2BUA drop the message
// rather than answer it.
func (e tortureEntry) allowsDrop() bool {
	return strings.Contains(e.expected, "or drop") || strings.Contains(e.expected, "drop,") ||
		strings.Contains(e.expected, "silently drop") || strings.Contains(e.expected, "/drop")
}

// names reports whether the manifest's expected column names code.
func (e tortureEntry) names(code int) bool {
	return strings.Contains(e.expected, strconv.Itoa(code))
}

// loadTorture reads the shared manifest and every file it names (see
// sipvectors.Load): their absence fails the test, it never skips.
func loadTorture(t testing.TB) []tortureEntry {
	t.Helper()
	vs, err := sipvectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tortureEntry, len(vs))
	for i, v := range vs {
		out[i] = tortureEntry{file: v.File, validity: v.Validity, expected: v.Expected,
			policy: v.Policy, section: v.Section, sha256: v.SHA256, data: v.Data}
	}
	return out
}

// verdict is what the appliance's front door makes of one datagram: the
// parser refuses it (dropped), it is a response, or a request that
// validation answers with code (0: passed on to the handlers).
type verdict struct {
	refused  bool
	response bool
	code     int
}

func (v verdict) String() string {
	switch {
	case v.refused:
		return "refused by parser"
	case v.response:
		return "response"
	case v.code == 0:
		return "accepted"
	}
	return strconv.Itoa(v.code)
}

// judge parses data as one UDP datagram and validates it as the server does
// before any handler (ValidateRequest, then Require as a UAS that supports
// no extension).
func judge(data []byte) verdict {
	msg, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		return verdict{refused: true}
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return verdict{response: true}
	}
	if err := ValidateRequest(req); err != nil {
		var verr *Error
		if !errors.As(err, &verr) {
			return verdict{code: -1}
		}
		return verdict{code: verr.Code}
	}
	if len(UnsupportedRequire(req)) > 0 {
		return verdict{code: sip.StatusBadExtension}
	}
	return verdict{}
}

// tortureWant is the verdict each vector earns, with gap naming where it
// falls short of the manifest and why.
var tortureWant = map[string]struct {
	v   verdict
	gap string
}{
	"wsinv.dat":                    {v: verdict{}},
	"intmeth.dat":                  {v: verdict{}}, // unknown method: the server answers 501
	"esc01.dat":                    {v: verdict{}},
	"escnull.dat":                  {v: verdict{}},
	"esc02.dat":                    {v: verdict{}}, // RE%47IST%45R: unknown method, 501
	"lwsdisp.dat":                  {v: verdict{}},
	"longreq.dat":                  {v: verdict{}},
	"dblreq.dat":                   {v: verdict{}},
	"semiuri.dat":                  {v: verdict{}},
	"transports.dat":               {v: verdict{}},
	"mpart01.dat":                  {v: verdict{}},
	"unreason.dat":                 {v: verdict{response: true}},
	"noreason.dat":                 {v: verdict{response: true}},
	"badinv01.dat":                 {v: verdict{refused: true}},
	"clerr.dat":                    {v: verdict{refused: true}},
	"ncl.dat":                      {v: verdict{refused: true}},
	"scalar02.dat":                 {v: verdict{refused: true}, gap: "sipgo refuses the 2**65 CSeq while parsing, so the server drops the request instead of answering 400"},
	"scalarlg.dat":                 {v: verdict{refused: true}},
	"quotbal.dat":                  {v: verdict{refused: true}},
	"ltgtruri.dat":                 {v: verdict{refused: true}},
	"lwsruri.dat":                  {v: verdict{refused: true}},
	"lwsstart.dat":                 {v: verdict{refused: true}},
	"trws.dat":                     {v: verdict{refused: true}},
	"escruri.dat":                  {v: verdict{code: 400}},
	"baddate.dat":                  {v: verdict{}},
	"regbadct.dat":                 {v: verdict{}},
	"badaspec.dat":                 {v: verdict{refused: true}},
	"baddn.dat":                    {v: verdict{refused: true}},
	"badvers.dat":                  {v: verdict{code: 505}},
	"mismatch01.dat":               {v: verdict{code: 400}},
	"mismatch02.dat":               {v: verdict{code: 400}},
	"bigcode.dat":                  {v: verdict{refused: true}},
	"badbranch.dat":                {v: verdict{}},
	"insuf.dat":                    {v: verdict{code: 400}},
	"unkscm.dat":                   {v: verdict{code: 416}},
	"novelsc.dat":                  {v: verdict{refused: true}, gap: "sipgo's parser takes only sip, sips and tel URIs, so the server drops a soap.beep Request-URI instead of answering 416"},
	"unksm2.dat":                   {v: verdict{}},
	"bext01.dat":                   {v: verdict{code: 420}},
	"invut.dat":                    {v: verdict{}}, // the server answers an INVITE's non-SDP body 415
	"regaut01.dat":                 {v: verdict{}},
	"multi01.dat":                  {v: verdict{code: 400}},
	"mcl01.dat":                    {v: verdict{code: 400}},
	"bcast.dat":                    {v: verdict{response: true}},
	"zeromf.dat":                   {v: verdict{}},
	"cparam01.dat":                 {v: verdict{}},
	"cparam02.dat":                 {v: verdict{}},
	"regescrt.dat":                 {v: verdict{}},
	"sdp01.dat":                    {v: verdict{}},
	"inv2543.dat":                  {v: verdict{}},
	"rfc5118/ipv6-good.dat":        {v: verdict{}},
	"rfc5118/ipv6-bad.dat":         {v: verdict{refused: true}, gap: "sipgo refuses the unbracketed IPv6 Request-URI while parsing, so the server drops the request instead of answering 400"},
	"rfc5118/port-ambiguous.dat":   {v: verdict{}},
	"rfc5118/port-unambiguous.dat": {v: verdict{}},
	"rfc5118/via-received-param-with-delim.dat": {v: verdict{}},
	"rfc5118/via-received-param-no-delim.dat":   {v: verdict{}},
	"rfc5118/ipv6-in-sdp.dat":                   {v: verdict{}},
	"rfc5118/mult-ip-in-header.dat":             {v: verdict{}},
	"rfc5118/mult-ip-in-sdp.dat":                {v: verdict{}},
	"rfc5118/ipv4-mapped-ipv6.dat":              {v: verdict{}},
	"rfc5118/ipv6-bug-abnf-3-colons.dat":        {v: verdict{}},
	"rfc5118/ipv6-correct-abnf-2-colons.dat":    {v: verdict{}},
}

// TestTortureManifest runs every RFC 4475 and RFC 5118 torture message
// through sipgo's parser and ValidateRequest, and holds the result to the
// manifest: a message to answer is accepted (an unknown method is the
// handlers' 405/501, never 400); one to reject earns 400 or the code the
// manifest names, or is dropped where the manifest allows it; a response is
// never taken for a request. Every shortfall is in tortureWant with its
// reason, and asserted as it is, so that a fix shows.
func TestTortureManifest(t *testing.T) {
	entries := loadTorture(t)
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.file] = true
		t.Run(e.file, func(t *testing.T) {
			want, ok := tortureWant[e.file]
			if !ok {
				t.Fatalf("%s (%s, %s) has no expectation in tortureWant", e.file, e.section, e.policy)
			}
			got := judge(e.data)
			t.Logf("%s %s: expected %q; got %v", e.section, e.policy, e.expected, got)
			if got != want.v {
				t.Fatalf("got %v, want %v", got, want.v)
			}
			if want.gap != "" {
				t.Logf("known gap: %s", want.gap)
				return
			}
			switch e.policy {
			case "must-answer":
				if got.refused || got.response || got.code == sip.StatusBadRequest || (got.code != 0 && !e.names(got.code)) {
					t.Fatalf("manifest says %q; got %v", e.expected, got)
				}
			case "must-reject":
				switch {
				case got.refused && e.allowsDrop():
				case got.code == sip.StatusBadRequest, got.code > 0 && e.names(got.code):
				default:
					t.Fatalf("manifest says %q; got %v", e.expected, got)
				}
			case "reject-or-lenient":
				if got.response || (got.code != 0 && got.code != sip.StatusBadRequest) {
					t.Fatalf("manifest says %q; got %v", e.expected, got)
				}
			case "response":
				if e.validity == "valid" && !got.response {
					t.Fatalf("a valid response %s", got)
				}
				if e.validity == "invalid" && !got.response && !got.refused {
					t.Fatalf("an invalid response taken for a request: %v", got)
				}
			default:
				t.Fatalf("unknown policy %q", e.policy)
			}
		})
	}
	for file := range tortureWant {
		if !seen[file] {
			t.Errorf("tortureWant has %s, which the manifest does not list", file)
		}
	}
}

// TestTortureStream feeds every vector to sipgo's stream parser, as a TCP
// connection would, whole and then byte by byte: it never panics, and what
// it takes as one message validates as the datagram did, or the stream is
// refused (the connection closes).
func TestTortureStream(t *testing.T) {
	for _, e := range loadTorture(t) {
		t.Run(e.file, func(t *testing.T) {
			for _, chunk := range []int{len(e.data), 1} {
				p := sip.NewParser().NewSIPStream()
				var msgs []sip.Message
				var err error
				for rest := e.data; len(rest) > 0 && err == nil; {
					n := min(chunk, len(rest))
					err = p.ParseSIPStream(rest[:n], func(m sip.Message) { msgs = append(msgs, m) })
					if err == sip.ErrParseSipPartial {
						err = nil
					}
					rest = rest[n:]
				}
				for _, m := range msgs {
					if req, ok := m.(*sip.Request); ok {
						_ = ValidateRequest(req)
						_ = UnsupportedRequire(req)
					}
				}
				p.Close()
			}
		})
	}
}

// FuzzValidateRequest: whatever a datagram holds, parsing and validating it
// never panics, and a verdict is one of the codes ValidateRequest documents.
func FuzzValidateRequest(f *testing.F) {
	for _, e := range loadTorture(f) {
		f.Add(e.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.NewParser().ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		err = ValidateRequest(req)
		_ = UnsupportedRequire(req, "100rel", "timer")
		if err == nil {
			return
		}
		var verr *Error
		if !errors.As(err, &verr) {
			t.Fatalf("ValidateRequest returned %T %v, want *Error", err, err)
		}
		if !slices.Contains([]int{400, 416, 483, 505}, verr.Code) || verr.Reason == "" || bytes.ContainsAny([]byte(verr.Reason), "\r\n") {
			t.Fatalf("ValidateRequest = %d %q", verr.Code, verr.Reason)
		}
	})
}
