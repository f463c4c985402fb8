package config

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// changeBase is the configuration the Apply tests start from. Every
// resource but t3 and spare is referenced by something.
const changeBase = `
node: {id: n1}
sipTrunks:
  - {id: t1, destinationHosts: [sip.example.com]}
  - {id: t2, destinationHosts: ["192.0.2.10:5060"]}
  - {id: in, sourceHosts: [192.0.2.1]}
  - {id: t3, destinationHosts: [t3.example.com]}
numbers:
  - {number: "441", action: {type: FORWARD_TO_CALL_ROUTING, routeId: r1}}
  - {number: "442", action: {type: FORWARD_TO_SUBSCRIPTION, callsConfigurationId: app}}
  - {number: "443", action: {type: FORWARD_TO_PHONE, phoneNumber: "447", viaSipTrunkIds: [t2]}}
routes:
  - id: r1
    criteria: [{to: "44.*"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1}}]
  - id: r2
    scriptId: s1
    criteria: [{value: {type: SIP, sipTrunkId: in}}]
    destinations:
      - {type: ENDPOINT, value: {type: PHONE, phoneNumber: "33", viaSipTrunkIds: [t2, t1]}}
      - {type: APPLICATION, value: {type: CALLS_APPLICATION, applicationId: app}}
callsConfigurations: [{id: app}, {id: spare}]
scripts: [{id: s1, source: "x = 1"}, {id: s2, source: "y = 2"}]
`

