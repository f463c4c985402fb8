package scripts

import (
	"context"
	"errors"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Stack limits of every VM: a runaway recursion ends in a "stack overflow"
// error instead of growing without bound.
const (
	callStackSize   = 200
	registrySize    = 1024
	registryMaxSize = 64 * 1024 // slots of 16 bytes: 1 MiB
)

// baseWhitelist is what the sandbox keeps of Lua's base library. Everything
// else (collectgarbage, dofile, getfenv, setfenv, load, loadfile, loadstring,
// print, require, module, newproxy, _printregs) is absent.
var baseWhitelist = []string{
	"assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget",
	"rawset", "select", "tonumber", "tostring", "type", "unpack", "xpcall",
	"getmetatable", "setmetatable", "_VERSION",
}

// vm is one LState with its sandbox scaffolding. It is used by one goroutine
// at a time (taken from and returned to Engine.pool).
type vm struct {
	L        *lua.LState
	e        *Engine
	base     *lua.LTable              // whitelisted base functions, reached through envMT
	envMT    *lua.LTable              // {__index = base, __metatable = false}
	mods     [4]module                // string, table, math, tl: per-call proxies of these
	callMT   *lua.LTable              // {__index = call methods, __metatable = false}
	testMT   *lua.LTable              // script test: locked metatable over tl.test
	shared   map[*lua.LTable]struct{} // the locked metatables above: never walked
	states   map[*Script]*topState    // top levels run on this VM
	callTbl  *lua.LTable              // the `call` table, reused (callTable)
	callUses int
	// on_route's attempt tables, reused (vm.planToLua)
	attempts     []*lua.LTable
	attemptsUsed int
	attemptUses  int
	planBuf      []*lua.LTable
	b            budget
	inv          invocation
}

func (v *vm) isShared(t *lua.LTable) bool {
	_, ok := v.shared[t]
	return ok
}

type module struct {
	name string
	mt   *lua.LTable // {__index = the real module, __metatable = false}
}

func newVM(e *Engine) *vm {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    callStackSize,
		RegistrySize:     registrySize,
		RegistryMaxSize:  registryMaxSize,
		RegistryGrowStep: 256,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	v := &vm{L: L, e: e}
	v.b.watch = &e.watch
	v.base = L.NewTable()
	for _, name := range baseWhitelist {
		v.base.RawSetString(name, g.RawGetString(name))
	}
	v.envMT = locked(L, v.base)

	str := g.RawGetString("string").(*lua.LTable)
	str.RawSetString("dump", lua.LNil)
	str.RawSetString("__index", lua.LNil) // the module must not reach itself
	hardenString(L, str)
	// Strings get their own locked metatable, so getmetatable("") reveals
	// nothing and ("x"):upper() still works.
	L.SetMetatable(lua.LString(""), locked(L, str))

	tab := g.RawGetString("table").(*lua.LTable)
	hardenTable(L, tab)
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("randomseed", lua.LNil)
	random := math.RawGetString("random").(*lua.LFunction).GFunction
	math.RawSetString("random", L.NewFunction(func(L *lua.LState) int {
		markImpure(L)
		return random(L)
	}))

	tl := newTL(L, e.test)
	if t, ok := tl.RawGetString("test").(*lua.LTable); ok {
		v.testMT = locked(L, t)
	}
	v.mods = [4]module{
		{"string", locked(L, str)},
		{"table", locked(L, tab)},
		{"math", locked(L, math)},
		{"tl", locked(L, tl)},
	}
	v.callMT = locked(L, newCallMethods(L))
	v.shared = map[*lua.LTable]struct{}{v.envMT: {}, v.callMT: {}}
	if v.testMT != nil {
		v.shared[v.testMT] = struct{}{}
	}
	for _, m := range v.mods {
		v.shared[m.mt] = struct{}{}
	}
	v.states = map[*Script]*topState{}
	return v
}

// locked returns a metatable {__index = t, __metatable = false}: lookups reach
// t, getmetatable answers false, setmetatable refuses.
func locked(L *lua.LState, t *lua.LTable) *lua.LTable {
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__index", t)
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// newEnv returns a fresh global environment for a run of a script's top
// level: the whitelisted base functions (through the locked metatable), and
// proxies of string, table, math and tl of its own, so nothing written to
// them reaches the shared modules.
func (v *vm) newEnv() *lua.LTable {
	env := v.L.CreateTable(0, 16)
	env.Metatable = v.envMT
	for _, m := range v.mods {
		p := v.L.CreateTable(0, 0)
		p.Metatable = m.mt
		if m.name == "tl" && v.testMT != nil {
			tp := v.L.CreateTable(0, 0)
			tp.Metatable = v.testMT
			p.RawSetString("test", tp)
		}
		env.RawSetString(m.name, p)
	}
	env.RawSetString("_G", env)
	return env
}

// budget is the context a hook runs under; each VM has one, reset per call,
// checked every millisecond by the engine's watchdog. gopher-lua consults
// Done before every instruction: once the budget trips (deadline or
// memory), every instruction raises, so a pcall cannot swallow the cut-off.
type budget struct {
	parent     context.Context // owner goroutine only
	parentDone <-chan struct{}
	inv        *invocation
	deadline   time.Time    // written by the owner under mu, read by tick under mu
	state      atomic.Int32 // 0 running, 1 over time, 2 over memory

	mu        sync.Mutex // the watchdog's side
	running   bool
	memLimit  int64
	memStart  uint64
	memSample []metrics.Sample // nil until the first tick
	watch     *watchdog
}

const (
	tickInterval = time.Millisecond
	heapAllocs   = "/gc/heap/allocs:bytes"
)

var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// begin arms the budget for one hook call.
func (b *budget) begin(parent context.Context, d time.Duration, memLimit int64, inv *invocation) {
	b.parent, b.parentDone, b.inv = parent, parent.Done(), inv
	b.state.Store(0)
	deadline := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	b.mu.Lock()
	b.deadline, b.memLimit, b.running = deadline, memLimit, true
	if b.memSample != nil {
		b.memSample[0].Name = "" // the baseline is taken again at the first tick
	}
	b.mu.Unlock()
	b.watch.add(b)
}

// tick runs on the watchdog's goroutine every millisecond while a hook
// runs. The heap baseline is taken at the first tick, so short hooks never
// pay for reading runtime metrics.
func (b *budget) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		return
	}
	if !time.Now().Before(b.deadline) {
		b.state.CompareAndSwap(0, 1)
		return
	}
	if b.memLimit > 0 {
		if b.memSample == nil {
			b.memSample = []metrics.Sample{{}}
		}
		if b.memSample[0].Name == "" {
			b.memSample[0].Name = heapAllocs
			metrics.Read(b.memSample)
			b.memStart = b.memSample[0].Value.Uint64()
		} else {
			metrics.Read(b.memSample)
			if b.memSample[0].Value.Uint64()-b.memStart > uint64(b.memLimit) {
				b.state.CompareAndSwap(0, 2)
				return
			}
		}
	}
}

