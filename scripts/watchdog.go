package scripts

import (
	"sync"
	"time"
)

// watchdog checks the budgets of the hooks running on an engine every
// tickInterval from one goroutine of its own, which runs only while hooks
// do (it ends after idleTicks ticks with none). A per-hook timer would be
// armed and disarmed on every hook call; in a process that also holds tens
// of thousands of SIP transaction timers, moving a timer earlier makes the
// Go runtime re-sort its timer heap, which cost more than the hooks
// themselves.
type watchdog struct {
	mu      sync.Mutex
	active  map[*budget]struct{}
	running bool
	closed  bool
	wg      sync.WaitGroup
}

// idleTicks is how long the watchdog goroutine outlives the last hook.
const idleTicks = 20

// add watches b, starting the goroutine when it is not running.
func (w *watchdog) add(b *budget) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active == nil {
		w.active = make(map[*budget]struct{})
	}
	w.active[b] = struct{}{}
	if !w.running && !w.closed {
		w.running = true
		w.wg.Add(1)
		go w.run()
	}
}

// remove stops watching b.
func (w *watchdog) remove(b *budget) {
	w.mu.Lock()
	delete(w.active, b)
	w.mu.Unlock()
}

func (w *watchdog) run() {
	defer w.wg.Done()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	idle := 0
	for range t.C {
		w.mu.Lock()
		if w.closed || len(w.active) == 0 && idle >= idleTicks {
			w.running = false
			w.mu.Unlock()
			return
		}
		if len(w.active) == 0 {
			idle++
		} else {
			idle = 0
		}
		for b := range w.active {
			b.tick()
		}
		w.mu.Unlock()
	}
}

// close ends the goroutine and waits for it; hooks started afterwards run
// without a watchdog only if they start after close (the engine is closed).
func (w *watchdog) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
}
