package sbc

import (
	"runtime"
	"sync"
	"testing"
	"weak"

	"github.com/emiago/sipgo/sip"
)

// TestCallsNotRetained runs calls to their end and checks that nothing the
// server keeps (call-log ring, dialog table, sipgo's transaction layer,
// timers, metrics, loggers) still reaches any of them.
func TestCallsNotRetained(t *testing.T) {
	const n = 200
	var mu sync.Mutex
	var calls []weak.Pointer[call]
	testHookNewCall = func(c *call) {
		mu.Lock()
		calls = append(calls, weak.Make(c))
		mu.Unlock()
	}
	t.Cleanup(func() { testHookNewCall = nil })

	r := newCallRig(t, "", "")
	for i := range n {
		switch i % 3 {
		case 0: // the caller hangs up
			oc, _ := r.connect(r.c1)
			if res := r.caller.do(oc.d.Request(sip.BYE, nil, "")); res.StatusCode != 200 {
				t.Fatalf("call %d: BYE got %d", i, res.StatusCode)
			}
			r.c1.nextRequest(sip.BYE)
		case 1: // the callee hangs up
			_, in := r.connect(r.c1)
			if res := r.c1.do(in.dialog().Request(sip.BYE, nil, "")); res.StatusCode != 200 {
				t.Fatalf("call %d: callee's BYE got %d", i, res.StatusCode)
			}
			r.caller.nextRequest(sip.BYE)
		case 2: // the callee is busy
			oc := r.call()
			r.c1.nextInvite().respond(486, "Busy Here", nil)
			if res := oc.final(); res.StatusCode != 486 {
				t.Fatalf("call %d: got %d, want 486", i, res.StatusCode)
			}
		}
		r.waitCalls()
	}
	mu.Lock()
	ws := calls
	mu.Unlock()
	if len(ws) != n {
		t.Fatalf("%d calls created, want %d", len(ws), n)
	}

	live := 0
	for range 20 {
		runtime.GC()
		runtime.Gosched() // let the goroutines of the last call return
		live = 0
		for _, w := range ws {
			if w.Value() != nil {
				live++
			}
		}
		if live == 0 {
			return
		}
	}
	t.Fatalf("%d of %d ended calls still reachable", live, n)
}