// finish disarms the budget and drops what it refers to.
func (b *budget) finish() {
	b.watch.remove(b)
	b.mu.Lock()
	b.running = false
	b.mu.Unlock()
	b.parent, b.parentDone, b.inv = context.Background(), nil, nil
}

func (b *budget) Deadline() (time.Time, bool) { return b.deadline, true }
func (b *budget) Value(key any) any           { return b.parent.Value(key) }

func (b *budget) Done() <-chan struct{} {
	if b.state.Load() != 0 {
		return closedCh
	}
	return b.parentDone
}

func (b *budget) Err() error {
	switch b.state.Load() {
	case 1:
		return ErrBudget
	case 2:
		return ErrMemory
	}
	if err := b.parent.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return ErrBudget
		}
		return err
	}
	return nil
}

// invocation is the Go side of one hook call, reached by the Go functions of
// the call object and of tl through the LState's context. Each VM has one,
// reset per call.
type invocation struct {
	s       *Script
	v       *vm
	hook    string
	call    *Call
	callTbl *lua.LTable
	res     *Result
	b       *budget
	ctx     context.Context
	tcalls  map[*lua.LTable]*Call // script test: the calls tl.test.call built
	// topLevel is set while the script's top level runs; impure records that
	// it called something whose result may differ from run to run.
	topLevel, impure bool
}

func invOf(L *lua.LState) *invocation {
	if b, ok := L.Context().(*budget); ok && b.inv != nil {
		return b.inv
	}
	L.RaiseError("scripts: no invocation")
	return nil
}

// markImpure notes that the top level, if running, depends on more than its
// source (tl.*, math.random), so it must run again for every call.
func markImpure(L *lua.LState) {
	if b, ok := L.Context().(*budget); ok && b.inv != nil && b.inv.topLevel {
		b.inv.impure = true
	}
}

