package scripts

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/trunkline/trunkline/routing"
)

// maxPlan bounds the attempts a script may return.
const maxPlan = 64

// planToLua returns the plan as a list of attempt tables, and the tables in
// order (to recognise them when the script hands them back).
func planToLua(L *lua.LState, plan []routing.Attempt) (*lua.LTable, []*lua.LTable) {
	t := L.CreateTable(len(plan), 0)
	tables := make([]*lua.LTable, len(plan))
	for i, a := range plan {
		at := attemptToLua(L, a)
		tables[i] = at
		t.RawSetInt(i+1, at)
	}
	return t, tables
}

// attemptToLua is a simulate attempt as a table (absent strings are nil).
func attemptToLua(L *lua.LState, a routing.Attempt) *lua.LTable {
	t := L.CreateTable(0, 10)
	t.RawSetString("index", lua.LNumber(a.Index))
	t.RawSetString("type", lua.LString(a.Type))
	if a.Priority != 0 {
		t.RawSetString("priority", lua.LNumber(a.Priority))
	}
	t.RawSetString("weight", lua.LNumber(a.Weight))
	t.RawSetString("connectTimeout", lua.LNumber(a.ConnectTimeout))
	for _, f := range [...]struct {
		k, v string
	}{{"sipTrunkId", a.SIPTrunkID}, {"username", a.Username}, {"phoneNumber", a.PhoneNumber}, {"url", a.URL}, {"applicationId", a.ApplicationID}} {
		if f.v != "" {
			t.RawSetString(f.k, lua.LString(f.v))
		}
	}
	return t
}

// planFromLua validates a plan a script returned. An entry that is one of
// the input tables starts from its input attempt (keeping Destination); a new
// table starts empty with Index -1, weight 1 and connectTimeout 60.
func planFromLua(v lua.LValue, orig []routing.Attempt, tables []*lua.LTable) ([]routing.Attempt, error) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("on_route returned a %s, want a list of attempts or nothing", v.Type())
	}
	n := t.Len()
	count := 0
	var bad error
	t.ForEach(func(k, _ lua.LValue) {
		count++
		if kn, ok := k.(lua.LNumber); !ok || float64(kn) != math.Trunc(float64(kn)) || int(kn) < 1 || int(kn) > n {
			if bad == nil {
				bad = fmt.Errorf("plan: key %s is not a list index", lua.LVAsString(k))
			}
		}
	})
	if bad != nil {
		return nil, bad
	}
	if count != n {
		return nil, fmt.Errorf("plan: not a list (holes)")
	}
	if n > maxPlan {
		return nil, fmt.Errorf("plan: %d attempts, at most %d", n, maxPlan)
	}
	out := make([]routing.Attempt, 0, n)
	for i := 1; i <= n; i++ {
		et, ok := t.RawGetInt(i).(*lua.LTable)
		if !ok {
			return nil, fmt.Errorf("plan[%d]: a %s, want an attempt table", i, t.RawGetInt(i).Type())
		}
		a := routing.Attempt{Index: -1, Weight: 1, ConnectTimeout: 60}
		for j, ot := range tables {
			if ot == et {
				a = orig[j]
				break
			}
		}
		if err := attemptFromLua(et, &a); err != nil {
			return nil, fmt.Errorf("plan[%d]%w", i, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// attemptFromLua overlays the fields of t on a and validates the result.
func attemptFromLua(t *lua.LTable, a *routing.Attempt) error {
	var bad error
	t.ForEach(func(k, v lua.LValue) {
		if bad != nil {
			return
		}
		ks, ok := k.(lua.LString)
		if !ok {
			bad = fmt.Errorf(": key %s: attempt fields are named", lua.LVAsString(k))
			return
		}
		key := string(ks)
		str := func(dst *string) {
			s, ok := v.(lua.LString)
			if !ok {
				bad = fmt.Errorf(".%s: a %s, want a string", key, v.Type())
				return
			}
			if err := checkText(string(s), 256); err != nil {
				bad = fmt.Errorf(".%s: %v", key, err)
				return
			}
			*dst = string(s)
		}
		num := func(dst *int, lo, hi int) {
			f, ok := v.(lua.LNumber)
			if !ok || float64(f) != math.Trunc(float64(f)) || float64(f) < float64(lo) || float64(f) > float64(hi) {
				bad = fmt.Errorf(".%s: %s, want an integer in %d–%d", key, lua.LVAsString(v), lo, hi)
				return
			}
			*dst = int(f)
		}
		switch key {
		case "type":
			str(&a.Type)
		case "sipTrunkId":
			str(&a.SIPTrunkID)
		case "username":
			str(&a.Username)
		case "phoneNumber":
			str(&a.PhoneNumber)
		case "url":
			str(&a.URL)
		case "applicationId":
			str(&a.ApplicationID)
		case "index":
			num(&a.Index, -1, 1<<20)
		case "priority":
			num(&a.Priority, 0, 1<<20)
		case "weight":
			num(&a.Weight, 0, 1<<20)
		case "connectTimeout":
			num(&a.ConnectTimeout, 1, 3600)
		default:
			bad = fmt.Errorf(": unknown field %q", key)
		}
	})
	if bad != nil {
		return bad
	}
	switch a.Type {
	case routing.AttemptSIP:
		if a.SIPTrunkID == "" {
			return fmt.Errorf(": SIP attempt without sipTrunkId")
		}
	case routing.AttemptPhone:
		if a.SIPTrunkID == "" || a.PhoneNumber == "" {
			return fmt.Errorf(": PHONE attempt needs sipTrunkId and phoneNumber")
		}
	case routing.AttemptURL:
		if a.URL == "" {
			return fmt.Errorf(": URL attempt without url")
		}
	case routing.AttemptApplication:
		if a.ApplicationID == "" {
			return fmt.Errorf(": APPLICATION attempt without applicationId")
		}
	default:
		return fmt.Errorf(".type: %q, want SIP, PHONE, URL or APPLICATION", a.Type)
	}
	return nil
}
