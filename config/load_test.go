package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDecodeProblems(t *testing.T) {
	for _, tc := range []struct {
		name, doc, path, reason string
	}{
		{"unknown top-level field", "trunks: []\n", "trunks", "unknown field; want one of node, sip, dns"},
		{"misspelt top-level field", "route: []\n", "route", "unknown field; did you mean routes?"},
		{"unknown nested field", withBase("routes:\n  - id: r1\n    criteria: [{to: '1'}]\n    destinations:\n      - {type: URL, url: 'http://a.example', cost: 1}\n"),
			"routes[0].destinations[0].cost", "unknown field; want one of type, priority, weight"},
		{"near field", withBase("routes:\n  - id: r1\n    criteria: [{to: '1'}]\n    destinations:\n      - {type: URL, url: 'http://a.example', prio: 1}\n"),
			"routes[0].destinations[0].prio", "unknown field; want one of type, priority, weight"},
		{"misspelt field", "sipTrunks: [{id: a, adminstatus: ENABLED}]\n", "sipTrunks[0].adminstatus", "did you mean adminStatus?"},
		{"wrong type string for int", withBase("routes:\n  - id: r1\n    criteria: [{to: '1'}]\n    destinations:\n      - {type: URL, url: 'http://a.example', priority: high}\n"),
			"routes[0].destinations[0].priority", `"high" is a string, want an integer`},
		{"wrong type mapping for list", "sipTrunks: {id: a}\n", "sipTrunks", "got a mapping, want a list"},
		{"wrong type list for string", "node: {id: [a]}\n", "node.id", "got a list, want a string"},
		{"wrong type string for list", "sipTrunks: [{id: a, codecs: PCMU}]\n", "sipTrunks[0].codecs", `"PCMU" is a string, want a list`},
		{"wrong type bool", "sip: {dropUnknown: maybe}\n", "sip.dropUnknown", `"maybe" is a string, want true or false`},
		{"wrong type for mapping", "sip: 5060\n", "sip", "5060 is an integer, want a mapping"},
		{"integer out of range", "sipTrunks: [{id: a, channelLimit: 99999999999999999999}]\n", "sipTrunks[0].channelLimit", "out of range for an integer"},
		{"fraction for integer", "sipTrunks: [{id: a, channelLimit: 2.5}]\n", "sipTrunks[0].channelLimit", "2.5 is not an integer"},
		{"bad duration", "sip: {drainTimeout: 5 minutes}\n", "sip.drainTimeout", `"5 minutes" is not a duration such as "60s"`},
		{"duration without unit", "sipTrunks: [{id: a, sipOptions: {enabled: false, interval: 60}}]\n", "sipTrunks[0].sipOptions.interval", `"60" is not a duration`},
		{"negative duration", "sip: {drainTimeout: -1s}\n", "sip.drainTimeout", `"-1s" is negative`},
		{"duration mapping", "sip: {drainTimeout: {s: 1}}\n", "sip.drainTimeout", "got a mapping, want a duration"},
		{"null list item", "scripts: [{id: a, source: x}, ~, {id: b, source: y}]\n", "scripts[1]", "empty list item"},
		{"null list item by alias", "node: {dataDir: &n ~}\napi: {tokens: [a, *n]}\n", "api.tokens[1]", "empty list item"},
		{"key twice", "node:\n  id: a\n  id: b\n", "node.id", "set twice (first on line 2)"},
		{"top level list", "- a\n", "", "got a list, want a mapping"},
		{"top level string", "hello\n", "", `"hello" is a string, want a mapping`},
		{"syntax", "node: {id: a\n", "", "line 1: did not find expected ',' or '}'"},
		{"tabs", "node:\n\tid: a\n", "", "found character that cannot start any token"},
		{"two documents", "node: {id: a}\n---\nnode: {id: b}\n", "", "more than one YAML document"},
		{"content after an empty document", "---\n---\nnode: {id: b}\n", "", "more than one YAML document"},
		{"unknown anchor", "node: {id: *x}\n", "", "unknown anchor 'x' referenced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOneProblem(t, tc.doc, tc.path, tc.reason)
		})
	}
}

