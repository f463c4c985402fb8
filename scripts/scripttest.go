package scripts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/trunkline/trunkline/routing"
)

// ScriptTestBudget is the time budget of one test_* function.
const ScriptTestBudget = time.Second

// Summary counts the outcome of RunTestFiles.
type Summary struct {
	Passed, Failed int
}

// RunTestFiles is `trunkline script test`: it runs every global function
// named test_* of each file (in the order they are defined, each in a fresh
// sandbox with ScriptTestBudget) and writes, for each failure, a line
// "--- FAIL: test_name" followed by the message indented, then a last line
// "N passed, M failed". A file that cannot be read or does not compile counts
// as one failure ("--- FAIL: FILE" with the error and its line). Hooks run
// through tl.test.run get opts' budget (DefaultBudget when zero).
func RunTestFiles(w io.Writer, files []string, opts Options) Summary {
	var sum Summary
	for _, f := range files {
		runTestFile(w, f, opts, &sum)
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", sum.Passed, sum.Failed)
	return sum
}

func runTestFile(w io.Writer, file string, opts Options, sum *Summary) {
	fail := func(name, msg string) {
		sum.Failed++
		fmt.Fprintf(w, "--- FAIL: %s\n", name)
		for _, l := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	src, err := os.ReadFile(file)
	if err != nil {
		fail(file, err.Error())
		return
	}
	e := New(opts)
	e.test = true
	defer e.Close()
	s, err := e.Compile(file, string(src))
	if err != nil {
		fail(file, failText(file, err))
		return
	}
	globals, err := s.topLevel(context.Background())
	if err != nil {
		fail(file, failText(file, err))
		return
	}
	type test struct {
		name string
		line int
	}
	var tests []test
	for name, v := range globals {
		if fn, ok := v.(*lua.LFunction); ok && strings.HasPrefix(name, "test_") && fn.Proto != nil {
			tests = append(tests, test{name, fn.Proto.LineDefined})
		}
	}
	sort.Slice(tests, func(i, j int) bool {
		if tests[i].line != tests[j].line {
			return tests[i].line < tests[j].line
		}
		return tests[i].name < tests[j].name
	})
	for _, t := range tests {
		err := s.run(context.Background(), t.name, ScriptTestBudget, nil, nil, func(inv *invocation, env *lua.LTable) error {
			inv.tcalls = map[*lua.LTable]*Call{}
			fn, ok := env.RawGetString(t.name).(*lua.LFunction)
			if !ok {
				return nil
			}
			inv.v.L.Push(fn)
			return inv.v.L.PCall(0, 0, nil)
		})
		if err != nil {
			fail(t.name, failText(file, err))
			continue
		}
		sum.Passed++
	}
}

// failText renders an error as "file:line: message".
func failText(file string, err error) string {
	var se *Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	msg := se.Msg
	switch se.Kind {
	case ErrBudget, ErrMemory:
		msg = se.Kind.Error()
		if se.Hook != "" && strings.HasPrefix(se.Hook, "test_") {
			msg += fmt.Sprintf(" (%s)", ScriptTestBudget)
		}
	case ErrCompile:
		msg = "compile error: " + se.Msg
	}
	if se.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, se.Line, msg)
	}
	return fmt.Sprintf("%s: %s", file, msg)
}

// newTestModule returns tl.test.
func newTestModule(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("call", L.NewFunction(testCall))
	t.RawSetString("run", L.NewFunction(testRun))
	t.RawSetString("eq", L.NewFunction(testEq))
	t.RawSetString("truthy", L.NewFunction(testTruthy))
	return t
}

