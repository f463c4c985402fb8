package resolve

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// SRV is one SRV record (RFC 2782).
type SRV struct {
	Target   string // host name, without the trailing dot
	Port     uint16
	Priority uint16
	Weight   uint16
}

// OrderSRV returns records in the order to try them: by ascending
// priority, and within a priority by weighted random selection without
// replacement, so that a record's chance to come first is its share of
// the priority's total weight. Records of weight 0 come after the others of
// their priority, in uniform random order (RFC 2782 gives them "a very small
// chance"; here that chance is nil while a weighted record is left, as in
// Go's net package).
//
// intn returns a uniform random integer in [0, n); nil means
// math/rand/v2.IntN. The records are not modified.
func OrderSRV(records []SRV, intn func(n int) int) []SRV {
	if intn == nil {
		intn = rand.IntN
	}
	out := slices.Clone(records)
	slices.SortStableFunc(out, func(a, b SRV) int { return cmp.Compare(a.Priority, b.Priority) })
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].Priority == out[i].Priority {
			j++
		}
		shuffleByWeight(out[i:j], intn)
		i = j
	}
	return out
}

// shuffleByWeight orders one priority's records by weighted random
// selection without replacement.
func shuffleByWeight(group []SRV, intn func(n int) int) {
	sum := 0
	for _, r := range group {
		sum += int(r.Weight)
	}
	for k := 0; k < len(group)-1; k++ {
		if sum == 0 {
			// Only weight-0 records remain: uniform order.
			l := k + intn(len(group)-k)
			group[k], group[l] = group[l], group[k]
			continue
		}
		x := intn(sum)
		for l := k; l < len(group); l++ {
			x -= int(group[l].Weight)
			if x < 0 {
				sum -= int(group[l].Weight)
				group[k], group[l] = group[l], group[k]
				break
			}
		}
	}
}
