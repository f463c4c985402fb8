package routing

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWeightedOrder checks that equal priorities are ordered by weighted
// random choice without replacement: over many draws, every permutation of a
// 70/20/10 group appears as often as that sampling predicts (chi-square), and
// the lower priority always comes last.
func TestWeightedOrder(t *testing.T) {
	tbl := table(t, trunks+`
routes:
  - id: weighted
    criteria: [{to: "1"}]
    destinations:
      - {type: ENDPOINT, priority: 1, weight: 70, value: {type: SIP, sipTrunkId: pbx-a}}
      - {type: ENDPOINT, priority: 1, weight: 20, value: {type: SIP, sipTrunkId: pbx-b}}
      - {type: ENDPOINT, priority: 1, weight: 10, value: {type: SIP, sipTrunkId: carrier-a}}
      - {type: ENDPOINT, priority: 2, weight: 1000, value: {type: SIP, sipTrunkId: carrier-b}}
`)
	// P(x first, then y) = w(x)/100 * w(y)/(100-w(x)).
	want := map[string]float64{
		"ABC": 0.7 * 20 / 30, "ACB": 0.7 * 10 / 30,
		"BAC": 0.2 * 70 / 80, "BCA": 0.2 * 10 / 80,
		"CAB": 0.1 * 70 / 90, "CBA": 0.1 * 20 / 90,
	}
	letter := map[string]string{"pbx-a": "A", "pbx-b": "B", "carrier-a": "C"}
	const draws = 20000
	rnd := rand.New(rand.NewPCG(7, 11))
	seen := map[string]int{}
	for range draws {
		d := tbl.Decide(&Request{To: "1"}, monday10, nil, rnd)
		if len(d.Attempts) != 4 || d.Attempts[3].SIPTrunkID != "carrier-b" {
			t.Fatalf("attempts = %+v", d.Attempts)
		}
		var perm strings.Builder
		for _, a := range d.Attempts[:3] {
			perm.WriteString(letter[a.SIPTrunkID])
		}
		seen[perm.String()]++
	}
	chi2 := 0.0
	for perm, p := range want {
		exp := p * draws
		diff := float64(seen[perm]) - exp
		chi2 += diff * diff / exp
	}
	if len(seen) != len(want) {
		t.Errorf("permutations seen: %v", seen)
	}
	// 5 degrees of freedom: P(chi2 > 20.52) = 0.001.
	if chi2 > 20.52 {
		t.Errorf("chi-square %.1f over %d draws: seen %v", chi2, draws, seen)
	}
	t.Logf("chi-square %.2f, seen %v", chi2, seen)
}

// TestSeedReproducible checks that the same seed gives the same order.
func TestSeedReproducible(t *testing.T) {
	tbl := table(t, trunks+`
routes:
  - id: weighted
    criteria: [{to: "1"}]
    destinations:
      - {type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: pbx-a}}
      - {type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: pbx-b}}
      - {type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: carrier-a}}
      - {type: ENDPOINT, priority: 1, value: {type: SIP, sipTrunkId: carrier-b}}
`)
	order := func(seed uint64) string {
		d := tbl.Decide(&Request{To: "1"}, monday10, nil, rand.New(rand.NewPCG(seed, seed)))
		var s []string
		for _, a := range d.Attempts {
			s = append(s, a.SIPTrunkID)
		}
		return strings.Join(s, ",")
	}
	orders := map[string]bool{}
	for seed := range uint64(50) {
		if a, b := order(seed), order(seed); a != b {
			t.Fatalf("seed %d: %s then %s", seed, a, b)
		}
		orders[order(seed)] = true
	}
	if len(orders) < 10 {
		t.Errorf("only %d distinct orders over 50 seeds", len(orders))
	}
}
