package config

import (
	"reflect"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	// The embedded default validates on its own (Default hides the error).
	c, err := Parse("default.yaml", DefaultYAML())
	if err != nil {
		t.Fatalf("embedded default.yaml: %v", err)
	}
	limit := DefaultSourceRateLimit
	want := &Config{
		Node: Node{ID: "trunkline", DataDir: "./data"},
		SIP: SIP{Listen: []string{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"}, DrainTimeout: Duration(time.Minute),
			SourceRateLimit: &limit},
		Media: Media{RTPPorts: "20000-30000"},
		API:   API{Listen: "127.0.0.1:8080"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("default.yaml = %+v, want %+v", c, want)
	}
	// The constants ApplyDefaults uses are the embedded file's values.
	empty := &Config{}
	empty.ApplyDefaults()
	if !reflect.DeepEqual(empty, want) {
		t.Errorf("ApplyDefaults on nothing = %+v, want default.yaml's %+v", empty, want)
	}
	if d := Default(); !reflect.DeepEqual(d, want) || d == Default() {
		t.Errorf("Default() = %+v, want a fresh %+v", d, want)
	}
}

func TestApplyDefaults(t *testing.T) {
	c, err := Parse("d.yaml", []byte(`
node: {id: n1}
sipTrunks:
  - {id: plain, destinationHosts: [a.example], sipOptions: {enabled: true}}
  - {id: secure, destinationHosts: [b.example], tls: true, sipOptions: {enabled: false}}
  - {id: set, destinationHosts: [c.example], transport: TCP, srtp: OPTIONAL, adminStatus: DISABLED,
     internationalCallsAllowed: false, sipOptions: {enabled: true, interval: 5s, downAfter: 4, upAfter: 3}}
routes:
  - id: r
    criteria: [{to: "1"}]
    destinations:
      - {type: ENDPOINT, value: {type: SIP, sipTrunkId: plain}}
      - {type: ENDPOINT, weight: 5, connectTimeout: 10, value: {type: SIP, sipTrunkId: set}}
  - id: q
    status: DISABLED
    advanceOn: [486]
    criteria: [{to: "2"}]
    destinations: [{type: ENDPOINT, priority: 3, value: {type: SIP, sipTrunkId: plain}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	trunks := []SIPTrunk{
		{ID: "plain", Type: TrunkStatic, AdminStatus: Enabled, DestinationHosts: []string{"a.example"}, Strategy: StrategyFailover,
			Transport: TransportUDP, SRTP: SRTPDisabled, DTMF: DTMFRFC2833, NumberFormat: FormatUnchanged, InternationalCallsAllowed: &yes,
			SIPOptions: &SIPOptions{Enabled: true, Interval: Duration(60 * time.Second), DownAfter: 2, UpAfter: 1}},
		{ID: "secure", Type: TrunkStatic, AdminStatus: Enabled, DestinationHosts: []string{"b.example"}, Strategy: StrategyFailover,
			TLS: true, Transport: TransportTLS, SRTP: SRTPRequired, DTMF: DTMFRFC2833, NumberFormat: FormatUnchanged, InternationalCallsAllowed: &yes,
			SIPOptions: &SIPOptions{Enabled: false, DownAfter: 2, UpAfter: 1}},
		{ID: "set", Type: TrunkStatic, AdminStatus: Disabled, DestinationHosts: []string{"c.example"}, Strategy: StrategyFailover,
			Transport: TransportTCP, SRTP: SRTPOptional, DTMF: DTMFRFC2833, NumberFormat: FormatUnchanged, InternationalCallsAllowed: &no,
			SIPOptions: &SIPOptions{Enabled: true, Interval: Duration(5 * time.Second), DownAfter: 4, UpAfter: 3}},
	}
	for i := range trunks {
		if !reflect.DeepEqual(c.SIPTrunks[i], trunks[i]) {
			t.Errorf("sipTrunks[%d] = %+v\nwant %+v", i, c.SIPTrunks[i], trunks[i])
		}
	}
	r, q := c.Routes[0], c.Routes[1]
	if r.Status != Enabled || q.Status != Disabled {
		t.Errorf("statuses %q %q", r.Status, q.Status)
	}
	if !reflect.DeepEqual(r.AdvanceOn, DefaultAdvanceOn) || !reflect.DeepEqual(q.AdvanceOn, []int{486}) {
		t.Errorf("advanceOn %v %v", r.AdvanceOn, q.AdvanceOn)
	}
	r.AdvanceOn[0] = 999
	if DefaultAdvanceOn[0] == 999 {
		t.Error("a route's advanceOn shares DefaultAdvanceOn")
	}
	d0, d1 := r.Destinations[0], r.Destinations[1]
	if *d0.Weight != 1 || *d0.ConnectTimeout != 60 || *d1.Weight != 5 || *d1.ConnectTimeout != 10 {
		t.Errorf("weights/timeouts %d/%d %d/%d", *d0.Weight, *d0.ConnectTimeout, *d1.Weight, *d1.ConnectTimeout)
	}
	if d0.Priority != nil || *q.Destinations[0].Priority != 3 {
		t.Error("priorities changed by defaults")
	}
	if c.Node.ID != "n1" || c.API.Listen != DefaultAPIListen {
		t.Errorf("node settings %+v %+v", c.Node, c.API)
	}
}

func TestApplyDefaultsIdempotent(t *testing.T) {
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	again := c.Clone()
	again.ApplyDefaults()
	if !reflect.DeepEqual(c, again) {
		t.Error("ApplyDefaults changed a config it had already completed")
	}
	var nothing *Config
	nothing.ApplyDefaults() // no panic
}
