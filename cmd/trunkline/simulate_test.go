package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current output")

const testConfig = "testdata/trunkline.yaml"

// simulate runs `trunkline route simulate --config testdata/trunkline.yaml args...`.
func simulate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLI(t, append([]string{"route", "simulate", "--config", testConfig}, args...)...)
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// simulateJSON runs simulate with --json and decodes the decision.
func simulateJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errOut := simulate(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("simulate %q: exit %d, stderr:\n%s", args, code, errOut)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("simulate %q: stdout is not JSON: %v\n%s", args, err, out)
	}
	return d
}

// goldenCases are compared with testdata/golden/NAME.json.golden (--json) and
// NAME.txt.golden (the text report). Every case fixes --at and --seed.
// 2026-11-23 is a Monday; London is on UTC in November, New York on UTC-5.
var goldenCases = []struct {
	name string
	args []string
}{
	// Number → routeId main: two SIP attempts of priority 1 in weighted order,
	// PHONE via two trunks (one attempt each, same index), URL, APPLICATION.
	{"main-office-hours", []string{"--from", "3312345", "--to", "442071234567",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	{"main-office-hours-seed7", []string{"--from", "3312345", "--to", "442071234567",
		"--at", "2026-11-23T10:00:00Z", "--seed", "7"}},
	// After 17:30 London pbx-a's window is closed; carrier-b is down.
	{"main-after-hours-down", []string{"--from", "3312345", "--to", "442071234567",
		"--at", "2026-11-23T18:00:00Z", "--down", "carrier-b", "--seed", "1"}},
	// Saturday: the window's days exclude it.
	{"main-saturday", []string{"--from", "3312345", "--to", "442071234567",
		"--at", "2026-11-28T10:00:00Z", "--seed", "1"}},
	// A number without routeId: criteria decide (to 4420…, from 331…), past the
	// DISABLED catch-all route; '+' stripped.
	{"criteria-main", []string{"--from", "+33123456789", "--to", "+442071230000",
		"--at", "2026-11-23T10:00:00Z", "--seed", "3"}},
	// SIP criterion (trunk + default username + header); a route without
	// priorities (list order); DISABLED trunk skipped, per trunk of a PHONE.
	{"tenant-acme", []string{"--trunk", "pbx-a", "--from", "+442071110000", "--to", "+442079460000",
		"--header", "X-Tenant=acme-7", "--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	// As above with the trunks down: a DISABLED trunk that is also down reports
	// TRUNK_DISABLED only.
	{"tenant-acme-down", []string{"--trunk", "pbx-a", "--from", "442071110000", "--to", "442079460000",
		"--header", "X-Tenant=acme-7", "--down", "carrier-old", "--down", "carrier-b",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	// US_NATIONAL trunk: 10-digit numbers become 1 + 10 digits.
	{"us-national", []string{"--trunk", "us-carrier", "--from", "2125550000", "--to", "2125551234",
		"--at", "2026-11-23T15:00:00Z", "--seed", "1"}},
	// 18:00 New York: outside the America/New_York window.
	{"us-national-evening", []string{"--trunk", "us-carrier", "--from", "2125550000", "--to", "2125551234",
		"--at", "2026-11-23T23:00:00Z", "--seed", "1"}},
	// Equal priorities, weights 80/20, two seeds.
	{"uk-mobile-seed1", []string{"--from", "33612345678", "--to", "447700900555",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	{"uk-mobile-seed2", []string{"--from", "33612345678", "--to", "447700900555",
		"--at", "2026-11-23T10:00:00Z", "--seed", "2"}},
	// Number actions other than call routing.
	{"forward-to-phone", []string{"--from", "3312345", "--to", "442071238888",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	{"forward-to-subscription", []string{"--from", "3312345", "--to", "442071239999",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	{"no-action", []string{"--from", "3312345", "--to", "442071237777",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
	// Route reached only by routeId, windows touching at midnight.
	{"night-open", []string{"--from", "3312345", "--to", "442071236666",
		"--at", "2026-11-23T23:00:00Z", "--seed", "1"}},
	{"night-closed", []string{"--from", "3312345", "--to", "442071236666",
		"--at", "2026-11-23T12:00:00Z", "--seed", "1"}},
	// Nothing matches.
	{"no-match", []string{"--from", "3312345", "--to", "999",
		"--at", "2026-11-23T10:00:00Z", "--seed", "1"}},
}

func TestSimulateGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := simulate(t, append(tc.args, "--json")...)
			if code != 0 {
				t.Fatalf("--json: exit %d, stderr:\n%s", code, errOut)
			}
			checkJSONShape(t, out)
			checkGolden(t, tc.name+".json", out)

			code, out, errOut = simulate(t, tc.args...)
			if code != 0 {
				t.Fatalf("text: exit %d, stderr:\n%s", code, errOut)
			}
			checkGolden(t, tc.name+".txt", out)
		})
	}
}

// checkJSONShape checks the contract's top-level shape: the four keys, route a
// string or null, attempts and skipped arrays (never null).
func checkJSONShape(t *testing.T, out string) {
	t.Helper()
	var d map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"action", "route", "attempts", "skipped"} {
		if _, ok := d[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	for _, k := range []string{"attempts", "skipped"} {
		if v := d[k]; !bytes.HasPrefix(v, []byte("[")) {
			t.Errorf("%s is %s, want an array", k, v)
		}
	}
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("JSON output does not end with a newline: %q", out)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/trunkline -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestSimulateNoMatch(t *testing.T) {
	code, out, errOut := simulate(t, "--from", "1", "--to", "999", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var got any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var want any
	_ = json.Unmarshal([]byte(`{"action":"FORWARD_TO_CALL_ROUTING","route":null,"attempts":[],"skipped":[]}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s, want %v", out, want)
	}

	code, out, _ = simulate(t, "--from", "1", "--to", "999")
	wantText := "action   FORWARD_TO_CALL_ROUTING\nroute    (none)\nattempts (none)\nskipped  (none)\n"
	if code != 0 || out != wantText {
		t.Errorf("text: exit %d\n%s\nwant\n%s", code, out, wantText)
	}
}

func TestSimulatePlusStripped(t *testing.T) {
	at := []string{"--at", "2026-11-23T10:00:00Z", "--seed", "5", "--json"}
	_, plain, _ := simulate(t, append([]string{"--from", "3312345", "--to", "442071234567"}, at...)...)
	code, plus, errOut := simulate(t, append([]string{"--from", "+3312345", "--to", "+442071234567"}, at...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if plus != plain {
		t.Errorf("with '+':\n%s\nwithout:\n%s", plus, plain)
	}
	if d := simulateJSON(t, "--from", "+3312345", "--to", "+442071234567"); d["route"] != "main" {
		t.Errorf("route = %v, want main", d["route"])
	}
}

func TestSimulateUsernameDefault(t *testing.T) {
	base := []string{"--trunk", "pbx-a", "--from", "442071110000", "--to", "+442079460000",
		"--header", "X-Tenant=acme-1"}
	// The default username is --to as received, which matches "4420.*".
	if d := simulateJSON(t, base...); d["route"] != "tenant-acme" {
		t.Errorf("default username: route = %v, want tenant-acme", d["route"])
	}
	if d := simulateJSON(t, append(base, "--username", "442079460000")...); d["route"] != "tenant-acme" {
		t.Errorf("--username 442079460000: route = %v, want tenant-acme", d["route"])
	}
	if d := simulateJSON(t, append(base, "--username", "5000")...); d["route"] != nil {
		t.Errorf("--username 5000: route = %v, want null", d["route"])
	}
	// Header and trunk are part of the criterion too.
	other := []string{"--trunk", "pbx-a", "--from", "442071110000", "--to", "442079460000",
		"--header", "X-Tenant=other-1"}
	if d := simulateJSON(t, other...); d["route"] != nil {
		t.Errorf("X-Tenant other-1: route = %v, want null", d["route"])
	}
	if d := simulateJSON(t, "--trunk", "pbx-b", "--from", "442071110000", "--to", "442079460000",
		"--header", "X-Tenant=acme-1"); d["route"] != nil {
		t.Errorf("trunk pbx-b: route = %v, want null", d["route"])
	}
}

func TestSimulateUSNational(t *testing.T) {
	d := simulateJSON(t, "--trunk", "us-carrier", "--from", "2125550000", "--to", "2125551234",
		"--at", "2026-11-23T15:00:00Z")
	if d["route"] != "us" {
		t.Fatalf("route = %v, want us", d["route"])
	}
	// Without the trunk the number is not normalised: "2125551234" is no US DID.
	if d := simulateJSON(t, "--from", "2125550000", "--to", "2125551234"); d["route"] != nil {
		t.Errorf("without --trunk: route = %v, want null", d["route"])
	}
}

// firstTrunk returns the sipTrunkId of the first attempt.
func firstTrunk(t *testing.T, d map[string]any) string {
	t.Helper()
	attempts, _ := d["attempts"].([]any)
	if len(attempts) == 0 {
		t.Fatalf("no attempts: %v", d)
	}
	a, _ := attempts[0].(map[string]any)
	s, _ := a["sipTrunkId"].(string)
	return s
}

func TestSimulateSeed(t *testing.T) {
	args := []string{"--from", "33612345678", "--to", "447700900555", "--at", "2026-11-23T10:00:00Z"}
	_, a, _ := simulate(t, append(args, "--seed", "42", "--json")...)
	_, b, _ := simulate(t, append(args, "--seed", "42", "--json")...)
	if a != b {
		t.Errorf("same seed, different plans:\n%s\n%s", a, b)
	}
	// Without --seed the weighted order (80/20) is fresh on every run: both
	// carriers come first at some point (the chance that one never does in 100
	// runs is below 1e-9).
	first := map[string]int{}
	for range 100 {
		first[firstTrunk(t, simulateJSON(t, args...))]++
	}
	if first["carrier-a"] == 0 || first["carrier-b"] == 0 {
		t.Errorf("first attempt over 100 unseeded runs: %v, want both carriers", first)
	}
}

func TestSimulateTimeWindowEdges(t *testing.T) {
	// Route night, destination 0: 17:30–24:00 and 00:00–08:00 London (UTC in
	// November); from is inclusive, to exclusive.
	for _, tc := range []struct {
		at      string
		skipped bool
	}{
		{"2026-11-23T17:29:59Z", true},
		{"2026-11-23T17:30:00Z", false},
		{"2026-11-23T23:59:59Z", false},
		{"2026-11-24T00:00:00Z", false},
		{"2026-11-24T07:59:59Z", false},
		{"2026-11-24T08:00:00Z", true},
		{"2026-11-24T08:00:00+01:00", false}, // 07:00 UTC
	} {
		d := simulateJSON(t, "--from", "3312345", "--to", "442071236666", "--at", tc.at)
		skipped, _ := d["skipped"].([]any)
		got := len(skipped) == 1
		if got != tc.skipped {
			t.Errorf("--at %s: skipped %v, want destination 0 skipped = %v", tc.at, d["skipped"], tc.skipped)
		}
	}
}

func TestSimulateErrors(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(testConfig)
	if err != nil {
		t.Fatal(err)
	}
	// Two problems in route main (routes[4]): a priority out of range and an
	// unknown trunk.
	bad := strings.Replace(string(src), "        priority: 2\n        value: {type: PHONE, phoneNumber: \"447700900123\"",
		"        priority: 0\n        value: {type: PHONE, phoneNumber: \"447700900123\"", 1)
	bad = strings.Replace(bad, "value: {type: SIP, sipTrunkId: pbx-b, username: \"1000\"}",
		"value: {type: SIP, sipTrunkId: nope, username: \"1000\"}", 1)
	if bad == string(src) {
		t.Fatal("the invalid config is the valid one: testdata changed?")
	}
	badPath := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}

	call := []string{"--from", "1", "--to", "2"}
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"invalid config", append([]string{"route", "simulate", "--config", badPath, "--json"}, call...),
			[]string{"bad.yaml", "routes[4].destinations[2].priority", "routes[4].destinations[1].value.sipTrunkId"}},
		{"missing config file", append([]string{"route", "simulate", "--config", filepath.Join(dir, "absent.yaml")}, call...),
			[]string{"absent.yaml"}},
		{"no --config", append([]string{"route", "simulate"}, call...), []string{"--config is required", "Usage"}},
		{"no --to", []string{"route", "simulate", "--config", testConfig, "--from", "1"}, []string{"--to is required"}},
		{"no --from", []string{"route", "simulate", "--config", testConfig, "--to", "1"}, []string{"--from is required"}},
		{"unknown --down", append([]string{"route", "simulate", "--config", testConfig, "--down", "carrier-z"}, call...),
			[]string{`"carrier-z"`}},
		{"unknown --trunk", append([]string{"route", "simulate", "--config", testConfig, "--trunk", "carrier-z"}, call...),
			[]string{`"carrier-z"`}},
		{"header without =", append([]string{"route", "simulate", "--config", testConfig, "--header", "X-Tenant"}, call...),
			[]string{"-header", "K=V", "Usage"}},
		{"bad --at", append([]string{"route", "simulate", "--config", testConfig, "--at", "yesterday"}, call...),
			[]string{"RFC 3339"}},
		{"bad --seed", append([]string{"route", "simulate", "--config", testConfig, "--seed", "-1"}, call...),
			[]string{"-seed"}},
		{"unknown flag", append([]string{"route", "simulate", "--config", testConfig, "--bogus"}, call...),
			[]string{"bogus", "Usage"}},
		{"extra argument", append([]string{"route", "simulate", "--config", testConfig}, append(call, "extra")...),
			[]string{`"extra"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}
