package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics, that a refusal is an *Error with
// problems, and that an accepted config written back as YAML (as the export
// does) parses again to an equal config.
func FuzzParse(f *testing.F) {
	for _, name := range []string{filepath.Join("testdata", "full.yaml"), "default.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"---\n",
		"node: {id: a, id: b}\n",
		"sipTrunks: [{id: t, destinationHosts: [a.example], sipOptions: {enabled: true, interval: 1s}}]\n",
		withBase(routeWith("{type: ENDPOINT, priority: 1, value: {type: PHONE, phoneNumber: '44', viaSipTrunkIds: [t1, t2]}}")),
		withBase(windowsWith("{days: [MONDAY], from: {hour: 8, minute: 0}, to: {hour: 24, minute: 0}, timezone: Europe/Paris}")),
		withBase(criterionWith("{to: '4420(.+)', value: {type: SIP, sipTrunkId: in, username: 'u.*', headers: [{headerName: X-T, headerValue: 'a|b'}]}}")),
		withBase(numberWith("{type: FORWARD_TO_PHONE, phoneNumber: '447700900123', viaSipTrunkIds: [t1]}")),
		withBase(routeWith("{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1, customHeaders: {X-A: \"${to}\", 'X B': c}}}")),
		"sip: {drainTimeout: 1h2m3s, listen: ['tls://[::1]:5061'], tls: {cert: c, key: k}}\n",
		"scripts: [{id: s, source: &src \"x\"}, {id: t, source: *src}]\n",
		"sipTrunks: [{id: a, channelLimit: 1e3, cpsLimit: 0x10}]\n",
		"numbers: [{number: 0044, action: {type: NO_ACTION}}]\n",
		"routes: [~]\n",
		"- [a, b]\n",
		"node: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if c != nil || !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("Parse = %v, %v: want nil and an *Error with problems", c, err)
			}
			return
		}
		if !reflect.DeepEqual(c, c.Clone()) {
			t.Fatal("Clone differs")
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		back, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("re-marshalled config refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("re-marshalled config differs:\n%s", out)
		}
	})
}

// FuzzRoundTrip puts arbitrary strings into the free-text fields of a valid
// config (names, inline Lua, tokens, patterns, header values) and checks that
// whatever Validate accepts survives export as YAML and JSON-free re-import.
func FuzzRoundTrip(f *testing.F) {
	full, err := os.ReadFile(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Carrier A", "function on_route(call, plan)\n  return plan\nend\n", "change-me", "4420(.+)", "${to}")
	f.Add("", "x = '\\u2028'  \n\t-- trailing space \n", "~", "null", "- a: b")
	f.Add("#", "\xff\xfe", "'\"", "[0-9]{3}", ": x")
	f.Fuzz(func(t *testing.T, name, source, token, pattern, header string) {
		c, err := Parse("full.yaml", full)
		if err != nil {
			t.Fatal(err)
		}
		c.SIPTrunks[0].Name = name
		c.Routes[0].Name = name
		c.Scripts[0].Source = source
		c.API.Tokens = []string{token}
		c.Routes[0].Criteria[0].To = pattern
		c.Routes[0].Destinations[0].Value.CustomHeaders["X-Client-Ref"] = header
		c.SIPTrunks[0].AccessCode = header
		if c.Validate("") != nil {
			return
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		back, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("exported config refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("exported config differs:\n%s", out)
		}
	})
}
