package routing

import (
	"math/rand/v2"
	"time"

	"github.com/trunkline/trunkline/config"
)

// Decide returns what happens to the call req at the instant at: the number's
// action first; without a number entry (or with FORWARD_TO_CALL_ROUTING and no
// routeId) the first ENABLED route, in config order, with a matching
// criterion; then that route's attempt plan. health may be nil (every trunk
// up); rnd may be nil (math/rand/v2's global source).
func (t *Table) Decide(req *Request, at time.Time, health Health, rnd Rand) Decision {
	d := Decision{Action: config.ActionForwardToCallRouting, Attempts: []Attempt{}, Skipped: []Skip{}}
	// A script's set_route names the route, whatever the number and the
	// criteria say.
	ri := t.forced(req.Route)
	a := t.numbers[req.To]
	switch {
	case ri >= 0:
	case a == nil:
		ri = t.match(req)
	default:
		d.Action = a.Type
		switch a.Type {
		case config.ActionForwardToCallRouting:
			if a.RouteID == "" {
				ri = t.match(req)
			} else if i, ok := t.routeByID[a.RouteID]; ok && t.routes[i].enabled {
				ri = i
			}
		case config.ActionForwardToPhone:
			t.phonePlan(&d, a, health)
			return d
		case config.ActionForwardToSubscription:
			d.CallsConfigurationID = a.CallsConfigurationID
			return d
		default:
			return d
		}
	}
	if ri < 0 {
		return d
	}
	r := &t.routes[ri]
	d.Route = &r.id
	t.plan(&d, r, at, health, rnd)
	return d
}

// forced returns the index of the ENABLED route named id, or -1.
func (t *Table) forced(id string) int {
	if id == "" {
		return -1
	}
	if i, ok := t.routeByID[id]; ok && t.routes[i].enabled {
		return i
	}
	return -1
}

// match returns the index of the first ENABLED route with a criterion matching
// req, or -1. Only criteria whose indexed prefix is a prefix of the call's
// value are looked at, in route order, and the first match wins.
func (t *Table) match(req *Request) int {
	var buf [48][]*criterion
	lists := buf[:0]
	lists = t.byTo.walk(req.To, lists)
	lists = t.byFrom.walk(req.From, lists)
	lists = t.byUsername.walk(req.Username, lists)
	if l := t.byTrunk[req.SIPTrunkID]; len(l) > 0 && req.SIPTrunkID != "" {
		lists = append(lists, l)
	}
	if len(t.always) > 0 {
		lists = append(lists, t.always)
	}
	return firstMatch(lists, req)
}

// plan fills d with r's attempts in hunt order and the skipped destinations:
// time-window skips first, then trunk skips, each in hunt order.
func (t *Table) plan(d *Decision, r *route, at time.Time, health Health, rnd Rand) {
	var orderBuf [config.MaxDestinations]int
	order := r.order(orderBuf[:0], rnd)

	d.Attempts = make([]Attempt, 0, r.slots)
	var trunkBuf [8]Skip
	trunkSkips := trunkBuf[:0]
	for _, k := range order {
		cd := &r.dests[k]
		if !cd.inWindow(at) {
			d.Skipped = append(d.Skipped, Skip{Index: cd.index, Reason: SkipOutsideTimeWindow})
			continue
		}
		a := cd.attempt()
		if len(cd.trunks) == 0 {
			d.Attempts = append(d.Attempts, a)
			continue
		}
		for _, id := range cd.trunks {
			if reason := t.trunkSkip(id, health); reason != "" {
				trunkSkips = append(trunkSkips, Skip{Index: cd.index, SIPTrunkID: id, Reason: reason})
				continue
			}
			a.SIPTrunkID = id
			d.Attempts = append(d.Attempts, a)
		}
	}
	d.Skipped = append(d.Skipped, trunkSkips...)
}

// phonePlan fills d for FORWARD_TO_PHONE: one PHONE attempt per via trunk.
func (t *Table) phonePlan(d *Decision, a *config.NumberAction, health Health) {
	d.Attempts = make([]Attempt, 0, len(a.ViaSIPTrunkIDs))
	for _, id := range a.ViaSIPTrunkIDs {
		if reason := t.trunkSkip(id, health); reason != "" {
			d.Skipped = append(d.Skipped, Skip{SIPTrunkID: id, Reason: reason})
			continue
		}
		d.Attempts = append(d.Attempts, Attempt{
			Type:           AttemptPhone,
			Weight:         config.DefaultWeight,
			SIPTrunkID:     id,
			PhoneNumber:    a.PhoneNumber,
			ConnectTimeout: config.DefaultConnectTimeout,
		})
	}
}

// trunkSkip returns why a trunk cannot be attempted, or "". A trunk both
// DISABLED and down is reported DISABLED.
func (t *Table) trunkSkip(id string, health Health) string {
	if tr := t.trunks[id]; tr != nil && tr.AdminStatus == config.Disabled {
		return SkipTrunkDisabled
	}
	if health != nil && health.TrunkDown(id) {
		return SkipTrunkDown
	}
	return ""
}

// order appends to buf the positions in r.dests in hunt order: priority groups
// ascending, each group in weighted random order without replacement.
func (r *route) order(buf []int, rnd Rand) []int {
	for g := 0; g+1 < len(r.groups); g++ {
		lo, hi := r.groups[g], r.groups[g+1]
		start := len(buf)
		total := 0
		for k := lo; k < hi; k++ {
			buf = append(buf, k)
			total += r.dests[k].weight
		}
		group := buf[start:]
		for n := range group[:len(group)-1] {
			x := intN(rnd, total)
			j := n
			for ; j < len(group)-1; j++ {
				if x -= r.dests[group[j]].weight; x < 0 {
					break
				}
			}
			group[n], group[j] = group[j], group[n]
			total -= r.dests[group[n]].weight
		}
	}
	return buf
}

func intN(rnd Rand, n int) int {
	if rnd == nil {
		return rand.IntN(n)
	}
	return rnd.IntN(n)
}

func (cd *dest) inWindow(at time.Time) bool {
	if len(cd.windows) == 0 {
		return true
	}
	for i := range cd.windows {
		if cd.windows[i].contains(at) {
			return true
		}
	}
	return false
}

// attempt returns the attempt this destination yields; the hunt loop sets the
// trunk of SIP and PHONE attempts.
func (cd *dest) attempt() Attempt {
	a := Attempt{
		Index:          cd.index,
		Type:           cd.kind,
		Priority:       cd.priority,
		Weight:         cd.weight,
		ConnectTimeout: cd.connectTimeout,
		URL:            cd.cfg.URL,
		Destination:    cd.cfg,
	}
	if v := cd.cfg.Value; v != nil {
		switch cd.kind {
		case AttemptSIP:
			a.Username = v.Username
		case AttemptPhone:
			a.PhoneNumber = v.PhoneNumber
		case AttemptApplication:
			a.ApplicationID = v.ApplicationID
		}
	}
	return a
}
