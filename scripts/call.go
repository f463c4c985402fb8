package scripts

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/trunkline/trunkline/routing"
)

// Header is one SIP header, name as received.
type Header struct {
	Name  string
	Value string
}

// Rejection is call:reject's verdict.
type Rejection struct {
	Code   int // 400–699
	Reason string
}

// Call is what hooks see of a call. The caller builds it at call start and
// passes the same *Call to every hook of the call, from the call's owner
// goroutine only: hooks update it (headers, To, From, Rejected, Route, Vars)
// so that later hooks see earlier changes.
type Call struct {
	ID         string
	From       string // calling number (user part)
	FromName   string // display name of From; set by call:set_from
	To         string // called number
	Username   string // R-URI user as received
	SIPTrunkID string // trunk the call came in on; "" when unknown
	SourceIP   string
	Headers    []Header          // as received, in order; hooks edit it
	Vars       map[string]string // seed of call.vars; after each hook, its scalar entries
	Rejected   *Rejection        // set by call:reject
	Route      string            // set by call:set_route

	vars *lua.LTable   // the live call.vars table, kept for the call's life
	lv   [6]lua.LValue // the string fields as Lua values, reused while unchanged
	// call.headers as handed to the last hook, reused by the next while
	// Headers is unchanged and the hook left the table as built: hdrFrom is
	// the Headers it was built from, hdrKV its keys and values.
	hdr     *lua.LTable
	hdrFrom []Header
	hdrKV   []lua.LValue
}

// headersTable returns call.headers for the next hook.
func (c *Call) headersTable(L *lua.LState) *lua.LTable {
	if c.hdr != nil && slices.Equal(c.hdrFrom, c.Headers) {
		return c.hdr
	}
	c.hdr = headersToLua(L, c.Headers)
	c.hdrFrom = slices.Clone(c.Headers)
	c.hdrKV = c.hdrKV[:0]
	for k, v := c.hdr.Next(lua.LNil); k != lua.LNil; k, v = c.hdr.Next(k) {
		c.hdrKV = append(c.hdrKV, k, v)
	}
	return c.hdr
}

// headersDone forgets call.headers unless the hook left it as built and it
// did not escape into call.vars.
func (c *Call) headersDone(escaped bool) {
	t := c.hdr
	if t == nil {
		return
	}
	intact := !escaped && t.Metatable == lua.LNil && t.MaxN() == 0
	for i := 0; intact && i < len(c.hdrKV); i += 2 {
		intact = same(t.RawGet(c.hdrKV[i]), c.hdrKV[i+1])
	}
	if intact {
		last := lua.LValue(lua.LNil)
		if n := len(c.hdrKV); n > 0 {
			last = c.hdrKV[n-2]
		}
		k, _ := t.Next(last)
		intact = k == lua.LNil
	}
	if !intact {
		c.hdr, c.hdrFrom, c.hdrKV = nil, nil, nil
	}
}

// box returns s as a Lua value, reusing the one made for field i last time
// when s has not changed (a string becomes a Lua value at an allocation).
func (c *Call) box(i int, s string) lua.LValue {
	if x, ok := c.lv[i].(lua.LString); ok && string(x) == s {
		return c.lv[i]
	}
	c.lv[i] = lua.LString(s)
	return c.lv[i]
}

