package scripts

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// maxStates bounds the top levels one VM keeps (old versions of reloaded
// scripts linger until the bound clears them all).
const maxStates = 16

// topState is a script's top level as run once on one VM: the globals it
// left (env, the environment of every closure it made) and a snapshot of
// everything reachable from them — tables with their contents and
// metatables, and the upvalues of closures with their values.
//
// Hooks run on env directly. After each hook call reset puts every table and
// upvalue of the snapshot back as the top level left it, so the next call
// sees exactly what a fresh run of the top level would give it: a global, a
// field of a top-level table or an upvalue set in one call is gone in the
// next. The check costs one lookup per snapshot entry and nothing is
// allocated unless a call changed something.
//
// Two things a snapshot cannot cover make a top level run per call instead
// (as if it were not cached):
//   - a top level that is not a pure function of the source (it called tl.*
//     or math.random): each call must see its own run (Script.impure);
//   - objects of the state that outlive the call through call.vars (the one
//     Lua value that survives a hook): the VM forgets the state, so the
//     escaped objects belong to that call alone, as they would have.
type topState struct {
	env    *lua.LTable
	tables []tableSnap
	upvals []upvalSnap
	owned  map[*lua.LTable]struct{}
	uvs    map[*lua.Upvalue]struct{}
	fns    map[*lua.LFunction]struct{}
	calls  int // resets so far
	// open is set when an upvalue was still open after the top level
	// returned (never expected): such a state is not cached.
	open bool
}

type tableSnap struct {
	t    *lua.LTable
	mt   lua.LValue
	keys []lua.LValue // in iteration order
	vals []lua.LValue
	// For the cheap check that no key was added: the largest array index,
	// whether the array part has holes, and the last key of the hash part
	// (nil when there is none).
	maxArr   int
	holes    bool
	lastHash lua.LValue
}

type upvalSnap struct {
	uv *lua.Upvalue
	v  lua.LValue
}

// snapshot records everything reachable from env after the top level ran.
// Objects shared by all calls of the VM (the locked metatables) are
// recorded by identity but not walked: no script can reach them raw.
func (v *vm) snapshot(env *lua.LTable) *topState {
	st := &topState{
		env:   env,
		owned: map[*lua.LTable]struct{}{},
		uvs:   map[*lua.Upvalue]struct{}{},
		fns:   map[*lua.LFunction]struct{}{},
	}
	st.walkTable(v, env)
	return st
}

func (st *topState) walkValue(v *vm, val lua.LValue) {
	switch x := val.(type) {
	case *lua.LTable:
		st.walkTable(v, x)
	case *lua.LFunction:
		st.walkFunc(v, x)
	}
}

func (st *topState) walkTable(v *vm, t *lua.LTable) {
	if _, ok := st.owned[t]; ok || v.isShared(t) {
		return
	}
	st.owned[t] = struct{}{}
	snap := tableSnap{t: t, mt: t.Metatable}
	narr := 0
	for k, val := t.Next(lua.LNil); k != lua.LNil; k, val = t.Next(k) {
		snap.keys = append(snap.keys, k)
		snap.vals = append(snap.vals, val)
		if n, ok := k.(lua.LNumber); ok && arrayKey(n) {
			narr++
			snap.maxArr = max(snap.maxArr, int(n))
		} else {
			snap.lastHash = k
		}
	}
	snap.holes = narr != snap.maxArr
	// Rebuilt with only its live keys, the table's hash keys are exactly
	// those of the snapshot, so a key added later shows after lastHash.
	snap.restore()
	st.tables = append(st.tables, snap)
	if mt, ok := snap.mt.(*lua.LTable); ok {
		st.walkTable(v, mt)
	}
	for i := range snap.keys {
		st.walkValue(v, snap.keys[i])
		st.walkValue(v, snap.vals[i])
	}
}

func (st *topState) walkFunc(v *vm, fn *lua.LFunction) {
	if fn.IsG { // the sandbox's Go functions: no state of their own
		return
	}
	if _, ok := st.fns[fn]; ok {
		return
	}
	st.fns[fn] = struct{}{}
	if fn.Env != nil {
		st.walkTable(v, fn.Env)
	}
	for _, uv := range fn.Upvalues {
		if uv == nil {
			continue
		}
		if _, ok := st.uvs[uv]; ok {
			continue
		}
		st.uvs[uv] = struct{}{}
		if !uv.IsClosed() {
			st.open = true
		}
		val := uv.Value()
		st.upvals = append(st.upvals, upvalSnap{uv, val})
		st.walkValue(v, val)
	}
}

// rebuildEvery bounds what gopher-lua keeps of keys deleted from a table (it
// never forgets a key once set): every so many calls the tables of a state are
// rebuilt even when they look intact.
const rebuildEvery = 256

