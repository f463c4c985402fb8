package sbc

import (
	"context"
	"sync"
)

// callTracker counts live calls and lets Shutdown wait for the last one
// (DESIGN §2: on SIGTERM stop taking calls, let live ones end). The call path
// calls start when it accepts an INVITE and end when the call is over.
type callTracker struct {
	mu       sync.Mutex
	live     int
	draining bool
	idle     chan struct{} // made by wait, closed when live drops to 0
}

// start counts a new call. It returns false once draining began: the call
// must then be refused (503).
func (t *callTracker) start() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.draining {
		return false
	}
	t.live++
	return true
}

// end uncounts a call that start counted.
func (t *callTracker) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live--
	if t.live == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
}

// active returns the number of live calls.
func (t *callTracker) active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live
}

// refuse makes start refuse every call from now on.
func (t *callTracker) refuse() {
	t.mu.Lock()
	t.draining = true
	t.mu.Unlock()
}

// wait returns once no call is live, or ctx's error when ctx ends first.
func (t *callTracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.live == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// taskGroup counts goroutines the server waits for when it closes, and
// refuses new ones once it began waiting: Add never races with Wait.
type taskGroup struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// add counts a new goroutine; false once closeWait was called.
func (g *taskGroup) add() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

// done uncounts a goroutine add counted.
func (g *taskGroup) done() { g.wg.Done() }

// closeWait refuses new goroutines and waits for those counted.
func (g *taskGroup) closeWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