func changeBaseConfig(t testing.TB) *Config {
	t.Helper()
	c, err := Parse("base.yaml", []byte(changeBase))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func intp(n int) *int { return &n }

func TestApply(t *testing.T) {
	type check func(t *testing.T, c *Config)
	tests := []struct {
		name    string
		ch      Change
		wantIs  error  // errors.Is target
		inUse   string // the first path of an *InUseError
		problem string // the path of the first problem of an *Error ("-" any)
		check   check
	}{
		// sipTrunk
		{name: "put new trunk", ch: Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: &SIPTrunk{ID: "t9", DestinationHosts: []string{"a.example"}}},
			check: func(t *testing.T, c *Config) {
				tr := c.SIPTrunks[len(c.SIPTrunks)-1]
				if tr.ID != "t9" || tr.Transport != TransportUDP || tr.AdminStatus != Enabled || *tr.InternationalCallsAllowed != true {
					t.Errorf("stored %+v: want t9 last with defaults", tr)
				}
			}},
		{name: "create new trunk", ch: Change{Op: OpPut, Kind: KindSIPTrunk, Create: true, SIPTrunk: &SIPTrunk{ID: "t9"}}},
		{name: "create taken trunk", ch: Change{Op: OpPut, Kind: KindSIPTrunk, Create: true, SIPTrunk: &SIPTrunk{ID: "t1", DestinationHosts: []string{"a.example"}}}, wantIs: ErrExists},
		{name: "replace trunk in place", ch: Change{Op: OpPut, Kind: KindSIPTrunk, Replace: true, ID: "t2", SIPTrunk: &SIPTrunk{ID: "t2", Name: "two", DestinationHosts: []string{"b.example"}}},
			check: func(t *testing.T, c *Config) {
				if c.SIPTrunks[1].ID != "t2" || c.SIPTrunks[1].Name != "two" || len(c.SIPTrunks) != 4 {
					t.Errorf("trunks %+v", c.SIPTrunks)
				}
			}},
		{name: "replace unknown trunk", ch: Change{Op: OpPut, Kind: KindSIPTrunk, Replace: true, SIPTrunk: &SIPTrunk{ID: "nope"}}, wantIs: ErrNotFound},
		{name: "upsert existing trunk", ch: Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: &SIPTrunk{ID: "t1", DestinationHosts: []string{"c.example"}}},
			check: func(t *testing.T, c *Config) {
				if c.SIPTrunks[0].DestinationHosts[0] != "c.example" {
					t.Errorf("t1 not replaced: %+v", c.SIPTrunks[0])
				}
			}},
		{name: "invalid trunk host", ch: Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: &SIPTrunk{ID: "t1", DestinationHosts: []string{"ok.example", "bad host"}}},
			problem: "sipTrunks[0].destinationHosts[1]"},
		{name: "new invalid trunk path is its future index", ch: Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: &SIPTrunk{ID: "t9", Transport: "SCTP"}},
			problem: "sipTrunks[4].transport"},
		{name: "trunk a route sends to loses its hosts", ch: Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: &SIPTrunk{ID: "t1", SourceHosts: []string{"192.0.2.7"}}},
			problem: "routes[0].destinations[0].value.sipTrunkId"},
		{name: "delete unused trunk", ch: Change{Op: OpDelete, Kind: KindSIPTrunk, ID: "t3"},
			check: func(t *testing.T, c *Config) {
				if len(c.SIPTrunks) != 3 || c.SIPTrunks[2].ID != "in" {
					t.Errorf("trunks %+v", c.SIPTrunks)
				}
			}},
		{name: "delete unknown trunk", ch: Change{Op: OpDelete, Kind: KindSIPTrunk, ID: "nope"}, wantIs: ErrNotFound},
		{name: "delete trunk used by a destination", ch: Change{Op: OpDelete, Kind: KindSIPTrunk, ID: "t1"}, wantIs: ErrInUse,
			inUse: "routes[0].destinations[0].value.sipTrunkId"},
		{name: "delete trunk used by a number first", ch: Change{Op: OpDelete, Kind: KindSIPTrunk, ID: "t2"}, wantIs: ErrInUse,
			inUse: "numbers[2].action.viaSipTrunkIds[0]"},
		{name: "delete trunk used by a criterion", ch: Change{Op: OpDelete, Kind: KindSIPTrunk, ID: "in"}, wantIs: ErrInUse,
			inUse: "routes[1].criteria[0].value.sipTrunkId"},

		// route
		{name: "put new route", ch: Change{Op: OpPut, Kind: KindRoute, Create: true, Route: &Route{ID: "r9",
			Destinations: []Destination{{Type: DestinationEndpoint, Value: &EndpointValue{Type: EndpointSIP, SIPTrunkID: "t3"}}}}},
			check: func(t *testing.T, c *Config) {
				r := c.Routes[2]
				if r.ID != "r9" || r.Status != Enabled || len(r.AdvanceOn) == 0 || *r.Destinations[0].Weight != DefaultWeight || *r.Destinations[0].ConnectTimeout != DefaultConnectTimeout {
					t.Errorf("route %+v: want r9 last with defaults", r)
				}
			}},
		{name: "route to unknown trunk", ch: Change{Op: OpPut, Kind: KindRoute, Route: &Route{ID: "r9",
			Destinations: []Destination{{Type: DestinationEndpoint, Value: &EndpointValue{Type: EndpointSIP, SIPTrunkID: "ghost"}}}}},
			problem: "routes[2].destinations[0].value.sipTrunkId"},
		{name: "route priority out of range", ch: Change{Op: OpPut, Kind: KindRoute, Replace: true, Route: &Route{ID: "r1",
			Destinations: []Destination{{Type: DestinationEndpoint, Priority: intp(0), Value: &EndpointValue{Type: EndpointSIP, SIPTrunkID: "t1"}}}}},
			problem: "routes[0].destinations[0].priority"},
		{name: "replace unknown route", ch: Change{Op: OpPut, Kind: KindRoute, Replace: true, Route: &Route{ID: "nope"}}, wantIs: ErrNotFound},
		{name: "create taken route", ch: Change{Op: OpPut, Kind: KindRoute, Create: true, Route: &Route{ID: "r2"}}, wantIs: ErrExists},
		{name: "delete route used by a number", ch: Change{Op: OpDelete, Kind: KindRoute, ID: "r1"}, wantIs: ErrInUse, inUse: "numbers[0].action.routeId"},
		{name: "delete route", ch: Change{Op: OpDelete, Kind: KindRoute, ID: "r2"},
			check: func(t *testing.T, c *Config) {
				if len(c.Routes) != 1 || c.Routes[0].ID != "r1" {
					t.Errorf("routes %+v", c.Routes)
				}
			}},
		{name: "delete unknown route", ch: Change{Op: OpDelete, Kind: KindRoute, ID: "nope"}, wantIs: ErrNotFound},

		// number
		{name: "put new number", ch: Change{Op: OpPut, Kind: KindNumber, Create: true, Number: &Number{Number: "449", Action: NumberAction{Type: ActionNoAction}}},
			check: func(t *testing.T, c *Config) {
				if len(c.Numbers) != 4 || c.Numbers[3].Number != "449" {
					t.Errorf("numbers %+v", c.Numbers)
				}
			}},
		{name: "create taken number", ch: Change{Op: OpPut, Kind: KindNumber, Create: true, Number: &Number{Number: "441", Action: NumberAction{Type: ActionNoAction}}}, wantIs: ErrExists},
		{name: "replace number", ch: Change{Op: OpPut, Kind: KindNumber, Replace: true, ID: "442", Number: &Number{Number: "442", Action: NumberAction{Type: ActionNoAction}}},
			check: func(t *testing.T, c *Config) {
				if c.Numbers[1].Action.Type != ActionNoAction {
					t.Errorf("numbers %+v", c.Numbers)
				}
			}},
		{name: "number to unknown route", ch: Change{Op: OpPut, Kind: KindNumber, Number: &Number{Number: "441", Action: NumberAction{Type: ActionForwardToCallRouting, RouteID: "ghost"}}},
			problem: "numbers[0].action.routeId"},
		{name: "number not digits", ch: Change{Op: OpPut, Kind: KindNumber, Number: &Number{Number: "44x", Action: NumberAction{Type: ActionNoAction}}},
			problem: "numbers[3].number"},
		{name: "delete number", ch: Change{Op: OpDelete, Kind: KindNumber, ID: "441"},
			check: func(t *testing.T, c *Config) {
				if len(c.Numbers) != 2 || c.Numbers[0].Number != "442" {
					t.Errorf("numbers %+v", c.Numbers)
				}
			}},
		{name: "delete unknown number", ch: Change{Op: OpDelete, Kind: KindNumber, ID: "999"}, wantIs: ErrNotFound},

		// callsConfiguration
		{name: "put new application", ch: Change{Op: OpPut, Kind: KindCallsConfiguration, Create: true, CallsConfiguration: &CallsConfiguration{ID: "a9", Events: []string{"CALL_RECEIVED"}}}},
		{name: "application bad event", ch: Change{Op: OpPut, Kind: KindCallsConfiguration, CallsConfiguration: &CallsConfiguration{ID: "app", Events: []string{"NOPE"}}},
			problem: "callsConfigurations[0].events[0]"},
		{name: "create taken application", ch: Change{Op: OpPut, Kind: KindCallsConfiguration, Create: true, CallsConfiguration: &CallsConfiguration{ID: "app"}}, wantIs: ErrExists},
		{name: "replace unknown application", ch: Change{Op: OpPut, Kind: KindCallsConfiguration, Replace: true, CallsConfiguration: &CallsConfiguration{ID: "nope"}}, wantIs: ErrNotFound},
		{name: "delete application used by a number", ch: Change{Op: OpDelete, Kind: KindCallsConfiguration, ID: "app"}, wantIs: ErrInUse,
			inUse: "numbers[1].action.callsConfigurationId"},
		{name: "delete unused application", ch: Change{Op: OpDelete, Kind: KindCallsConfiguration, ID: "spare"}},
		{name: "delete unknown application", ch: Change{Op: OpDelete, Kind: KindCallsConfiguration, ID: "nope"}, wantIs: ErrNotFound},

		// script
		{name: "put script", ch: Change{Op: OpPut, Kind: KindScript, Script: &Script{ID: "s1", Source: "x = 2"}},
			check: func(t *testing.T, c *Config) {
				if c.Scripts[0].Source != "x = 2" {
					t.Errorf("scripts %+v", c.Scripts)
				}
			}},
		{name: "script with file and source", ch: Change{Op: OpPut, Kind: KindScript, Script: &Script{ID: "s3", File: "a.lua", Source: "x"}},
			problem: "scripts[2].source"},
		{name: "create taken script", ch: Change{Op: OpPut, Kind: KindScript, Create: true, Script: &Script{ID: "s2", Source: "x"}}, wantIs: ErrExists},
		{name: "replace unknown script", ch: Change{Op: OpPut, Kind: KindScript, Replace: true, Script: &Script{ID: "s9", Source: "x"}}, wantIs: ErrNotFound},
		{name: "delete script used by a route", ch: Change{Op: OpDelete, Kind: KindScript, ID: "s1"}, wantIs: ErrInUse, inUse: "routes[1].scriptId"},
		{name: "delete unused script", ch: Change{Op: OpDelete, Kind: KindScript, ID: "s2"}},
		{name: "delete unknown script", ch: Change{Op: OpDelete, Kind: KindScript, ID: "s9"}, wantIs: ErrNotFound},

		// malformed changes
		{name: "no op", ch: Change{Kind: KindScript}, problem: "op"},
		{name: "unknown op", ch: Change{Op: "PATCH", Kind: KindScript}, problem: "op"},
		{name: "no kind", ch: Change{Op: OpPut}, problem: "kind"},
		{name: "unknown kind", ch: Change{Op: OpDelete, Kind: "trunk", ID: "t1"}, problem: "kind"},
		{name: "put without resource", ch: Change{Op: OpPut, Kind: KindRoute}, problem: "route"},
		{name: "put with another kind's resource", ch: Change{Op: OpPut, Kind: KindRoute, Script: &Script{ID: "x"}}, problem: "script"},
		{name: "put without id", ch: Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: &SIPTrunk{DestinationHosts: []string{"a.example"}}}, problem: "sipTrunk.id"},
		{name: "put number without number", ch: Change{Op: OpPut, Kind: KindNumber, Number: &Number{Action: NumberAction{Type: ActionNoAction}}}, problem: "number.number"},
		{name: "put id mismatch", ch: Change{Op: OpPut, Kind: KindScript, ID: "s1", Script: &Script{ID: "s2", Source: "x"}}, problem: "script.id"},
		{name: "delete without id", ch: Change{Op: OpDelete, Kind: KindScript}, problem: "id"},
		{name: "import without config", ch: Change{Op: OpImport}, problem: "config"},
		{name: "bad id", ch: Change{Op: OpPut, Kind: KindScript, Script: &Script{ID: "a/b", Source: "x"}}, problem: "scripts[2].id"},

		// import
		{name: "import replaces resources, keeps node settings", ch: Change{Op: OpImport, Config: &Config{
			Node:      Node{ID: "other", DataDir: "/elsewhere"},
			API:       API{Listen: "0.0.0.0:1"},
			SIPTrunks: []SIPTrunk{{ID: "x", DestinationHosts: []string{"x.example"}}},
			Routes: []Route{{ID: "rx", Criteria: []Criterion{{To: "1.*"}},
				Destinations: []Destination{{Type: DestinationEndpoint, Value: &EndpointValue{Type: EndpointSIP, SIPTrunkID: "x"}}}}},
		}}, check: func(t *testing.T, c *Config) {
			if c.Node.ID != "n1" || c.API.Listen != DefaultAPIListen {
				t.Errorf("node settings changed: %+v %+v", c.Node, c.API)
			}
			if len(c.SIPTrunks) != 1 || len(c.Routes) != 1 || c.Numbers != nil || c.Scripts != nil || c.CallsConfigurations != nil {
				t.Errorf("resources not replaced: %+v", c)
			}
			if c.Routes[0].Status != Enabled || c.SIPTrunks[0].Strategy != StrategyFailover {
				t.Errorf("defaults not applied")
			}
		}},
		{name: "import empty", ch: Change{Op: OpImport, Config: &Config{}}, check: func(t *testing.T, c *Config) {
			if len(c.SIPTrunks)+len(c.Routes)+len(c.Numbers)+len(c.Scripts)+len(c.CallsConfigurations) != 0 {
				t.Error("resources left")
			}
		}},
		{name: "import invalid", ch: Change{Op: OpImport, Config: &Config{
			Numbers: []Number{{Number: "1", Action: NumberAction{Type: ActionForwardToCallRouting, RouteID: "ghost"}}},
		}}, problem: "numbers[0].action.routeId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := changeBaseConfig(t)
			before := c.Clone()
			got, err := c.Apply(tt.ch)
			if !reflect.DeepEqual(c, before) {
				t.Fatal("Apply modified its receiver")
			}
			wantErr := tt.wantIs != nil || tt.problem != "" || tt.inUse != ""
			if !wantErr {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if got == nil || got == c {
					t.Fatal("Apply returned no new config")
				}
				if err := got.Validate(""); err != nil {
					t.Errorf("result does not validate: %v", err)
				}
				if again, err := got.Apply(Change{Op: OpImport, Config: got}); err != nil || !reflect.DeepEqual(again, got) {
					t.Errorf("result is not a fixed point of importing itself: %v", err)
				}
				if tt.check != nil {
					tt.check(t, got)
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("Apply = %v, %v: want nil and an error", got, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v: want %v", err, tt.wantIs)
			}
			if tt.inUse != "" {
				var iu *InUseError
				if !errors.As(err, &iu) || iu.Paths[0] != tt.inUse || !strings.Contains(err.Error(), tt.inUse) {
					t.Errorf("error %v: want an *InUseError first naming %s", err, tt.inUse)
				}
			}
			if tt.problem != "" {
				var e *Error
				if !errors.As(err, &e) || len(e.Problems) == 0 || e.Problems[0].Path != tt.problem {
					t.Errorf("error %v: want an *Error at %s", err, tt.problem)
				}
				if errors.Is(err, ErrExists) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInUse) {
					t.Errorf("a validation error is also a sentinel: %v", err)
				}
			}
		})
	}
}