// Header returns the first header named name (case-insensitive).
func (c *Call) Header(name string) (string, bool) {
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// HeaderOp is a header change a hook asked for: set (replacing every header
// of that name) or remove.
type HeaderOp struct {
	Name   string
	Value  string
	Remove bool
}

// FromChange is call:set_from's request.
type FromChange struct {
	Number  string
	Display string
}

// Result is what one hook asked for. The caller applies it to the SIP
// messages; the Call has already been updated.
type Result struct {
	Rejected *Rejection  // call:reject
	Headers  []HeaderOp  // on_invite: the inbound request as routed; on_attempt: this attempt's INVITE
	To       string      // call:set_to; "" unchanged
	From     *FromChange // call:set_from
	Route    string      // call:set_route; "" unchanged (the caller checks the id exists)
	// Plan is on_route's replacement plan when PlanReplaced. Attempts kept
	// from the input plan keep their Destination; new ones have Index -1 unless
	// the script set one, and a nil Destination.
	Plan         []routing.Attempt
	PlanReplaced bool
}

// EndLog is what on_end sees of the finished call as its `log` table.
type EndLog struct {
	State      string // FINISHED, BUSY, NO_ANSWER, CANCELLED, FAILED
	Code       int    // final SIP code
	Reason     string
	SIPTrunkID string // trunk of the answering (or last) attempt
	Start      time.Time
	Answer     time.Time // zero when not answered
	End        time.Time
}

// OnInvite runs on_invite(call). A script without the hook returns a zero
// Result and no error without taking a VM.
func (s *Script) OnInvite(ctx context.Context, call *Call) (Result, error) {
	return s.callHook(ctx, HookInvite, call, nil)
}

// OnRoute runs on_route(call, plan). When the hook returns a list, it is
// validated and replaces the plan (Result.PlanReplaced); a malformed list is
// an error wrapping ErrPlan, and the caller keeps its plan. Unknown trunk ids
// are the caller's to check.
func (s *Script) OnRoute(ctx context.Context, call *Call, plan []routing.Attempt) (Result, error) {
	return s.callHook(ctx, HookRoute, call, &hookArgs{route: true, plan: plan})
}

// OnAttempt runs on_attempt(call, attempt) before the INVITE of one attempt.
// The hook sets headers on that INVITE with call:set_header /
// call:remove_header or by filling attempt.headers; Result.Headers lists them.
func (s *Script) OnAttempt(ctx context.Context, call *Call, attempt routing.Attempt) (Result, error) {
	var at *lua.LTable
	return s.callHook(ctx, HookAttempt, call, &hookArgs{
		push: func(L *lua.LState) int {
			at = attemptToLua(L, attempt)
			at.RawSetString("headers", L.CreateTable(0, 0))
			L.Push(at)
			return 1
		},
		ret: func(L *lua.LState, _ lua.LValue, res *Result) error {
			hs, ok := at.RawGetString("headers").(*lua.LTable)
			if !ok {
				return nil
			}
			var names []string
			vals := map[string]string{}
			var bad error
			hs.ForEach(func(k, v lua.LValue) {
				ks, ok1 := k.(lua.LString)
				vs, ok2 := v.(lua.LString)
				if !ok1 || !ok2 {
					bad = fmt.Errorf("attempt.headers: want string names and values, got %s = %s", k.Type(), v.Type())
					return
				}
				names = append(names, string(ks))
				vals[string(ks)] = string(vs)
			})
			if bad != nil {
				return &Error{ScriptID: s.id, Hook: HookAttempt, Msg: bad.Error(), Kind: ErrRuntime}
			}
			slices.Sort(names)
			for _, n := range names {
				if err := checkHeader(n, vals[n]); err != nil {
					return &Error{ScriptID: s.id, Hook: HookAttempt, Msg: "attempt.headers: " + err.Error(), Kind: ErrRuntime}
				}
				res.Headers = append(res.Headers, HeaderOp{Name: n, Value: vals[n]})
			}
			return nil
		},
	})
}

// OnAnswer runs on_answer(call).
func (s *Script) OnAnswer(ctx context.Context, call *Call) error {
	_, err := s.callHook(ctx, HookAnswer, call, nil)
	return err
}

// OnEnd runs on_end(call, log).
func (s *Script) OnEnd(ctx context.Context, call *Call, log EndLog) error {
	_, err := s.callHook(ctx, HookEnd, call, &hookArgs{push: func(L *lua.LState) int {
		t := L.CreateTable(0, 8)
		t.RawSetString("state", lua.LString(log.State))
		t.RawSetString("code", lua.LNumber(log.Code))
		t.RawSetString("reason", lua.LString(log.Reason))
		t.RawSetString("sipTrunkId", lua.LString(log.SIPTrunkID))
		setTime := func(k string, tm time.Time) {
			if !tm.IsZero() {
				t.RawSetString(k, lua.LNumber(float64(tm.UnixNano())/1e9))
			}
		}
		setTime("startTime", log.Start)
		setTime("answerTime", log.Answer)
		setTime("endTime", log.End)
		if !log.Start.IsZero() && !log.End.IsZero() {
			t.RawSetString("duration", lua.LNumber(log.End.Sub(log.Start).Seconds()))
		}
		L.Push(t)
		return 1
	}})
	return err
}

// Run runs hook by name with only the call argument (on_invite, on_answer)
// or with the given plan (on_route); for tools and tests.
func (s *Script) Run(ctx context.Context, hook string, call *Call, plan []routing.Attempt) (Result, error) {
	switch hook {
	case HookInvite, HookAnswer:
		return s.callHook(ctx, hook, call, nil)
	case HookRoute:
		return s.OnRoute(ctx, call, plan)
	case HookAttempt:
		var a routing.Attempt
		if len(plan) > 0 {
			a = plan[0]
		}
		return s.OnAttempt(ctx, call, a)
	case HookEnd:
		return Result{}, s.OnEnd(ctx, call, EndLog{})
	}
	return Result{}, &Error{ScriptID: s.id, Hook: hook, Msg: "unknown hook " + strconv.Quote(hook), Kind: ErrNoHook}
}

type hookArgs struct {
	push func(L *lua.LState) int                                // pushes the arguments after call
	ret  func(L *lua.LState, ret lua.LValue, res *Result) error // reads the hook's return value
	// on_route, without closures: the plan goes in as the VM's reusable
	// attempt tables, and a returned list replaces it.
	route bool
	plan  []routing.Attempt
}

func (s *Script) callHook(ctx context.Context, hook string, call *Call, args *hookArgs) (Result, error) {
	var res Result
	if !s.Has(hook) {
		return res, nil
	}
	if call == nil {
		call = &Call{}
	}
	budget := s.e.opts.Budget
	err := s.run(ctx, hook, budget, call, &res, func(inv *invocation, env *lua.LTable) error {
		L := inv.v.L
		fn, ok := env.RawGetString(hook).(*lua.LFunction)
		if !ok {
			return nil // the top level did not define it this time
		}
		L.Push(fn)
		inv.callTbl = inv.v.callTable(call)
		L.Push(inv.callTbl)
		n := 1
		var tables []*lua.LTable
		switch {
		case args == nil:
		case args.route:
			var t *lua.LTable
			t, tables = inv.v.planToLua(args.plan)
			L.Push(t)
			n++
		case args.push != nil:
			n += args.push(L)
		}
		if err := L.PCall(n, 1, nil); err != nil {
			return err
		}
		ret := L.Get(-1)
		L.Pop(1)
		syncVars(call)
		switch {
		case args == nil:
		case args.route:
			if ret == lua.LNil {
				return nil
			}
			p, err := planFromLua(ret, args.plan, tables)
			if err != nil {
				return &Error{ScriptID: s.id, Hook: HookRoute, Msg: err.Error(), Kind: ErrPlan}
			}
			res.Plan, res.PlanReplaced = p, true
		case args.ret != nil:
			return args.ret(L, ret, &res)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// callFields are the fields of `call` in the order callToLua sets them.
var callFields = [...]string{"id", "from", "to", "username", "sipTrunkId", "sourceIp", "fromName", "headers", "vars", "rejected", "route"}

var lastCallField lua.LValue = lua.LString(callFields[len(callFields)-1])

// callToLua builds a new `call` table for c.
func callToLua(v *vm, c *Call) *lua.LTable {
	t := v.L.CreateTable(0, len(callFields))
	t.Metatable = v.callMT
	fillCall(v.L, t, c)
	return t
}

// callTable returns the VM's `call` table filled for c. The table is reused
// from call to call: it holds every field of callFields (absent ones as
// deleted keys, which keep their place in the iteration order), all set
// afresh here; after the hook, callDone checks that the script added no other
// key, and run drops it if it escaped into call.vars.
func (v *vm) callTable(c *Call) *lua.LTable {
	t := v.callTbl
	if t == nil || v.callUses%rebuildEvery == 0 {
		t = v.L.CreateTable(0, len(callFields))
		t.Metatable = v.callMT
		for _, f := range callFields {
			t.RawSetString(f, lua.LFalse)
		}
		v.callTbl = t
	}
	v.callUses++
	fillCall(v.L, t, c)
	return t
}

// callDone keeps the VM's call table for the next hook only if the script
// added no key to it.
func (v *vm) callDone() {
	t := v.callTbl
	if t == nil {
		return
	}
	if k, _ := t.Next(lastCallField); k != lua.LNil || t.MaxN() != 0 || t.Metatable != v.callMT {
		v.callTbl = nil
	}
}

func fillCall(L *lua.LState, t *lua.LTable, c *Call) {
	t.RawSetString("id", c.box(0, c.ID))
	t.RawSetString("from", c.box(1, c.From))
	t.RawSetString("to", c.box(2, c.To))
	t.RawSetString("username", c.box(3, c.Username))
	t.RawSetString("sipTrunkId", c.box(4, c.SIPTrunkID))
	t.RawSetString("sourceIp", c.box(5, c.SourceIP))
	if c.FromName != "" {
		t.RawSetString("fromName", lua.LString(c.FromName))
	} else {
		t.RawSetString("fromName", lua.LNil)
	}
	t.RawSetString("headers", c.headersTable(L))
	if c.vars == nil {
		c.vars = L.CreateTable(0, max(len(c.Vars), 4))
		for k, val := range c.Vars {
			c.vars.RawSetString(k, lua.LString(val))
		}
	}
	t.RawSetString("vars", c.vars)
	if c.Rejected != nil {
		t.RawSetString("rejected", rejectedToLua(L, c.Rejected))
	} else {
		t.RawSetString("rejected", lua.LNil)
	}
	if c.Route != "" {
		t.RawSetString("route", lua.LString(c.Route))
	} else {
		t.RawSetString("route", lua.LNil)
	}
}

// headersToLua keys headers by name as received; repeated names (the first
// spelling wins) join their values with ", ".
func headersToLua(L *lua.LState, hs []Header) *lua.LTable {
	t := L.CreateTable(0, len(hs))
	for i, h := range hs {
		name, val := h.Name, h.Value
		dup := false
		for _, p := range hs[:i] {
			if strings.EqualFold(p.Name, h.Name) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		for _, n := range hs[i+1:] {
			if strings.EqualFold(n.Name, h.Name) {
				val += ", " + n.Value
			}
		}
		t.RawSetString(name, lua.LString(val))
	}
	return t
}

func rejectedToLua(L *lua.LState, r *Rejection) *lua.LTable {
	t := L.CreateTable(0, 2)
	t.RawSetString("code", lua.LNumber(r.Code))
	t.RawSetString("reason", lua.LString(r.Reason))
	return t
}

// syncVars copies the scalar entries of the live call.vars table into
// Call.Vars, so the Go side can read them; the map is replaced only when they
// changed.
func syncVars(c *Call) {
	if c.vars == nil {
		return
	}
	n, unchanged := 0, true
	for k, v := c.vars.Next(lua.LNil); k != lua.LNil; k, v = c.vars.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok {
			continue
		}
		switch v.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		default:
			continue
		}
		n++
		if old, ok := c.Vars[string(ks)]; !ok || old != v.String() {
			unchanged = false
			break
		}
	}
	if unchanged && n == len(c.Vars) {
		return
	}
	m := make(map[string]string, n)
	for k, v := c.vars.Next(lua.LNil); k != lua.LNil; k, v = c.vars.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok {
			continue
		}
		switch v.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
			m[string(ks)] = v.String()
		}
	}
	c.Vars = m
}

// newCallMethods returns the methods of the call object.
func newCallMethods(L *lua.LState) *lua.LTable {
	m := L.CreateTable(0, 8)
	for name, fn := range map[string]lua.LGFunction{
		"header":        callHeader,
		"reject":        callReject,
		"set_header":    callSetHeader,
		"remove_header": callRemoveHeader,
		"set_to":        callSetTo,
		"set_from":      callSetFrom,
		"set_route":     callSetRoute,
	} {
		m.RawSetString(name, L.NewFunction(fn))
	}
	return m
}

// self checks that the first argument is this hook's call object (catching
// call.reject(…) written for call:reject(…)).
func self(L *lua.LState, method string) *invocation {
	inv := invOf(L)
	if t, ok := L.Get(1).(*lua.LTable); !ok || t != inv.callTbl || inv.call == nil {
		L.RaiseError("call:%s: call it as a method of the hook's call (call:%s(...))", method, method)
	}
	return inv
}

func callHeader(L *lua.LState) int {
	inv := self(L, "header")
	name := L.CheckString(2)
	if v, ok := inv.call.Header(name); ok {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

func callReject(L *lua.LState) int {
	inv := self(L, "reject")
	code := checkInt(L, 2, "code")
	if code < 400 || code > 699 {
		L.ArgError(2, fmt.Sprintf("reject code %d: want 400–699", code))
	}
	reason := L.OptString(3, "")
	if err := checkText(reason, 128); err != nil {
		L.ArgError(3, "reason "+err.Error())
	}
	r := &Rejection{Code: code, Reason: reason}
	inv.call.Rejected = r
	if inv.res != nil {
		inv.res.Rejected = r
	}
	inv.callTbl.RawSetString("rejected", rejectedToLua(L, r))
	return 0
}

func callSetHeader(L *lua.LState) int {
	inv := self(L, "set_header")
	name, value := L.CheckString(2), L.CheckString(3)
	if err := checkHeader(name, value); err != nil {
		L.RaiseError("call:set_header: %v", err)
	}
	c := inv.call
	set := false
	out := c.Headers[:0:0]
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, name) {
			if !set {
				out = append(out, Header{Name: h.Name, Value: value})
				set = true
			}
			continue
		}
		out = append(out, h)
	}
	if !set {
		out = append(out, Header{Name: name, Value: value})
	}
	c.Headers = out
	if inv.res != nil {
		inv.res.Headers = append(inv.res.Headers, HeaderOp{Name: name, Value: value})
	}
	inv.callTbl.RawSetString("headers", headersToLua(L, c.Headers))
	return 0
}

func callRemoveHeader(L *lua.LState) int {
	inv := self(L, "remove_header")
	name := L.CheckString(2)
	if err := checkHeader(name, ""); err != nil {
		L.RaiseError("call:remove_header: %v", err)
	}
	c := inv.call
	out := c.Headers[:0:0]
	for _, h := range c.Headers {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	c.Headers = out
	if inv.res != nil {
		inv.res.Headers = append(inv.res.Headers, HeaderOp{Name: name, Remove: true})
	}
	inv.callTbl.RawSetString("headers", headersToLua(L, c.Headers))
	return 0
}

func callSetTo(L *lua.LState) int {
	inv := self(L, "set_to")
	n := L.CheckString(2)
	if err := checkUser(n); err != nil {
		L.ArgError(2, "number "+err.Error())
	}
	inv.call.To = n
	if inv.res != nil {
		inv.res.To = n
	}
	inv.callTbl.RawSetString("to", lua.LString(n))
	return 0
}

func callSetFrom(L *lua.LState) int {
	inv := self(L, "set_from")
	n := L.CheckString(2)
	if err := checkUser(n); err != nil {
		L.ArgError(2, "number "+err.Error())
	}
	display := L.OptString(3, "")
	if err := checkText(display, 128); err != nil || strings.ContainsAny(display, `"\`) {
		L.ArgError(3, "display name: no control characters, quotes or backslashes, at most 128 bytes")
	}
	inv.call.From, inv.call.FromName = n, display
	if inv.res != nil {
		inv.res.From = &FromChange{Number: n, Display: display}
	}
	inv.callTbl.RawSetString("from", lua.LString(n))
	inv.callTbl.RawSetString("fromName", lua.LString(display))
	return 0
}

func callSetRoute(L *lua.LState) int {
	inv := self(L, "set_route")
	id := L.CheckString(2)
	if id == "" || len(id) > 128 || checkText(id, 128) != nil {
		L.ArgError(2, "route id: 1–128 printable bytes")
	}
	inv.call.Route = id
	if inv.res != nil {
		inv.res.Route = id
	}
	inv.callTbl.RawSetString("route", lua.LString(id))
	return 0
}

// checkInt returns argument n as an integer, refusing fractions.
func checkInt(L *lua.LState, n int, what string) int {
	f := float64(L.CheckNumber(n))
	if f != float64(int(f)) {
		L.ArgError(n, what+" must be an integer")
	}
	return int(f)
}

// protectedHeaders are built by the B2BUA itself; scripts cannot set or remove
// them (From and To change through set_from and set_to). Compact forms included.
var protectedHeaders = map[string]bool{
	"via": true, "v": true, "from": true, "f": true, "to": true, "t": true,
	"call-id": true, "i": true, "cseq": true, "contact": true, "m": true,
	"max-forwards": true, "content-length": true, "l": true, "content-type": true, "c": true,
	"record-route": true, "route": true,
}

const maxHeaderValue = 4096

// checkHeader validates a header a script sets: the name an RFC 3261 token,
// not one the B2BUA owns; the value without CR, LF, NUL or other controls.
func checkHeader(name, value string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("header name %q: want 1–64 bytes", name)
	}
	for i := 0; i < len(name); i++ {
		if !isToken(name[i]) {
			return fmt.Errorf("header name %q: not a token", name)
		}
	}
	if protectedHeaders[strings.ToLower(name)] {
		return fmt.Errorf("header %s is managed by the B2BUA", name)
	}
	if err := checkText(value, maxHeaderValue); err != nil {
		return fmt.Errorf("header %s value %w", name, err)
	}
	return nil
}

func isToken(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// checkText refuses control characters (CR, LF, NUL…) and overlong text.
func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("longer than %d bytes", max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("contains control character %#x", c)
		}
	}
	return nil
}

// checkUser validates a number or user part: 1–64 bytes of URI user
// characters that need no escaping.
func checkUser(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%q: want 1–64 bytes", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+-_.!~*'()&=$,;?/#", c) >= 0) {
			return fmt.Errorf("%q: character %q not allowed", s, c)
		}
	}
	return nil
}
