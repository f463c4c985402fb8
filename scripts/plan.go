package scripts

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/trunkline/trunkline/routing"
)

// maxPlan bounds the attempts a script may return.
const maxPlan = 64

// planToLua returns the plan as a list of new attempt tables, and the tables
// in order (to recognise them when the script hands them back).
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

// planToLua is planToLua on the VM's reusable attempt tables: each holds
// every field of attemptFields (absent ones as deleted keys, which keep their
// place in the iteration order), all set afresh here. After the hook,
// attemptsDone keeps for the next call only those the script added no key
// (or metatable) to, and run drops them all if one escaped into call.vars.
// The returned slice is the VM's, valid until the next call.
func (v *vm) planToLua(plan []routing.Attempt) (*lua.LTable, []*lua.LTable) {
	t := v.L.CreateTable(len(plan), 0)
	v.attemptUses++
	if v.attemptUses%rebuildEvery == 0 {
		clear(v.attempts)
	}
	for len(v.attempts) < len(plan) {
		v.attempts = append(v.attempts, nil)
	}
	v.planBuf = v.planBuf[:0]
	for i, a := range plan {
		at := v.attempts[i]
		if at == nil {
			at = v.L.CreateTable(0, len(attemptFields))
			for _, f := range attemptFields {
				at.RawSetString(f, lua.LFalse)
			}
			v.attempts[i] = at
		}
		fillAttempt(at, a)
		v.planBuf = append(v.planBuf, at)
		t.RawSetInt(i+1, at)
	}
	v.attemptsUsed = len(plan)
	return t, v.planBuf
}

// attemptsDone drops the attempt tables of this call that the script
// changed beyond their fields.
func (v *vm) attemptsDone() {
	for i := range v.attemptsUsed {
		at := v.attempts[i]
		if at == nil {
			continue
		}
		if k, _ := at.Next(lastAttemptField); k != lua.LNil || at.MaxN() != 0 || at.Metatable != lua.LNil {
			v.attempts[i] = nil
		}
	}
	v.attemptsUsed = 0
	clear(v.planBuf)
	v.planBuf = v.planBuf[:0]
}

// attemptFields are the fields of an attempt table in the order
// attemptToLua sets them.
var attemptFields = [...]string{"index", "type", "priority", "weight", "connectTimeout", "sipTrunkId", "username", "phoneNumber", "url", "applicationId"}

var lastAttemptField lua.LValue = lua.LString(attemptFields[len(attemptFields)-1])

// attemptToLua is a simulate attempt as a new table (absent strings are nil).
func attemptToLua(L *lua.LState, a routing.Attempt) *lua.LTable {
	n := 4
	if a.Priority != 0 {
		n++
	}
	for _, s := range [...]string{a.SIPTrunkID, a.Username, a.PhoneNumber, a.URL, a.ApplicationID} {
		if s != "" {
			n++
		}
	}
	t := L.CreateTable(0, n)
	fillAttempt(t, a)
	return t
}

// fillAttempt sets the fields of a on t; absent ones are deleted.
func fillAttempt(t *lua.LTable, a routing.Attempt) {
	t.RawSetString("index", number(a.Index))
	t.RawSetString("type", lua.LString(a.Type))
	if a.Priority != 0 {
		t.RawSetString("priority", number(a.Priority))
	} else {
		t.RawSetString("priority", lua.LNil)
	}
	t.RawSetString("weight", number(a.Weight))
	t.RawSetString("connectTimeout", number(a.ConnectTimeout))
	for _, f := range [...]struct {
		k, v string
	}{{"sipTrunkId", a.SIPTrunkID}, {"username", a.Username}, {"phoneNumber", a.PhoneNumber}, {"url", a.URL}, {"applicationId", a.ApplicationID}} {
		if f.v != "" {
			t.RawSetString(f.k, lua.LString(f.v))
		} else {
			t.RawSetString(f.k, lua.LNil)
		}
	}
}

// smallNumbers are 0–255 as Lua values, made once (a number becomes a Lua
// value at an allocation).
var smallNumbers = func() (n [256]lua.LValue) {
	for i := range n {
		n[i] = lua.LNumber(i)
	}
	return n
}()

func number(i int) lua.LValue {
	if i >= 0 && i < len(smallNumbers) {
		return smallNumbers[i]
	}
	return lua.LNumber(i)
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
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		count++
		if kn, ok := k.(lua.LNumber); !ok || float64(kn) != math.Trunc(float64(kn)) || int(kn) < 1 || int(kn) > n {
			if bad == nil {
				bad = fmt.Errorf("plan: key %s is not a list index", lua.LVAsString(k))
			}
		}
	}
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
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok {
			return fmt.Errorf(": key %s: attempt fields are named", lua.LVAsString(k))
		}
		var err error
		switch key := string(ks); key {
		case "type":
			err = strField(key, v, &a.Type)
		case "sipTrunkId":
			err = strField(key, v, &a.SIPTrunkID)
		case "username":
			err = strField(key, v, &a.Username)
		case "phoneNumber":
			err = strField(key, v, &a.PhoneNumber)
		case "url":
			err = strField(key, v, &a.URL)
		case "applicationId":
			err = strField(key, v, &a.ApplicationID)
		case "index":
			err = intField(key, v, &a.Index, -1, 1<<20)
		case "priority":
			err = intField(key, v, &a.Priority, 0, 1<<20)
		case "weight":
			err = intField(key, v, &a.Weight, 0, 1<<20)
		case "connectTimeout":
			err = intField(key, v, &a.ConnectTimeout, 1, 3600)
		default:
			err = fmt.Errorf(": unknown field %q", key)
		}
		if err != nil {
			return err
		}
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

func strField(key string, v lua.LValue, dst *string) error {
	s, ok := v.(lua.LString)
	if !ok {
		return fmt.Errorf(".%s: a %s, want a string", key, v.Type())
	}
	if err := checkText(string(s), 256); err != nil {
		return fmt.Errorf(".%s: %v", key, err)
	}
	*dst = string(s)
	return nil
}

func intField(key string, v lua.LValue, dst *int, lo, hi int) error {
	f, ok := v.(lua.LNumber)
	if !ok || float64(f) != math.Trunc(float64(f)) || float64(f) < float64(lo) || float64(f) > float64(hi) {
		return fmt.Errorf(".%s: %s, want an integer in %d–%d", key, lua.LVAsString(v), lo, hi)
	}
	*dst = int(f)
	return nil
}
