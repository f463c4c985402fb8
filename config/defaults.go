package config

import (
	_ "embed"
	"slices"
	"time"
)

// Node defaults: the values of default.yaml, which a test keeps in step.
const (
	DefaultNodeID       = "trunkline"
	DefaultDataDir      = "./data"
	DefaultAPIListen    = "127.0.0.1:8080"
	DefaultRTPPorts     = "20000-30000"
	DefaultDrainTimeout = Duration(time.Minute)
	// DefaultSourceRateLimit is sip.sourceRateLimit when absent.
	DefaultSourceRateLimit = 100
)

// Trunk defaults.
const (
	DefaultOptionsInterval  = Duration(60 * time.Second)
	DefaultOptionsDownAfter = 2
	DefaultOptionsUpAfter   = 1
)

// DefaultSIPListen returns the SIP listeners used when sip.listen is absent.
func DefaultSIPListen() []string {
	return []string{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"}
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration document.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Default returns the configuration `trunkline serve` runs on without a
// file: the embedded default.yaml, parsed, validated and with defaults applied.
// Each call returns a fresh copy.
func Default() *Config {
	c, err := Parse("default.yaml", defaultYAML)
	if err != nil { // cannot happen: TestDefault parses it
		c = &Config{}
		c.ApplyDefaults()
	}
	return c
}

// ApplyDefaults fills in every absent field that has a default (DESIGN §3):
// node settings, trunk options, route status and advanceOn, destination weight
// and connectTimeout. Priorities are left as they are: none set means list
// order. It does no I/O, and applying it twice changes nothing.
func (c *Config) ApplyDefaults() {
	if c == nil {
		return
	}
	c.nodeDefaults()
	for i := range c.SIPTrunks {
		c.SIPTrunks[i].applyDefaults()
	}
	for i := range c.Routes {
		c.Routes[i].applyDefaults()
	}
}

func (c *Config) nodeDefaults() {
	setString(&c.Node.ID, DefaultNodeID)
	setString(&c.Node.DataDir, DefaultDataDir)
	if len(c.SIP.Listen) == 0 {
		c.SIP.Listen = DefaultSIPListen()
	}
	if c.SIP.DrainTimeout == 0 {
		c.SIP.DrainTimeout = DefaultDrainTimeout
	}
	if c.SIP.SourceRateLimit == nil {
		n := DefaultSourceRateLimit
		c.SIP.SourceRateLimit = &n
	}
	setString(&c.Media.RTPPorts, DefaultRTPPorts)
	setString(&c.API.Listen, DefaultAPIListen)
}

func (t *SIPTrunk) applyDefaults() {
	setString(&t.AdminStatus, Enabled)
	setString(&t.Type, TrunkStatic)
	setString(&t.Strategy, StrategyFailover)
	if t.TLS {
		setString(&t.Transport, TransportTLS)
		setString(&t.SRTP, SRTPRequired)
	}
	setString(&t.Transport, TransportUDP)
	setString(&t.SRTP, SRTPDisabled)
	setString(&t.DTMF, DTMFRFC2833)
	setString(&t.NumberFormat, FormatUnchanged)
	if t.InternationalCallsAllowed == nil {
		allowed := true
		t.InternationalCallsAllowed = &allowed
	}
	if o := t.SIPOptions; o != nil {
		if o.Enabled && o.Interval == 0 {
			o.Interval = DefaultOptionsInterval
		}
		setInt(&o.DownAfter, DefaultOptionsDownAfter)
		setInt(&o.UpAfter, DefaultOptionsUpAfter)
	}
}

func (r *Route) applyDefaults() {
	setString(&r.Status, Enabled)
	if len(r.AdvanceOn) == 0 {
		r.AdvanceOn = slices.Clone(DefaultAdvanceOn)
	}
	for i := range r.Destinations {
		d := &r.Destinations[i]
		if d.Weight == nil {
			w := DefaultWeight
			d.Weight = &w
		}
		if d.ConnectTimeout == nil {
			t := DefaultConnectTimeout
			d.ConnectTimeout = &t
		}
	}
}

func setString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func setInt(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}
