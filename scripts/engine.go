package scripts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Defaults of Options.
const (
	DefaultBudget        = 50 * time.Millisecond
	DefaultMemoryLimit   = 64 << 20 // bytes allocated while one hook runs
	DefaultHTTPTimeout   = 2 * time.Second
	DefaultHTTPBodyLimit = 64 << 10
	// MaxStringLen bounds a string built in one library call (string.rep,
	// string.format, string.gsub, table.concat) and the subject of pattern
	// functions.
	MaxStringLen = 1 << 20
)

// Hook names (DESIGN §6).
const (
	HookInvite  = "on_invite"
	HookRoute   = "on_route"
	HookAttempt = "on_attempt"
	HookAnswer  = "on_answer"
	HookEnd     = "on_end"
)

var hookNames = []string{HookInvite, HookRoute, HookAttempt, HookAnswer, HookEnd}

// Sentinel errors; a hook's error is an *Error wrapping one of them.
var (
	ErrCompile = errors.New("compile error")
	ErrRuntime = errors.New("runtime error")
	ErrBudget  = errors.New("time budget exceeded")
	ErrMemory  = errors.New("memory limit exceeded")
	ErrPlan    = errors.New("malformed plan")
	ErrNoHook  = errors.New("no such hook")
)

// Error is a script's failure: a compile error, or a hook that failed at run
// time. Line is 0 when unknown. errors.Is(err, ErrBudget) etc. tell the kind.
type Error struct {
	ScriptID string
	Hook     string // "" for a compile error or the script's top level at load
	Line     int
	Msg      string
	Kind     error // one of the Err… sentinels
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("script ")
	b.WriteString(e.ScriptID)
	if e.Hook != "" {
		b.WriteString(": ")
		b.WriteString(e.Hook)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Kind == ErrBudget || e.Kind == ErrMemory || e.Kind == ErrCompile {
		b.WriteString(e.Kind.Error())
		if e.Msg != "" && e.Kind == ErrCompile {
			b.WriteString(": ")
			b.WriteString(e.Msg)
		}
	} else {
		b.WriteString(e.Msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Kind }

// KV is the key/value store behind tl.kv_get and tl.kv_set (the replicated
// store in the appliance).
type KV interface {
	Get(key string) (string, bool)
	Set(key, value string) error
}

// Options configure an Engine. The zero value is usable.
type Options struct {
	Logger        *slog.Logger     // tl.log and nothing else; nil discards
	Budget        time.Duration    // per hook call; default DefaultBudget
	MemoryLimit   int64            // bytes allocated per hook call; default DefaultMemoryLimit, <0 none
	HTTPClient    *http.Client     // tl.http_*; nil: a client without redirects
	HTTPTimeout   time.Duration    // per request, also bounded by the budget
	HTTPBodyLimit int64            // response bytes; default DefaultHTTPBodyLimit
	Now           func() time.Time // tl.now; nil: time.Now
	KV            KV               // tl.kv_*; nil: they raise an error
	PoolSize      int              // idle VMs kept; default 4×GOMAXPROCS
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = DefaultHTTPTimeout
	}
	if o.HTTPBodyLimit <= 0 {
		o.HTTPBodyLimit = DefaultHTTPBodyLimit
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 4 * runtime.GOMAXPROCS(0)
	}
	return o
}

// Engine compiles scripts, keeps them by id and runs their hooks on pooled
// Lua VMs. It is safe for concurrent use.
type Engine struct {
	opts    Options
	pool    chan *vm
	mu      sync.Mutex // serialises writers of scripts
	scripts atomic.Pointer[map[string]*Script]
	test    bool // tl.test is present (script test only)
	watch   watchdog
}

// New returns an engine with no scripts. It does no I/O.
func New(opts Options) *Engine {
	e := &Engine{opts: opts.withDefaults()}
	e.pool = make(chan *vm, e.opts.PoolSize)
	e.scripts.Store(&map[string]*Script{})
	return e
}

// Script is one compiled version of a script: an immutable handle. A call
// takes the handle at its start (Engine.Script) and runs every hook on it, so
// a reload in the middle of the call does not change the code it runs.
type Script struct {
	id     string
	source string
	proto  *lua.FunctionProto
	hooks  map[string]bool
	e      *Engine
	// impure is set once the top level was seen to call tl.* or math.random:
	// it then runs for every call instead of once per VM.
	impure atomic.Bool
}

// ID returns the script's id.
func (s *Script) ID() string { return s.id }

// Source returns the Lua source the script was compiled from.
func (s *Script) Source() string { return s.source }

// Has tells whether the script defines the hook (a global function of that name).
func (s *Script) Has(hook string) bool { return s != nil && s.hooks[hook] }

// Compile compiles source and runs its top level once in the sandbox to find
// the hooks it defines. It registers nothing. The error is an *Error with the
// line (ErrCompile) or a runtime failure of the top level.
func (e *Engine) Compile(id, source string) (*Script, error) {
	proto, err := compile(id, source)
	if err != nil {
		return nil, err
	}
	s := &Script{id: id, source: source, proto: proto, e: e, hooks: map[string]bool{}}
	globals, err := s.topLevel(context.Background())
	if err != nil {
		return nil, err
	}
	for _, h := range hookNames {
		if _, ok := globals[h].(*lua.LFunction); ok {
			s.hooks[h] = true
		}
	}
	return s, nil
}

// Load compiles source and swaps it in as script id atomically. On error the
// previous version, if any, stays in place.
func (e *Engine) Load(id, source string) error {
	if id == "" {
		return &Error{ScriptID: id, Msg: "empty script id", Kind: ErrCompile}
	}
	s, err := e.Compile(id, source)
	if err != nil {
		return err
	}
	e.update(func(m map[string]*Script) { m[id] = s })
	return nil
}

// Remove drops script id; calls holding its handle finish on it. It reports
// whether the script existed.
func (e *Engine) Remove(id string) bool {
	found := false
	e.update(func(m map[string]*Script) {
		_, found = m[id]
		delete(m, id)
	})
	return found
}

func (e *Engine) update(f func(map[string]*Script)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := *e.scripts.Load()
	m := make(map[string]*Script, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	f(m)
	e.scripts.Store(&m)
}

// Script returns the current version of script id, or nil.
func (e *Engine) Script(id string) *Script { return (*e.scripts.Load())[id] }

// IDs returns the ids of the loaded scripts, sorted.
func (e *Engine) IDs() []string {
	m := *e.scripts.Load()
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// compile parses and compiles source; chunk name id prefixes error positions.
func compile(id, source string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(source), id)
	if err != nil {
		ce := &Error{ScriptID: id, Msg: strings.TrimSpace(err.Error()), Kind: ErrCompile}
		var pe *parse.Error
		if errors.As(err, &pe) {
			ce.Msg = strings.TrimSpace(pe.Message)
			if pe.Pos.Line > 0 {
				ce.Line = pe.Pos.Line
				if pe.Token != "" {
					ce.Msg += " near '" + pe.Token + "'"
				}
			} else { // at end of file: report its last line
				ce.Line = strings.Count(strings.TrimRight(source, "\n"), "\n") + 1
				ce.Msg += " at end of file (a missing 'end'?)"
			}
		}
		return nil, ce
	}
	proto, err := lua.Compile(chunk, id)
	if err != nil {
		return nil, &Error{ScriptID: id, Msg: err.Error(), Kind: ErrCompile}
	}
	return proto, nil
}

// getVM takes an idle VM or makes one.
func (e *Engine) getVM() *vm {
	select {
	case v := <-e.pool:
		return v
	default:
		return newVM(e)
	}
}

// Close drops the idle VMs and stops the budget watchdog: call it once no
// hook runs any more (a hook started afterwards would run unchecked).
func (e *Engine) Close() {
	e.watch.close()
	for {
		select {
		case v := <-e.pool:
			v.L.Close()
		default:
			return
		}
	}
}

// putVM returns a healthy VM to the pool, or closes it when the pool is full.
func (e *Engine) putVM(v *vm) {
	v.L.SetTop(0)
	select {
	case e.pool <- v:
	default:
		v.L.Close()
	}
}
