package config

import (
	"encoding/json"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func loadFull(t *testing.T) *Config {
	t.Helper()
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClone(t *testing.T) {
	c := loadFull(t)
	c.API.Tokens = []string{} // empty stays empty
	d := c.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatal("clone differs")
	}
	// Nothing is shared.
	*d.Routes[0].Destinations[0].Priority = 9
	d.Routes[0].Destinations[0].Value.CustomHeaders["X-Client-Ref"] = "changed"
	d.Routes[0].Destinations[0].AllowedTimeWindows[0].Days[0] = "SUNDAY"
	d.Routes[0].Criteria[1].Value.Headers[0].HeaderName = "X-Other"
	*d.SIPTrunks[0].InternationalCallsAllowed = false
	d.SIPTrunks[0].SIPOptions.UpAfter = 7
	d.Cluster.Peers[0].ID = "other"
	if !reflect.DeepEqual(c, loadFullWithEmptyTokens(t)) {
		t.Error("changing the clone changed the original")
	}
	if (*Config)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
}

func loadFullWithEmptyTokens(t *testing.T) *Config {
	c := loadFull(t)
	c.API.Tokens = []string{}
	return c
}

// TestJSONRoundTrip checks that the API's JSON form of a loaded config
// carries all of it.
func TestJSONRoundTrip(t *testing.T) {
	c := loadFull(t)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, &back) {
		t.Errorf("JSON round trip differs:\n%s", b)
	}
	if err := back.Validate(""); err != nil {
		t.Errorf("round-tripped config: %v", err)
	}
}

// TestYAMLRoundTrip checks that an exported config (GET /config/1/export)
// imports as the same config.
func TestYAMLRoundTrip(t *testing.T) {
	c := loadFull(t)
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("export.yaml", b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(c, back) {
		t.Errorf("YAML round trip differs:\n%s", b)
	}
}
