package sipmsg

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// The SIP torture vectors live in the project's shared test data, beside the
// repository (CI clones it there): <repo>/../shared/testdata/sip-torture.
// Nothing is copied into this package, so that the vectors have one home.
const tortureDir = "shared/testdata/sip-torture"

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

// findTortureDir walks up from this source file's directory to the first
// ancestor holding shared/testdata/sip-torture/manifest.tsv. The vectors are
// part of the test contract: their absence fails, it never skips.
func findTortureDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller: no source file location; cannot find the torture vectors")
	}
	for dir := filepath.Dir(file); ; {
		cand := filepath.Join(dir, tortureDir)
		if _, err := os.Stat(filepath.Join(cand, "manifest.tsv")); err == nil {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("SIP torture vectors not found: no ancestor of %s has %s/manifest.tsv "+
				"(clone the shared test data beside the repository: <repo>/../shared/testdata)",
				filepath.Dir(file), tortureDir)
		}
		dir = parent
	}
}

// loadTorture reads the manifest and every file it names, checking each
// file's SHA-256 against it.
func loadTorture(t testing.TB) []tortureEntry {
	t.Helper()
	dir := findTortureDir(t)
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cols map[string]int
	var out []tortureEntry
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, name := range fields {
				cols[name] = i
			}
			for _, need := range []string{"file", "validity", "expected", "policy", "section", "sha256"} {
				if _, ok := cols[need]; !ok {
					t.Fatalf("manifest.tsv has no %q column: %q", need, sc.Text())
				}
			}
			continue
		}
		if len(fields) < len(cols) {
			t.Fatalf("manifest.tsv: short line %q", sc.Text())
		}
		e := tortureEntry{
			file: fields[cols["file"]], validity: fields[cols["validity"]],
			expected: fields[cols["expected"]], policy: fields[cols["policy"]],
			section: fields[cols["section"]], sha256: fields[cols["sha256"]],
		}
		e.data, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.file)))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(e.data); hex.EncodeToString(sum[:]) != e.sha256 {
			t.Fatalf("%s: SHA-256 %x, manifest says %s", e.file, sum, e.sha256)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("manifest.tsv lists no file")
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
