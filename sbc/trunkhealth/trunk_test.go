package trunkhealth

import (
	"github.com/trunkline/trunkline/config"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestThresholds drives the rules round by round with Poll: which answers
// count, downAfter/upAfter, and the trunk verdict over its two addresses.
func TestThresholds(t *testing.T) {
	type round struct {
		a, b   answer
		want   []string // changes, in order
		down   bool     // TrunkDown afterwards
		aD, bD bool     // AddressDown of A and B afterwards
	}
	tests := []struct {
		name      string
		downAfter int // 0 = default 2
		upAfter   int // 0 = default 1
		rounds    []round
	}{
		{
			name: "all alive",
			rounds: []round{
				{a: ok200, b: ok200},
				{a: ok404, b: ok486},
				{a: ok499, b: ok200},
			},
		},
		{
			name: "default thresholds: down after 2 failures, up after 1 success",
			rounds: []round{
				{a: bad503, b: ok200},
				{a: bad503, b: ok200, want: []string{"A down"}, aD: true},
				{a: bad503, b: ok200, aD: true},
				{a: ok200, b: ok200, want: []string{"A up"}},
			},
		},
		{
			name: "a success resets the failure count",
			rounds: []round{
				{a: bad503, b: ok200},
				{a: ok200, b: ok200},
				{a: bad503, b: ok200},
				{a: refused, b: ok200, want: []string{"A down"}, aD: true},
			},
		},
		{
			name: "trunk down when every address is down, up with the first one back",
			rounds: []round{
				{a: bad503, b: refused},
				{a: bad503, b: refused, want: []string{"A down", "B down", "trunk down"}, down: true, aD: true, bD: true},
				{a: bad503, b: refused, down: true, aD: true, bD: true},
				{a: bad503, b: ok200, want: []string{"B up", "trunk up"}, aD: true},
			},
		},
		{
			name: "addresses go down in different rounds",
			rounds: []round{
				{a: bad503, b: ok200},
				{a: bad503, b: bad503, want: []string{"A down"}, aD: true},
				{a: bad503, b: bad503, want: []string{"B down", "trunk down"}, down: true, aD: true, bD: true},
			},
		},
		{
			name:      "downAfter 1, upAfter 3",
			downAfter: 1, upAfter: 3,
			rounds: []round{
				{a: bad500, b: ok200, want: []string{"A down"}, aD: true},
				{a: ok200, b: ok200, aD: true},
				{a: ok200, b: ok200, aD: true},
				{a: ok200, b: ok200, want: []string{"A up"}},
			},
		},
		{
			name:    "a failure resets the success count of a down address",
			upAfter: 2,
			rounds: []round{
				{a: bad503, b: ok200},
				{a: bad503, b: ok200, want: []string{"A down"}, aD: true},
				{a: ok200, b: ok200, aD: true},
				{a: bad503, b: ok200, aD: true},
				{a: ok200, b: ok200, aD: true},
				{a: ok200, b: ok200, want: []string{"A up"}},
			},
		},
		{
			name:      "5xx, 6xx, transport error, no code and timeout are failures",
			downAfter: 5,
			rounds: []round{
				{a: bad500, b: ok200},
				{a: bad603, b: ok200},
				{a: refused, b: ok200},
				{a: noCode, b: ok200},
				{a: silent, b: ok200, want: []string{"A down"}, aD: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Options{ProbeTimeout: 20 * time.Millisecond})
			r.m.Update(nil) // harmless before anything
			r.m.Update(tripleTrunks(tt.downAfter, tt.upAfter))
			for i, rd := range tt.rounds {
				r.p.set(map[netip.AddrPort]answer{addrA: rd.a, addrB: rd.b})
				got := r.poll()
				if !slices.Equal(got, rd.want) {
					t.Fatalf("round %d: changes %q, want %q", i+1, got, rd.want)
				}
				if d := r.m.TrunkDown("trunk"); d != rd.down {
					t.Fatalf("round %d: TrunkDown = %v, want %v", i+1, d, rd.down)
				}
				if d := r.m.AddressDown("trunk", addrA); d != rd.aD {
					t.Fatalf("round %d: AddressDown(A) = %v, want %v", i+1, d, rd.aD)
				}
				if d := r.m.AddressDown("trunk", addrB); d != rd.bD {
					t.Fatalf("round %d: AddressDown(B) = %v, want %v", i+1, d, rd.bD)
				}
			}
		})
	}
}

// tripleTrunks is the trunk of TestThresholds (A and B) beside an
// unpolled trunk that also lists A.
func tripleTrunks(downAfter, upAfter int) []config.SIPTrunk {
	unpolled := trunkConf("unpolled", opts(0, 0, 0), "192.0.2.1")
	unpolled.SIPOptions.Enabled = false
	return []config.SIPTrunk{
		trunkConf("trunk", opts(time.Hour, downAfter, upAfter), "192.0.2.1", "192.0.2.2:5060"),
		unpolled,
	}
}