// TestParseDecodeProblemsOnOneLine checks that messages sharing a line go to
// the right fields.
func TestParseDecodeProblemsOnOneLine(t *testing.T) {
	doc := `sipTrunks: [{id: a, cpsLimit: x, channelLimit: y, sipOptions: {interval: z}, foo: 1, bar: {foo: 2}}]` + "\n"
	want := []string{
		`sipTrunks[0].cpsLimit: "x" is a string, want an integer`,
		`sipTrunks[0].channelLimit: "y" is a string, want an integer`,
		`sipTrunks[0].sipOptions.interval: "z" is not a duration`,
		`sipTrunks[0].foo: unknown field`,
		`sipTrunks[0].bar: unknown field`,
	}
	ps := parseProblems(t, doc)
	if len(ps) != len(want) {
		t.Fatalf("got %q, want %d problems", ps, len(want))
	}
	for i, p := range ps {
		if !strings.HasPrefix(p.String(), want[i]) {
			t.Errorf("problem %d: %q, want prefix %q", i, p, want[i])
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, doc := range []string{"", "\n", "# nothing\n", "---\n", "~\n", "null\n", "---\n...\n", "node: {id: trunkline}\n---\n"} {
		c, err := Parse("e.yaml", []byte(doc))
		if err != nil {
			t.Errorf("Parse(%q): %v", doc, err)
			continue
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Parse(%q) = %+v, want the default config", doc, c)
		}
	}
}

func TestParseFull(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SIPTrunks) != 3 || len(c.Numbers) != 4 || len(c.Routes) != 2 || len(c.CallsConfigurations) != 1 || len(c.Scripts) != 1 {
		t.Fatalf("counts: %d trunks, %d numbers, %d routes, %d apps, %d scripts",
			len(c.SIPTrunks), len(c.Numbers), len(c.Routes), len(c.CallsConfigurations), len(c.Scripts))
	}
	main := c.Routes[0]
	d0 := main.Destinations[0]
	for _, check := range []struct {
		name      string
		got, want any
	}{
		{"node.id", c.Node.ID, "dc1-a"},
		{"drainTimeout", c.SIP.DrainTimeout.D(), 5 * time.Minute},
		{"peers", len(c.Cluster.Peers), 2},
		{"criteria", main.Criteria[1].Value.Headers[0].HeaderValue, "acme-.*"},
		{"priority", *d0.Priority, 1},
		{"weight", *d0.Weight, 70},
		{"custom header", d0.Value.CustomHeaders["X-Client-Ref"], "${to}"},
		{"window to", *d0.AllowedTimeWindows[0].To, TimeOfDay{Hour: 17, Minute: 30}},
		{"recording", d0.Recording.RecordingComposition.Enabled, true},
		{"default weight", *main.Destinations[1].Weight, DefaultWeight},
		{"app timeout", main.Destinations[3].Value.Timeout, 20},
		{"options interval", c.SIPTrunks[0].SIPOptions.Interval.D(), time.Minute},
		{"tls trunk transport", c.SIPTrunks[1].Transport, TransportTLS},
		{"script", strings.TrimSpace(c.Scripts[0].Source), "function on_route(call, plan)\n  return plan\nend"},
		{"empty dns servers", c.DNS.Servers == nil, true},
	} {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("%s = %v, want %v", check.name, check.got, check.want)
		}
	}
}

func TestLoad(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("node: {idd: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var e *Error
	if !errors.As(err, &e) || e.File != path || err.Error() != path+": node.idd: unknown field; did you mean id?" {
		t.Errorf("Load(bad) = %v", err)
	}
}

func BenchmarkParseFull(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("full.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