// TestApplyInUseListsEveryReference: a trunk used twice is reported with
// both paths, in document order.
func TestApplyInUseListsEveryReference(t *testing.T) {
	_, err := changeBaseConfig(t).Apply(Change{Op: OpDelete, Kind: KindSIPTrunk, ID: "t2"})
	var iu *InUseError
	if !errors.As(err, &iu) {
		t.Fatalf("error %v", err)
	}
	want := []string{"numbers[2].action.viaSipTrunkIds[0]", "routes[1].destinations[0].value.viaSipTrunkIds[0]"}
	if !reflect.DeepEqual(iu.Paths, want) || iu.Kind != KindSIPTrunk || iu.ID != "t2" {
		t.Errorf("got %+v, want paths %q", iu, want)
	}
}

// TestApplyOnNil: the empty store's configuration accepts changes.
func TestApplyOnNil(t *testing.T) {
	c, err := (*Config)(nil).Apply(Change{Op: OpPut, Kind: KindScript, Script: &Script{ID: "s", Source: "x"}})
	if err != nil || len(c.Scripts) != 1 {
		t.Fatalf("Apply on nil = %+v, %v", c, err)
	}
}

// TestApplySharesNothingWithChange: the stored resource is a copy.
func TestApplySharesNothingWithChange(t *testing.T) {
	tr := &SIPTrunk{ID: "t9", DestinationHosts: []string{"a.example"}}
	c, err := changeBaseConfig(t).Apply(Change{Op: OpPut, Kind: KindSIPTrunk, SIPTrunk: tr})
	if err != nil {
		t.Fatal(err)
	}
	tr.DestinationHosts[0] = "changed.example"
	if c.SIPTrunks[4].DestinationHosts[0] != "a.example" {
		t.Error("the config shares the change's slice")
	}
}