// reset puts every table and upvalue of the snapshot back as the top level
// left it.
func (st *topState) reset() {
	st.calls++
	rebuild := st.calls%rebuildEvery == 0
	for i := range st.tables {
		if ts := &st.tables[i]; rebuild || !ts.intact() {
			ts.restore()
		}
	}
	for _, u := range st.upvals {
		if !same(u.uv.Value(), u.v) {
			u.uv.SetValue(u.v)
		}
	}
}

// intact reports whether t still holds exactly the snapshot: the same
// metatable, the same value under every key, and no other key. Since the
// table was rebuilt from the snapshot, a new array entry raises MaxN and a
// new hash key comes after lastHash; only an array part with holes needs a
// full count.
func (ts *tableSnap) intact() bool {
	t := ts.t
	if t.Metatable != ts.mt {
		return false
	}
	for i, k := range ts.keys {
		if !same(t.RawGet(k), ts.vals[i]) {
			return false
		}
	}
	if ts.holes {
		n := 0
		for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
			n++
		}
		return n == len(ts.keys)
	}
	if t.MaxN() != ts.maxArr {
		return false
	}
	var k lua.LValue
	switch {
	case ts.lastHash != nil:
		k, _ = t.Next(ts.lastHash)
	case ts.maxArr > 0:
		k, _ = t.Next(lua.LNumber(ts.maxArr))
	default:
		k, _ = t.Next(lua.LNil)
	}
	return k == lua.LNil
}

// arrayKey tells whether gopher-lua keeps key n in a table's array part.
func arrayKey(n lua.LNumber) bool {
	return float64(n) == math.Trunc(float64(n)) && n >= 1 && n < lua.LNumber(lua.MaxArrayIndex)
}

// restore rebuilds the table in place (its identity is what closures and
// other tables hold), inserting the keys in their original order so that
// next/pairs walk them as before.
func (ts *tableSnap) restore() {
	*ts.t = lua.LTable{Metatable: ts.mt}
	for i, k := range ts.keys {
		ts.t.RawSet(k, ts.vals[i])
	}
}

// same is raw equality, with numbers compared bit for bit (so a NaN stays
// itself and -0 differs from 0).
func same(a, b lua.LValue) bool {
	if x, ok := a.(lua.LNumber); ok {
		y, ok := b.(lua.LNumber)
		return ok && math.Float64bits(float64(x)) == math.Float64bits(float64(y))
	}
	return a == b
}

// escapes reports whether t (a call's vars table, which outlives the hook)
// reaches anything kept for later calls: the VM's reused tables, the call's
// cached headers table (hdr), or, when st is not nil, one of the state's
// tables or upvalues or a closure made under its environment.
func (v *vm) escapes(t *lua.LTable, st *topState, hdr *lua.LTable) bool {
	if st == nil {
		st = &topState{}
	}
	seen := map[*lua.LTable]struct{}{}
	fns := map[*lua.LFunction]struct{}{}
	var value func(val lua.LValue) bool
	var table func(t *lua.LTable) bool
	table = func(t *lua.LTable) bool {
		if _, ok := st.owned[t]; ok || v.keeps(t) || (hdr != nil && t == hdr) {
			return true
		}
		if _, ok := seen[t]; ok {
			return false
		}
		seen[t] = struct{}{}
		if mt, ok := t.Metatable.(*lua.LTable); ok && table(mt) {
			return true
		}
		found := false
		t.ForEach(func(k, val lua.LValue) {
			if !found && (value(k) || value(val)) {
				found = true
			}
		})
		return found
	}
	value = func(val lua.LValue) bool {
		switch x := val.(type) {
		case *lua.LTable:
			return table(x)
		case *lua.LUserData:
			if mt, ok := x.Metatable.(*lua.LTable); ok && table(mt) {
				return true
			}
			if x.Env != nil {
				return table(x.Env)
			}
		case *lua.LFunction:
			if x.IsG {
				return false
			}
			if _, ok := fns[x]; ok {
				return false
			}
			fns[x] = struct{}{}
			if st.env != nil && x.Env == st.env {
				return true
			}
			for _, uv := range x.Upvalues {
				if uv == nil {
					continue
				}
				if _, ok := st.uvs[uv]; ok {
					return true
				}
				if value(uv.Value()) {
					return true
				}
			}
			if x.Env != nil {
				return table(x.Env)
			}
		}
		return false
	}
	return table(t)
}

// keeps tells whether t is one of the tables the VM reuses from call to call.
func (v *vm) keeps(t *lua.LTable) bool {
	if t == v.callTbl {
		return true
	}
	for _, at := range v.attempts {
		if at == t {
			return true
		}
	}
	return false
}

// scalarOnly reports whether t holds only strings, numbers and booleans
// (then it cannot reach anything of a VM).
func scalarOnly(t *lua.LTable) bool {
	if t.Metatable != lua.LNil && t.Metatable != nil {
		return false
	}
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if !scalar(k) || !scalar(v) {
			return false
		}
	}
	return true
}

func scalar(v lua.LValue) bool {
	switch v.(type) {
	case lua.LString, lua.LNumber, lua.LBool:
		return true
	}
	return false
}