// testCall is tl.test.call{from=, to=, username=, sipTrunkId=, id=, sourceIp=, headers={...}, vars={...}}.
func testCall(L *lua.LState) int {
	inv := invOf(L)
	if inv.tcalls == nil {
		L.RaiseError("tl.test.call: only inside a test_* function")
	}
	spec := L.OptTable(1, L.CreateTable(0, 0))
	str := func(k string) string {
		v := spec.RawGetString(k)
		if v == lua.LNil {
			return ""
		}
		if s, ok := v.(lua.LString); ok {
			return string(s)
		}
		if n, ok := v.(lua.LNumber); ok {
			return n.String()
		}
		L.RaiseError("tl.test.call: %s: a %s, want a string", k, v.Type())
		return ""
	}
	c := &Call{ID: str("id"), From: str("from"), To: str("to"), Username: str("username"),
		SIPTrunkID: str("sipTrunkId"), SourceIP: str("sourceIp")}
	if c.ID == "" {
		c.ID = "test-call"
	}
	if c.Username == "" {
		c.Username = c.To
	}
	if hs, ok := spec.RawGetString("headers").(*lua.LTable); ok {
		hs.ForEach(func(k, v lua.LValue) {
			c.Headers = append(c.Headers, Header{Name: lua.LVAsString(k), Value: lua.LVAsString(v)})
		})
		slices.SortFunc(c.Headers, func(a, b Header) int { return strings.Compare(a.Name, b.Name) })
	}
	if vs, ok := spec.RawGetString("vars").(*lua.LTable); ok {
		c.vars = vs
	}
	ct := callToLua(inv.v, c)
	inv.tcalls[ct] = c
	L.Push(ct)
	return 1
}

// testRun is tl.test.run(hook, call[, plan]): the hook runs as in production,
// on another VM under the engine's budget; its changes show on call. It
// returns on_route's new plan (nil when kept), on_attempt's headers as a
// table, and nil for the other hooks. A hook that errors fails the test.
func testRun(L *lua.LState) int {
	inv := invOf(L)
	hook := L.CheckString(1)
	ct := L.CheckTable(2)
	c, ok := inv.tcalls[ct]
	if !ok {
		L.ArgError(2, "want a call made by tl.test.call")
	}
	s := inv.s
	if !slices.Contains(hookNames, hook) {
		L.ArgError(1, "unknown hook "+strconv.Quote(hook))
	}
	if !s.Has(hook) {
		L.RaiseError("tl.test.run: the script defines no %s", hook)
	}
	// The hook's budget is bounded by this test's deadline (not by the test's
	// budget itself: that belongs to this VM and is reset per call).
	ctx, cancel := context.WithDeadline(inv.ctx, inv.b.deadline)
	defer cancel()
	var (
		res Result
		err error
		ret lua.LValue = lua.LNil
	)
	switch hook {
	case HookRoute:
		var plan []routing.Attempt
		if pv := L.Get(3); pv != lua.LNil {
			plan, err = planFromLua(pv, nil, nil)
			if err != nil {
				L.ArgError(3, err.Error())
			}
		}
		res, err = s.OnRoute(ctx, c, plan)
		if err == nil && res.PlanReplaced {
			ret, _ = planToLua(L, res.Plan)
		}
	case HookAttempt:
		a := routing.Attempt{Index: -1, Weight: 1, ConnectTimeout: 60}
		if at, ok := L.Get(3).(*lua.LTable); ok {
			if err := attemptFromLua(at, &a); err != nil {
				L.ArgError(3, "attempt"+err.Error())
			}
		} else {
			L.ArgError(3, "want an attempt table")
		}
		res, err = s.OnAttempt(ctx, c, a)
		if err == nil {
			hs := L.CreateTable(0, len(res.Headers))
			for _, h := range res.Headers {
				if h.Remove {
					hs.RawSetString(h.Name, lua.LFalse)
				} else {
					hs.RawSetString(h.Name, lua.LString(h.Value))
				}
			}
			ret = hs
		}
	case HookEnd:
		log := EndLog{}
		if lt, ok := L.Get(3).(*lua.LTable); ok {
			log.State = lua.LVAsString(lt.RawGetString("state"))
			log.Reason = lua.LVAsString(lt.RawGetString("reason"))
			log.SIPTrunkID = lua.LVAsString(lt.RawGetString("sipTrunkId"))
			if n, ok := lt.RawGetString("code").(lua.LNumber); ok {
				log.Code = int(n)
			}
		}
		err = s.OnEnd(ctx, c, log)
	default:
		res, err = s.callHook(ctx, hook, c, nil)
	}
	if err != nil {
		L.RaiseError("%s failed: %v", hook, err)
	}
	// Show the hook's changes on the test's call object.
	ct.RawSetString("to", lua.LString(c.To))
	ct.RawSetString("from", lua.LString(c.From))
	if c.FromName != "" {
		ct.RawSetString("fromName", lua.LString(c.FromName))
	}
	ct.RawSetString("headers", headersToLua(L, c.Headers))
	if c.Rejected != nil {
		ct.RawSetString("rejected", rejectedToLua(L, c.Rejected))
	}
	if c.Route != "" {
		ct.RawSetString("route", lua.LString(c.Route))
	}
	if c.vars != nil {
		ct.RawSetString("vars", c.vars)
	}
	L.Push(ret)
	return 1
}