// run takes a pooled VM, resets its budget, finds the script's top level on
// it (run once per VM and version, or per call when impure), then calls fn
// (which pushes and calls the hook) with the script's globals. Afterwards the
// top level's objects are put back as they were. A failed VM is discarded
// rather than pooled.
func (s *Script) run(ctx context.Context, hook string, budgetDur time.Duration, call *Call, res *Result, fn func(inv *invocation, env *lua.LTable) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e := s.e
	v := e.getVM()
	inv := &v.inv
	*inv = invocation{s: s, v: v, hook: hook, call: call, res: res, ctx: ctx, b: &v.b}
	b := &v.b
	b.begin(ctx, budgetDur, e.opts.MemoryLimit, inv)
	L := v.L
	L.SetContext(b)
	st, cached, err := v.topLevel(s, inv)
	if err == nil {
		err = fn(inv, st.env)
	}
	L.RemoveContext()
	if err != nil {
		err = s.wrapErr(hook, err, b)
		b.finish()
		L.Close()
		return err
	}
	b.finish()
	if !cached {
		st = nil
	}
	v.callDone()
	escaped := false
	if call != nil && call.vars != nil && !scalarOnly(call.vars) {
		escaped = v.escapes(call.vars, st, call.hdr)
	}
	if escaped {
		// What call.vars reaches now belongs to this call alone.
		if st != nil {
			delete(v.states, s)
		}
		v.callTbl = nil
		clear(v.attempts)
	} else if st != nil {
		st.reset()
	}
	if call != nil {
		call.headersDone(escaped)
	}
	v.attemptsDone()
	*inv = invocation{}
	e.putVM(v)
	return nil
}

// topLevel returns the script's globals on this VM: the cached state, or a
// fresh run of the top level in a new environment, cached unless the top
// level turned out impure.
func (v *vm) topLevel(s *Script, inv *invocation) (*topState, bool, error) {
	if st, ok := v.states[s]; ok {
		return st, true, nil
	}
	L := v.L
	env := v.newEnv()
	top := L.NewFunctionFromProto(s.proto)
	top.Env = env
	L.Push(top)
	pure := !s.impure.Load()
	inv.topLevel = pure
	err := L.PCall(0, 0, nil)
	inv.topLevel = false
	if err != nil {
		return nil, false, err
	}
	if !pure || inv.impure {
		s.impure.Store(true)
		return &topState{env: env}, false, nil
	}
	st := v.snapshot(env)
	if st.open {
		return st, false, nil
	}
	if len(v.states) >= maxStates {
		clear(v.states)
	}
	v.states[s] = st
	return st, true, nil
}

// topLevel runs the script's top level (or finds it run) and returns its
// global names.
func (s *Script) topLevel(ctx context.Context) (map[string]lua.LValue, error) {
	globals := map[string]lua.LValue{}
	err := s.run(ctx, "", s.e.opts.Budget, nil, nil, func(inv *invocation, env *lua.LTable) error {
		env.ForEach(func(k, v lua.LValue) {
			if ks, ok := k.(lua.LString); ok {
				globals[string(ks)] = v
			}
		})
		return nil
	})
	return globals, err
}

var posRE = regexp.MustCompile(`^(.*?):(\d+): ?`)

// wrapErr turns what PCall returned into an *Error with the script id, the
// hook and the line.
func (s *Script) wrapErr(hook string, err error, b *budget) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	out := &Error{ScriptID: s.id, Hook: hook, Kind: ErrRuntime}
	msg := err.Error()
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		if ue, ok := ae.Object.(*lua.LUserData); ok {
			if inner, ok := ue.Value.(*Error); ok {
				return inner
			}
		}
		msg = ae.Object.String()
	}
	msg, out.Line = splitPos(s.id, msg)
	out.Msg = msg
	switch b.state.Load() {
	case 1:
		out.Kind = ErrBudget
	case 2:
		out.Kind = ErrMemory
	default:
		if b.parent.Err() != nil {
			out.Kind = ErrBudget
			out.Msg = b.parent.Err().Error()
		}
	}
	return out
}

// splitPos strips a leading "chunk:line:" and returns the line when the
// chunk is the script's own.
func splitPos(id, msg string) (string, int) {
	line := 0
	for {
		m := posRE.FindStringSubmatchIndex(msg)
		if m == nil {
			break
		}
		name := msg[m[2]:m[3]]
		if name != id && !strings.HasSuffix(name, "]") && name != "<string>" {
			break
		}
		if name == id && line == 0 {
			line, _ = strconv.Atoi(msg[m[4]:m[5]])
		}
		msg = msg[m[1]:]
	}
	return msg, line
}
