package resolve

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func targets(rs []SRV) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Target)
	}
	return out
}

func TestOrderSRV(t *testing.T) {
	zero := func(int) int { return 0 }
	last := func(n int) int { return n - 1 }
	tests := []struct {
		name string
		in   []SRV
		intn func(int) int
		want []string
	}{
		{"empty", nil, zero, nil},
		{"one", []SRV{{Target: "a"}}, zero, []string{"a"}},
		{"priority ascending", []SRV{
			{Target: "c", Priority: 30, Weight: 100},
			{Target: "a", Priority: 10, Weight: 1},
			{Target: "b", Priority: 20, Weight: 50},
		}, zero, []string{"a", "b", "c"}},
		{"weights, low draw picks first cumulative", []SRV{
			{Target: "a", Priority: 10, Weight: 60},
			{Target: "b", Priority: 10, Weight: 30},
			{Target: "c", Priority: 10, Weight: 10},
		}, zero, []string{"a", "b", "c"}},
		// sum 100, draw 99 -> c; then [b a] as swapped: sum 90, draw 89 -> a.
		{"weights, high draw picks last cumulative", []SRV{
			{Target: "a", Priority: 10, Weight: 60},
			{Target: "b", Priority: 10, Weight: 30},
			{Target: "c", Priority: 10, Weight: 10},
		}, last, []string{"c", "a", "b"}},
		{"weight 0 after weighted ones", []SRV{
			{Target: "z", Priority: 10, Weight: 0},
			{Target: "a", Priority: 10, Weight: 5},
			{Target: "y", Priority: 10, Weight: 0},
		}, last, []string{"a", "y", "z"}},
		{"all weight 0: uniform draw", []SRV{
			{Target: "a", Priority: 10},
			{Target: "b", Priority: 10},
			{Target: "c", Priority: 10},
		}, last, []string{"c", "a", "b"}},
		{"priorities kept apart", []SRV{
			{Target: "b2", Priority: 20, Weight: 1},
			{Target: "a1", Priority: 10, Weight: 1},
			{Target: "b1", Priority: 20, Weight: 1},
			{Target: "a2", Priority: 10, Weight: 1},
		}, zero, []string{"a1", "a2", "b2", "b1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := targets(OrderSRV(tt.in, tt.intn))
			if !slices.Equal(got, tt.want) {
				t.Errorf("OrderSRV = %v, want %v", got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("OrderSRV modified its input: %v", tt.in)
			}
		})
	}
}

// TestOrderSRVKeepsAll checks that every record comes out once, whatever
// the draws.
func TestOrderSRVKeepsAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		in := make([]SRV, rng.IntN(8))
		for i := range in {
			in[i] = SRV{Target: string(rune('a' + i)), Priority: uint16(rng.IntN(3)), Weight: uint16(rng.IntN(3) * 10)}
		}
		out := OrderSRV(in, rng.IntN)
		if len(out) != len(in) {
			t.Fatalf("OrderSRV(%v) = %v: length changed", in, out)
		}
		for i := 1; i < len(out); i++ {
			if out[i].Priority < out[i-1].Priority {
				t.Fatalf("OrderSRV(%v) = %v: priorities out of order", in, out)
			}
		}
		got, want := targets(out), targets(in)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("OrderSRV(%v) = %v: records lost or duplicated", in, out)
		}
	}
}

// TestOrderSRVWeightShares draws many orders of weights 60/30/10 and
// checks each record's share of first places, and of second places.
func TestOrderSRVWeightShares(t *testing.T) {
	in := []SRV{
		{Target: "a", Priority: 1, Weight: 60},
		{Target: "b", Priority: 1, Weight: 30},
		{Target: "c", Priority: 1, Weight: 10},
	}
	const n = 20000
	rng := rand.New(rand.NewPCG(42, 7))
	first := map[string]int{}
	second := map[string]int{}
	for range n {
		out := OrderSRV(in, rng.IntN)
		first[out[0].Target]++
		second[out[1].Target]++
	}
	// P(second = x) = sum over y != x of P(y first) * w(x) / (100 - w(y)).
	wantFirst := map[string]float64{"a": 0.6, "b": 0.3, "c": 0.1}
	wantSecond := map[string]float64{
		"a": 0.3*60/70 + 0.1*60/90,
		"b": 0.6*30/40 + 0.1*30/90,
		"c": 0.6*10/40 + 0.3*10/70,
	}
	for _, x := range []string{"a", "b", "c"} {
		check(t, "first", x, first[x], n, wantFirst[x])
		check(t, "second", x, second[x], n, wantSecond[x])
	}
}

// check fails when count/n is more than 5 standard deviations from p.
func check(t *testing.T, what, x string, count, n int, p float64) {
	t.Helper()
	got := float64(count) / float64(n)
	sd := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(got-p) > 5*sd {
		t.Errorf("%s place share of %s = %.4f, want %.4f ± %.4f", what, x, got, p, 5*sd)
	}
}

// TestOrderSRVDefaultRand checks that a nil source works.
func TestOrderSRVDefaultRand(t *testing.T) {
	out := OrderSRV([]SRV{{Target: "a", Weight: 1}, {Target: "b", Weight: 1}}, nil)
	if len(out) != 2 {
		t.Fatalf("OrderSRV = %v", out)
	}
}
