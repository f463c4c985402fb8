package routing

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

// table compiles a YAML configuration document, loaded as the appliance
// loads it (validated, defaults applied).
func table(t testing.TB, doc string) *Table {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	tbl, err := Compile(cfg)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return tbl
}

// down is a Health with a fixed set of trunks out of service.
type down map[string]bool

func (d down) TrunkDown(id string) bool { return d[id] }

// monday10 is Monday 2026-11-23 10:00 UTC.
var monday10 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const trunks = `
sipTrunks:
  - {id: pbx-a, destinationHosts: ["127.0.0.1:5070"], sourceHosts: ["127.0.0.1"]}
  - {id: pbx-b, destinationHosts: ["127.0.0.1:5071"]}
  - {id: carrier-a, destinationHosts: ["127.0.0.2:5060"]}
  - {id: carrier-b, destinationHosts: ["127.0.0.3:5060"]}
  - {id: carrier-off, adminStatus: DISABLED, destinationHosts: ["127.0.0.4:5060"]}
callsConfigurations:
  - {id: ai-agent}
`

// routeOf returns the matched route id, or "" for none.
func routeOf(d Decision) string {
	if d.Route == nil {
		return ""
	}
	return *d.Route
}

func TestRouteSelection(t *testing.T) {
	tbl := table(t, trunks+`
numbers:
  - {number: "442071234567", action: {type: FORWARD_TO_CALL_ROUTING, routeId: direct}}
  - {number: "442071234568", action: {type: FORWARD_TO_CALL_ROUTING}}
  - {number: "442071234569", action: {type: FORWARD_TO_CALL_ROUTING, routeId: off}}
routes:
  - id: off
    status: DISABLED
    criteria: [{to: "4420(.+)"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-b}}]
  - id: london
    criteria:
      - {to: "4420(.+)", value: {type: PHONE, from: "331(.+)"}}
      - {to: "4420(.+)", value: {type: PHONE, from: "44(.+)"}}
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-a}}]
  - id: uk
    criteria: [{to: "44(.+)"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-a}}]
  - id: exact
    criteria: [{to: "15550100"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-a}}]
  - id: tenant
    criteria:
      - value:
          type: SIP
          sipTrunkId: pbx-a
          username: "sales-.*"
          headers:
            - {headerName: X-Tenant, headerValue: "acme-.*"}
            - {headerName: X-Region, headerValue: "eu|us"}
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-b}}]
  - id: by-from
    criteria: [{value: {type: PHONE, from: "49(.+)"}}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-b}}]
  - id: by-trunk
    criteria: [{value: {type: SIP, sipTrunkId: carrier-a}}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-b}}]
  - id: catch-all
    criteria: [{to: ".*", value: {type: SIP, sipTrunkId: carrier-b}}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-b}}]
  - id: direct
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-b}}]
`)
	acme := []Header{{Name: "x-tenant", Value: "acme-eu"}, {Name: "X-REGION", Value: "eu"}}
	tests := []struct {
		name string
		req  Request
		want string // route id, "" for none
	}{
		{"number's routeId wins over criteria", Request{From: "33123", To: "442071234567"}, "direct"},
		{"number without routeId: criteria decide", Request{From: "33123", To: "442071234568"}, "london"},
		{"number's routeId is DISABLED", Request{From: "33123", To: "442071234569"}, ""},
		{"first enabled route in config order", Request{From: "33123", To: "442079999999"}, "london"},
		{"OR across criteria", Request{From: "447700900000", To: "442079999999"}, "london"},
		{"AND inside a criterion", Request{From: "1555", To: "442079999999"}, "uk"},
		{"shorter prefix", Request{From: "33123", To: "441619999999"}, "uk"},
		{"literal number is exact", Request{To: "15550100"}, "exact"},
		{"literal number is not a prefix", Request{To: "155501001"}, ""},
		{"regex anchored at the start", Request{To: "1442079999999"}, ""},
		{"SIP criterion: trunk, username, headers", Request{To: "100", Username: "sales-1", SIPTrunkID: "pbx-a", Headers: acme}, "tenant"},
		{"header names are case-insensitive, any value of the name", Request{To: "100", Username: "sales-1", SIPTrunkID: "pbx-a",
			Headers: []Header{{Name: "X-Region", Value: "apac"}, {Name: "X-Tenant", Value: "acme-us"}, {Name: "x-region", Value: "us"}}}, "tenant"},
		{"one header missing", Request{To: "100", Username: "sales-1", SIPTrunkID: "pbx-a", Headers: acme[:1]}, ""},
		{"header value anchored", Request{To: "100", Username: "sales-1", SIPTrunkID: "pbx-a",
			Headers: []Header{{Name: "X-Tenant", Value: "acme-eu"}, {Name: "X-Region", Value: "eu-west"}}}, ""},
		{"wrong source trunk", Request{To: "100", Username: "sales-1", SIPTrunkID: "pbx-b", Headers: acme}, ""},
		{"username anchored", Request{To: "100", Username: "presales-1", SIPTrunkID: "pbx-a", Headers: acme}, ""},
		{"indexed by from", Request{From: "4930123", To: "100"}, "by-from"},
		{"indexed by trunk", Request{To: "100", SIPTrunkID: "carrier-a"}, "by-trunk"},
		{"unindexed criterion", Request{To: "100", SIPTrunkID: "carrier-b"}, "catch-all"},
		{"an earlier route indexed elsewhere wins", Request{From: "4930123", To: "100", SIPTrunkID: "carrier-a"}, "by-from"},
		{"route without criteria only via a number", Request{To: "999"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tbl.Decide(&tt.req, monday10, nil, nil)
			if got := routeOf(d); got != tt.want {
				t.Errorf("route = %q, want %q", got, tt.want)
			}
			if d.Action != config.ActionForwardToCallRouting {
				t.Errorf("action = %s", d.Action)
			}
			if tt.want == "" && len(d.Attempts) != 0 {
				t.Errorf("attempts without a route: %+v", d.Attempts)
			}
		})
	}
}

