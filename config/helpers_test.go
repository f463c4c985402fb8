package config

import (
	"errors"
	"strings"
	"testing"
)

// baseSections complete a test document: each is added unless the document
// sets that top-level key itself. Trunk t1 can be a destination; trunk in is
// inbound-only.
var baseSections = []struct{ key, text string }{
	{"sipTrunks", `sipTrunks:
  - {id: t1, destinationHosts: [sip.example.com]}
  - {id: t2, destinationHosts: ["192.0.2.10:5060"]}
  - {id: in, sourceHosts: [192.0.2.1]}
`},
	{"routes", `routes:
  - id: r1
    criteria: [{to: "44.*"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1}}]
`},
	{"callsConfigurations", "callsConfigurations: [{id: app}]\n"},
	{"scripts", "scripts: [{id: s1, source: \"x = 1\"}]\n"},
}

// withBase returns doc completed with the base sections it does not set.
func withBase(doc string) string {
	out := doc
	for _, s := range baseSections {
		if !strings.HasPrefix(doc, s.key+":") && !strings.Contains(doc, "\n"+s.key+":") {
			out += s.text
		}
	}
	return out
}

// parseProblems parses doc and returns its problems (nil when it is valid).
func parseProblems(t *testing.T, doc string) []Problem {
	t.Helper()
	c, err := Parse("t.yaml", []byte(doc))
	if err == nil {
		if c == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		return nil
	}
	if c != nil {
		t.Errorf("Parse returned a config with its error")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v, want *Error", err, err)
	}
	if e.File != "t.yaml" || len(e.Problems) == 0 {
		t.Fatalf("error %+v: want file t.yaml and problems", e)
	}
	return e.Problems
}

// wantOneProblem asserts that doc has exactly one problem, at path, with a
// reason containing reason.
func wantOneProblem(t *testing.T, doc, path, reason string) {
	t.Helper()
	ps := parseProblems(t, doc)
	if len(ps) != 1 || ps[0].Path != path || !strings.Contains(ps[0].Reason, reason) {
		t.Errorf("document:\n%s\ngot problems %q\nwant one: %s: …%s…", doc, ps, path, reason)
	}
}
