package routing_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
)

func intp(v int) *int { return &v }

// A route with two weighted destinations of equal priority and a fallback:
// the plan lists the weighted pair in a seeded random order, then the
// fallback; a trunk reported down is skipped with its reason.
func Example() {
	cfg := &config.Config{
		SIPTrunks: []config.SIPTrunk{
			{ID: "pbx-a", DestinationHosts: []string{"192.0.2.10:5060"}},
			{ID: "pbx-b", DestinationHosts: []string{"192.0.2.11:5060"}},
			{ID: "carrier", DestinationHosts: []string{"198.51.100.5:5060"}},
		},
		Routes: []config.Route{{
			ID:       "london",
			Criteria: []config.Criterion{{To: "4420(.+)"}},
			Destinations: []config.Destination{
				{Type: "ENDPOINT", Priority: intp(1), Weight: intp(70), Value: &config.EndpointValue{Type: "SIP", SIPTrunkID: "pbx-a"}},
				{Type: "ENDPOINT", Priority: intp(1), Weight: intp(30), Value: &config.EndpointValue{Type: "SIP", SIPTrunkID: "pbx-b"}},
				{Type: "ENDPOINT", Priority: intp(2), Value: &config.EndpointValue{Type: "PHONE", PhoneNumber: "447700900123", ViaSIPTrunkIDs: []string{"carrier"}}},
			},
		}},
	}
	table, err := routing.Compile(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	call := &routing.Request{From: "33123456789", To: "442071234567", Username: "442071234567"}
	d := table.Decide(call, time.Now(), downTrunks{"pbx-b": true}, rand.New(rand.NewPCG(1, 1)))
	fmt.Println("route:", *d.Route)
	for _, a := range d.Attempts {
		fmt.Println("attempt:", a.Index, a.Type, a.SIPTrunkID)
	}
	for _, s := range d.Skipped {
		fmt.Println("skipped:", s.Index, s.SIPTrunkID, s.Reason)
	}
	// Output:
	// route: london
	// attempt: 0 SIP pbx-a
	// attempt: 2 PHONE carrier
	// skipped: 1 pbx-b TRUNK_DOWN
}

type downTrunks map[string]bool

func (d downTrunks) TrunkDown(id string) bool { return d[id] }