func TestNumberActions(t *testing.T) {
	tbl := table(t, trunks+`
numbers:
  - {number: "1000", action: {type: FORWARD_TO_PHONE, phoneNumber: "447700900123", viaSipTrunkIds: [carrier-off, carrier-a, carrier-b]}}
  - {number: "1001", action: {type: FORWARD_TO_SUBSCRIPTION, callsConfigurationId: ai-agent}}
  - {number: "1002", action: {type: NO_ACTION}}
routes:
  - id: all
    criteria: [{to: ".*"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-a}}]
`)
	d := tbl.Decide(&Request{To: "1000"}, monday10, down{"carrier-b": true}, nil)
	want := Decision{
		Action: config.ActionForwardToPhone,
		Attempts: []Attempt{{Index: 0, Type: AttemptPhone, Weight: 1, SIPTrunkID: "carrier-a",
			PhoneNumber: "447700900123", ConnectTimeout: 60}},
		Skipped: []Skip{{SIPTrunkID: "carrier-off", Reason: SkipTrunkDisabled}, {SIPTrunkID: "carrier-b", Reason: SkipTrunkDown}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("FORWARD_TO_PHONE:\n got %+v\nwant %+v", d, want)
	}

	d = tbl.Decide(&Request{To: "1001"}, monday10, nil, nil)
	if d.Action != config.ActionForwardToSubscription || d.Route != nil || len(d.Attempts) != 0 || d.CallsConfigurationID != "ai-agent" {
		t.Errorf("FORWARD_TO_SUBSCRIPTION: %+v", d)
	}
	d = tbl.Decide(&Request{To: "1002"}, monday10, nil, nil)
	if d.Action != config.ActionNoAction || d.Route != nil || len(d.Attempts) != 0 {
		t.Errorf("NO_ACTION: %+v", d)
	}
	d = tbl.Decide(&Request{To: "1003"}, monday10, nil, nil)
	if d.Action != config.ActionForwardToCallRouting || routeOf(d) != "all" {
		t.Errorf("no number entry: %+v", d)
	}
}

func TestPlan(t *testing.T) {
	tbl := table(t, trunks+`
routes:
  - id: prio
    criteria: [{to: "1"}]
    destinations:
      - {type: ENDPOINT, priority: 3, value: {type: SIP, sipTrunkId: pbx-b}}
      - {type: ENDPOINT, priority: 1, connectTimeout: 15, value: {type: SIP, sipTrunkId: pbx-a, username: "1000"}}
      - {type: ENDPOINT, priority: 2, value: {type: PHONE, phoneNumber: "447700900123", viaSipTrunkIds: [carrier-a, carrier-off, carrier-b]}}
      - {type: URL, priority: 4, url: "http://127.0.0.1:9000/route"}
      - {type: APPLICATION, priority: 5, value: {type: CALLS_APPLICATION, applicationId: ai-agent, timeout: 20}}
  - id: listorder
    criteria: [{to: "2"}]
    destinations:
      - {type: ENDPOINT, weight: 1, value: {type: SIP, sipTrunkId: pbx-b}}
      - {type: ENDPOINT, weight: 99, value: {type: SIP, sipTrunkId: pbx-a}}
  - id: windows
    criteria: [{to: "3"}]
    destinations:
      - type: ENDPOINT
        priority: 1
        value: {type: SIP, sipTrunkId: pbx-a}
        allowedTimeWindows:
          - {days: [MONDAY], from: {hour: 8, minute: 0}, to: {hour: 9, minute: 0}}
          - {days: [MONDAY], from: {hour: 12, minute: 0}, to: {hour: 13, minute: 0}, timezone: Europe/Paris}
      - type: ENDPOINT
        priority: 2
        value: {type: SIP, sipTrunkId: carrier-off}
        allowedTimeWindows: [{days: [SUNDAY]}]
      - {type: ENDPOINT, priority: 3, value: {type: SIP, sipTrunkId: carrier-off}}
      - {type: ENDPOINT, priority: 4, value: {type: SIP, sipTrunkId: carrier-a}}
`)
	t.Run("priority order, PHONE per via trunk, every attempt type", func(t *testing.T) {
		d := tbl.Decide(&Request{To: "1"}, monday10, down{"carrier-b": true, "carrier-off": true}, nil)
		got, _ := json.Marshal(d)
		want := `{"action":"FORWARD_TO_CALL_ROUTING","route":"prio","attempts":[` +
			`{"index":1,"type":"SIP","priority":1,"weight":1,"sipTrunkId":"pbx-a","username":"1000","connectTimeout":15},` +
			`{"index":2,"type":"PHONE","priority":2,"weight":1,"sipTrunkId":"carrier-a","phoneNumber":"447700900123","connectTimeout":60},` +
			`{"index":0,"type":"SIP","priority":3,"weight":1,"sipTrunkId":"pbx-b","connectTimeout":60},` +
			`{"index":3,"type":"URL","priority":4,"weight":1,"url":"http://127.0.0.1:9000/route","connectTimeout":60},` +
			`{"index":4,"type":"APPLICATION","priority":5,"weight":1,"applicationId":"ai-agent","connectTimeout":20}],` +
			`"skipped":[{"index":2,"sipTrunkId":"carrier-off","reason":"TRUNK_DISABLED"},{"index":2,"sipTrunkId":"carrier-b","reason":"TRUNK_DOWN"}]}`
		if string(got) != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		if d.Attempts[0].Destination != &tbl.Config().Routes[0].Destinations[1] {
			t.Error("attempt does not point at its configured destination")
		}
	})
	t.Run("no priorities: list order whatever the weights", func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(1, 2))
		for range 100 {
			d := tbl.Decide(&Request{To: "2"}, monday10, nil, rnd)
			if len(d.Attempts) != 2 || d.Attempts[0].SIPTrunkID != "pbx-b" || d.Attempts[1].SIPTrunkID != "pbx-a" {
				t.Fatalf("attempts = %+v", d.Attempts)
			}
			if d.Attempts[0].Priority != 0 {
				t.Fatalf("priority reported for a route that sets none: %+v", d.Attempts[0])
			}
		}
	})
	tests := []struct {
		name     string
		at       time.Time
		health   Health
		attempts []string // trunk per attempt
		skipped  []Skip
	}{
		{"outside every window, window skips first", monday10, down{"carrier-a": true},
			nil,
			[]Skip{{Index: 0, Reason: SkipOutsideTimeWindow}, {Index: 1, Reason: SkipOutsideTimeWindow},
				{Index: 2, SIPTrunkID: "carrier-off", Reason: SkipTrunkDisabled}, {Index: 3, SIPTrunkID: "carrier-a", Reason: SkipTrunkDown}}},
		{"inside the first window", monday10.Add(-90 * time.Minute), nil,
			[]string{"pbx-a", "carrier-a"},
			[]Skip{{Index: 1, Reason: SkipOutsideTimeWindow}, {Index: 2, SIPTrunkID: "carrier-off", Reason: SkipTrunkDisabled}}},
		{"inside the Paris window (11:30Z is 12:30 CET)", monday10.Add(90 * time.Minute), nil,
			[]string{"pbx-a", "carrier-a"},
			[]Skip{{Index: 1, Reason: SkipOutsideTimeWindow}, {Index: 2, SIPTrunkID: "carrier-off", Reason: SkipTrunkDisabled}}},
		{"disabled and down reports DISABLED only", monday10.Add(-24 * time.Hour), down{"carrier-off": true},
			[]string{"carrier-a"},
			[]Skip{{Index: 0, Reason: SkipOutsideTimeWindow}, {Index: 1, SIPTrunkID: "carrier-off", Reason: SkipTrunkDisabled},
				{Index: 2, SIPTrunkID: "carrier-off", Reason: SkipTrunkDisabled}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tbl.Decide(&Request{To: "3"}, tt.at, tt.health, nil)
			var trunks []string
			for _, a := range d.Attempts {
				trunks = append(trunks, a.SIPTrunkID)
			}
			if !reflect.DeepEqual(trunks, tt.attempts) {
				t.Errorf("attempts = %v, want %v", trunks, tt.attempts)
			}
			if !reflect.DeepEqual(d.Skipped, tt.skipped) {
				t.Errorf("skipped = %+v\n want %+v", d.Skipped, tt.skipped)
			}
		})
	}
}