// TestParsedConfigRevalidates: a parsed config (defaults applied) is valid,
// which Apply relies on when it validates the whole document again.
func TestParsedConfigRevalidates(t *testing.T) {
	for _, c := range []*Config{loadFull(t), changeBaseConfig(t), Default()} {
		if err := c.Validate(""); err != nil {
			t.Error(err)
		}
	}
}

// TestChangeJSON: a change survives the command log's JSON encoding.
func TestChangeJSON(t *testing.T) {
	ch := Change{Op: OpPut, Kind: KindRoute, Create: true, Route: &changeBaseConfig(t).Routes[1]}
	data, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	var back Change
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ch, back) {
		t.Errorf("round trip: %+v != %+v", back, ch)
	}
}

// randomChange builds a change from a few ids and kinds, valid or not.
func randomChange(r *rand.Rand, base *Config) Change {
	ids := []string{"t1", "t2", "t3", "in", "r1", "r2", "441", "442", "app", "spare", "s1", "s2", "new", ""}
	id := ids[r.IntN(len(ids))]
	kinds := []string{KindSIPTrunk, KindRoute, KindNumber, KindCallsConfiguration, KindScript, "bogus"}
	ch := Change{Kind: kinds[r.IntN(len(kinds))], ID: id, Create: r.IntN(4) == 0, Replace: r.IntN(4) == 0}
	switch r.IntN(5) {
	case 0:
		ch.Op = OpDelete
		return ch
	case 1:
		ch.Op = OpImport
		ch.Config = base.Clone()
		if r.IntN(2) == 0 && len(ch.Config.Routes) > 0 {
			ch.Config.Routes = ch.Config.Routes[1:]
		}
		return ch
	}
	ch.Op = OpPut
	switch ch.Kind {
	case KindSIPTrunk:
		ch.SIPTrunk = &SIPTrunk{ID: id, DestinationHosts: []string{"h.example"}}
		if r.IntN(3) == 0 {
			ch.SIPTrunk.DestinationHosts = nil
		}
	case KindRoute:
		tr := []string{"t1", "t3", "ghost", "in"}[r.IntN(4)]
		ch.Route = &Route{ID: id, Destinations: []Destination{{Type: DestinationEndpoint, Value: &EndpointValue{Type: EndpointSIP, SIPTrunkID: tr}}}}
	case KindNumber:
		ch.Number = &Number{Number: id, Action: NumberAction{Type: ActionForwardToCallRouting, RouteID: []string{"", "r1", "ghost"}[r.IntN(3)]}}
	case KindCallsConfiguration:
		ch.CallsConfiguration = &CallsConfiguration{ID: id}
	case KindScript:
		ch.Script = &Script{ID: id, Source: "x"}
	}
	return ch
}

// FuzzApply: Apply never mutates its receiver, is deterministic, and
// whatever it accepts is valid — along random chains of changes.
func FuzzApply(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 42, 1234} {
		f.Add(seed)
	}
	base := changeBaseConfig(f)
	f.Fuzz(func(t *testing.T, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		c := base.Clone()
		for range 20 {
			ch := randomChange(r, base)
			before := c.Clone()
			got, err := c.Apply(ch)
			if !reflect.DeepEqual(c, before) {
				t.Fatalf("Apply(%+v) modified its receiver", ch)
			}
			again, err2 := c.Apply(ch)
			if (err == nil) != (err2 == nil) || !reflect.DeepEqual(got, again) {
				t.Fatalf("Apply(%+v) is not deterministic", ch)
			}
			if err != nil {
				continue
			}
			if verr := got.Validate(""); verr != nil {
				t.Fatalf("Apply(%+v) accepted an invalid result: %v", ch, verr)
			}
			c = got
		}
	})
}