func testEq(L *lua.LState) int {
	got, want := L.Get(1), L.Get(2)
	if !deepEqual(got, want, 0) {
		L.RaiseError("%sgot %s, want %s", prefix(L.OptString(3, "")), repr(got, 0), repr(want, 0))
	}
	return 0
}

func testTruthy(L *lua.LState) int {
	v := L.Get(1)
	if lua.LVIsFalse(v) {
		L.RaiseError("%sgot %s, want a true value", prefix(L.OptString(2, "")), repr(v, 0))
	}
	return 0
}

func prefix(msg string) string {
	if msg == "" {
		return ""
	}
	return msg + ": "
}

const maxDepth = 32

// deepEqual compares tables by content; everything else as Lua's ==.
func deepEqual(a, b lua.LValue, depth int) bool {
	ta, ok1 := a.(*lua.LTable)
	tb, ok2 := b.(*lua.LTable)
	if !ok1 || !ok2 {
		if na, ok := a.(lua.LNumber); ok {
			nb, ok := b.(lua.LNumber)
			return ok && (na == nb || math.IsNaN(float64(na)) && math.IsNaN(float64(nb)))
		}
		return a == b
	}
	if ta == tb {
		return true
	}
	if depth > maxDepth {
		return false
	}
	equal := true
	n := 0
	ta.ForEach(func(k, v lua.LValue) {
		n++
		if equal && !deepEqual(v, tb.RawGet(k), depth+1) {
			equal = false
		}
	})
	if !equal {
		return false
	}
	m := 0
	tb.ForEach(func(lua.LValue, lua.LValue) { m++ })
	return n == m
}

// repr renders a value for a failure message: strings quoted, tables with
// sorted keys.
func repr(v lua.LValue, depth int) string {
	switch x := v.(type) {
	case lua.LString:
		s := string(x)
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return strconv.Quote(s)
	case *lua.LTable:
		if depth > 4 {
			return "{…}"
		}
		var parts []string
		n := x.Len()
		for i := 1; i <= n; i++ {
			parts = append(parts, repr(x.RawGetInt(i), depth+1))
		}
		var keyed []string
		x.ForEach(func(k, val lua.LValue) {
			if kn, ok := k.(lua.LNumber); ok && float64(kn) == math.Trunc(float64(kn)) && int(kn) >= 1 && int(kn) <= n {
				return
			}
			ks := lua.LVAsString(k)
			if _, ok := k.(lua.LString); !ok {
				ks = "[" + repr(k, depth+1) + "]"
			}
			keyed = append(keyed, ks+"="+repr(val, depth+1))
		})
		sort.Strings(keyed)
		parts = append(parts, keyed...)
		if len(parts) > 50 {
			parts = append(parts[:50], "…")
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return v.String()
}
