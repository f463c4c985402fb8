package scripts

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// maxArrayIndex bounds the array part of Lua tables. gopher-lua fills the gap
// up to an integer key in one step, so with its default (2^26) a single
// `t[60000000] = 1` allocates a gigabyte before any budget check can run;
// above this bound keys go to the hash part, which grows one entry at a time.
const maxArrayIndex = 1 << 16

// maxRange bounds the index range one library call walks (table.concat).
const maxRange = 1 << 20

func init() {
	// A gopher-lua package variable: set once, before any VM exists. This
	// package is gopher-lua's only user in the binary.
	lua.MaxArrayIndex = maxArrayIndex
}

// hardenString replaces the string functions that can build a huge string
// or run an unbounded Go loop in one call.
func hardenString(L *lua.LState, str *lua.LTable) {
	orig := func(name string) lua.LGFunction { return str.RawGetString(name).(*lua.LFunction).GFunction }
	rep, format := orig("rep"), orig("format")
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && int64(len(s))*int64(n) > MaxStringLen {
			L.RaiseError("string.rep: result over %d bytes", MaxStringLen)
		}
		return rep(L)
	}))
	str.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
		if err := checkFormat(L.CheckString(1)); err != "" {
			L.RaiseError("string.format: %s", err)
		}
		return format(L)
	}))
	for _, name := range []string{"find", "match", "gmatch"} {
		f := orig(name)
		str.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if len(L.CheckString(1)) > MaxStringLen || len(L.CheckString(2)) > 1024 {
				L.RaiseError("string.%s: subject over %d bytes or pattern over 1024 bytes", name, MaxStringLen)
			}
			return f(L)
		}))
	}
	str.RawSetString("gsub", L.NewFunction(strGsub))
}

// checkFormat refuses what Lua 5.1 refuses and fmt would honour: widths and
// precisions of more than two digits, and '*'.
func checkFormat(f string) string {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		digits := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i, digits = i+1, digits+1
		}
		if i < len(f) && f[i] == '.' {
			i++
			d := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i, d = i+1, d+1
			}
			digits = max(digits, d)
		}
		if digits > 2 {
			return "invalid format (width or precision too long)"
		}
		if i < len(f) && f[i] == '*' {
			return "invalid format ('*')"
		}
	}
	return ""
}

// strGsub is string.gsub built in linear time with the result bounded by
// MaxStringLen (gopher-lua's copies the whole string once per match).
func strGsub(L *lua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	limit := L.OptInt(4, -1)
	if len(src) > MaxStringLen || len(pat) > 1024 {
		L.RaiseError("string.gsub: subject over %d bytes or pattern over 1024 bytes", MaxStringLen)
	}
	mds, err := pm.Find(pat, []byte(src), 0, limit)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	var b strings.Builder
	last := 0
	add := func(s string) {
		if b.Len()+len(s) > MaxStringLen {
			L.RaiseError("string.gsub: result over %d bytes", MaxStringLen)
		}
		b.WriteString(s)
	}
	capture := func(md *pm.MatchData, n int) lua.LValue { // n: 0 whole match, 1.. captures
		idx := 2 * n
		if n == 1 && md.CaptureLength() <= 2 {
			idx = 0
		}
		if idx+1 >= md.CaptureLength() {
			L.RaiseError("invalid capture index %%%d", n)
		}
		if md.IsPosCapture(idx) {
			return lua.LNumber(md.Capture(idx))
		}
		return lua.LString(src[md.Capture(idx):md.Capture(idx+1)])
	}
	for _, md := range mds {
		start, end := md.Capture(0), md.Capture(1)
		add(src[last:start])
		whole := src[start:end]
		var val lua.LValue
		switch r := repl.(type) {
		case lua.LString:
			rs := string(r)
			for i := 0; i < len(rs); i++ {
				c := rs[i]
				if c != '%' || i+1 == len(rs) {
					add(rs[i : i+1])
					continue
				}
				i++
				if d := rs[i]; d >= '0' && d <= '9' {
					add(lua.LVAsString(capture(md, int(d-'0'))))
				} else {
					add(rs[i : i+1])
				}
			}
			last = end
			continue
		case *lua.LTable:
			val = L.GetTable(r, capture(md, 1))
		case *lua.LFunction:
			L.Push(r)
			n := 0
			if md.CaptureLength() > 2 {
				for i := 1; 2*i < md.CaptureLength(); i++ {
					L.Push(capture(md, i))
					n++
				}
			} else {
				L.Push(lua.LString(whole))
				n = 1
			}
			L.Call(n, 1)
			val = L.Get(-1)
			L.Pop(1)
		}
		switch v := val.(type) {
		case lua.LString, lua.LNumber:
			add(lua.LVAsString(v))
		default:
			if lua.LVIsFalse(val) {
				add(whole)
			} else {
				L.RaiseError("invalid replacement value (a %s)", val.Type())
			}
		}
		last = end
	}
	add(src[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(len(mds)))
	return 2
}

// hardenTable bounds table.concat's result.
func hardenTable(L *lua.LState, tab *lua.LTable) {
	concat := tab.RawGetString("concat").(*lua.LFunction).GFunction
	tab.RawSetString("concat", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		sep := L.OptString(2, "")
		i := L.OptInt(3, 1)
		j := L.OptInt(4, t.Len())
		if j-i+1 > maxRange {
			L.RaiseError("table.concat: range over %d entries", maxRange)
		}
		total := 0
		for k := i; k <= j; k++ {
			switch v := t.RawGetInt(k).(type) {
			case lua.LString:
				total += len(v)
			case lua.LNumber:
				total += len(strconv.FormatFloat(float64(v), 'g', 14, 64))
			}
			if k < j {
				total += len(sep)
			}
			if total > MaxStringLen {
				L.RaiseError("table.concat: result over %d bytes", MaxStringLen)
			}
		}
		return concat(L)
	}))
}
