// Package scripts runs operators' Lua hooks (DESIGN §6) on yuin/gopher-lua:
// the sandbox, the VM pool, the per-hook budget, the hook API, atomic
// reload, and `trunkline script test`.
//
// # Engine and scripts
//
// New returns an Engine; Load(id, source) compiles a script once (a
// FunctionProto), runs its top level once in the sandbox to find its hooks,
// and swaps it in atomically; a script that does not compile (or whose top
// level fails) is refused with an *Error naming the line, and the previous
// version stays. Engine.Script(id) returns an immutable *Script handle: the
// caller takes it at call start and runs every hook of the call on it, so a
// reload never changes the code of a call in progress. Global and route
// scripts are the same thing here: the caller looks scripts up by id (the
// route's scriptId, or the ids it runs for every call) and runs them in the
// order it chooses.
//
// A *Call, built by the caller at call start and handed to every hook from
// the call's owner goroutine, carries what hooks see and change. Each hook
// returns a Result (rejection, header changes, new To/From, route, new plan)
// that the caller applies to the SIP messages; the Call itself is updated so
// later hooks see call.rejected, call.route, changed headers and call.vars.
// A hook's error is an *Error with the script id, hook and line, wrapping
// ErrRuntime, ErrBudget, ErrMemory or ErrPlan: the caller logs and counts it
// and goes on as if the hook were absent (the Result is then zero).
//
// # Sandbox
//
// Each hook call runs on a pooled LState and sees the script's globals as a
// fresh run of its top level would leave them, so a global set in one call
// is absent in the next. The top level runs once per VM and script version,
// and a snapshot records every table, metatable and upvalue reachable from
// its globals; after each call whatever the hook changed of those is put
// back in place (vm_state.go). A top level that calls tl.* or math.random
// runs again for every call instead, and a VM forgets a top level whose
// objects a hook stored in call.vars (they then belong to that call). The
// `call` table and on_route's attempt tables are likewise reused only while
// hooks add nothing to them and keep them out of call.vars. Only `call.vars`
// (a table kept in the Call) and tl.kv_* (the caller's KV) outlive a hook.
// Available: the base functions assert, error,
// ipairs, next, pairs, pcall, xpcall, rawequal, rawget, rawset, select,
// tonumber, tostring, type, unpack, getmetatable, setmetatable; the string
// (without dump), table and math (without randomseed) modules; and tl. Absent:
// os, io, debug, coroutine, package, load, loadstring, loadfile, dofile,
// require, module, collectgarbage, setfenv, getfenv, print, newproxy. The
// modules are proxies over locked metatables (getmetatable returns
// false, setmetatable refuses), and strings have their own locked metatable,
// so a script can neither reach nor alter anything shared between calls.
//
// # Budget and memory cap
//
// A hook runs under a wall-clock budget (Options.Budget, default 50 ms; a
// test_* function gets 1 s), also bounded by the caller's context (one
// timer per VM, re-armed per call): the VM checks it before every
// instruction, and once it trips every instruction
// raises, so pcall cannot swallow the cut-off. Memory is capped four ways:
//   - Options.MemoryLimit (default 64 MiB): the bytes the process allocates
//     while the hook runs, sampled every millisecond from the first
//     millisecond on; over it the hook is cut off like an overrun (ErrMemory).
//     Go has no per-goroutine accounting, so the count is process-wide: it
//     errs toward cutting a long hook off under heavy load, never toward
//     letting one run away. Hooks shorter than a millisecond never sample it.
//   - library calls that could build a huge string in one step are bounded by
//     MaxStringLen (1 MiB): string.rep, string.format (Lua 5.1's two-digit
//     width/precision), string.gsub (reimplemented in linear time) and
//     table.concat; pattern functions refuse subjects over 1 MiB.
//   - the array part of tables is bounded (2^16 slots), so `t[6e7] = 1`
//     cannot allocate a gigabyte in one instruction.
//   - call stack 200 frames, registry at most 64 Ki slots (1 MiB).
//
// The one gap: the VM's own `..` concatenation is not bounded per
// instruction, so a doubling loop can overshoot MemoryLimit by one doubling
// before the next sample; and Lua patterns backtrack, so a pathological
// pattern on a long subject runs inside one Go call that the budget cannot
// interrupt (subjects are capped at 1 MiB and patterns at 1 KiB, which
// bounds but does not prevent this).
//
// tl.http_get/http_post are bounded by Options.HTTPTimeout and the hook's
// remaining budget and read at most Options.HTTPBodyLimit (64 KiB); on
// failure they return nil and the error text.
//
// # script test
//
// RunTestFiles is `trunkline script test`: tl.test.call, tl.test.run,
// tl.test.eq and tl.test.truthy as DESIGN §6 describes.
//
// It imports routing (for routing.Attempt) and gopher-lua only;
// never sbc, api, cluster or sipgo.
package scripts