func TestNoMatchJSON(t *testing.T) {
	tbl := table(t, trunks)
	got, err := json.Marshal(tbl.Decide(&Request{From: "1", To: "2"}, monday10, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"action":"FORWARD_TO_CALL_ROUTING","route":null,"attempts":[],"skipped":[]}`
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A script's set_route names the route whatever the number and criteria
// say; an unknown or disabled id changes nothing.
func TestDecideForcedRoute(t *testing.T) {
	tbl := table(t, `
sipTrunks:
  - {id: a, destinationHosts: [a.example]}
  - {id: b, destinationHosts: [b.example]}
numbers:
  - {number: "4420", action: {type: FORWARD_TO_CALL_ROUTING, routeId: first}}
routes:
  - {id: first, criteria: [{to: "44.*"}], destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: a}}]}
  - {id: second, destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: b}}]}
  - {id: off, status: DISABLED, destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: b}}]}
`)
	for _, tc := range []struct{ to, route, want string }{
		{"4420", "second", "second"},
		{"4499", "second", "second"},
		{"4499", "", "first"},
		{"4499", "nope", "first"},
		{"4499", "off", "first"},
	} {
		d := tbl.Decide(&Request{To: tc.to, Route: tc.route}, time.Now(), nil, nil)
		if d.Route == nil || *d.Route != tc.want {
			t.Errorf("to %s, set_route %q: route %v, want %s", tc.to, tc.route, d.Route, tc.want)
		}
	}
}
