package sbc

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// side names the two legs of a call.
type side int

const (
	sideA side = iota // the caller's leg (inbound)
	sideB             // the callee's leg (an outbound attempt)
)

func (sd side) String() string {
	if sd == sideA {
		return "A"
	}
	return "B"
}

// other returns the opposite leg.
func (sd side) other() side { return 1 - sd }

// tombstoneFor is how long the Call-ID of an ended B-leg is remembered, so
// that a 2xx arriving after its call ended is still acknowledged and hung up
// (Timer M, 64*T1, bounds such retransmissions).
const tombstoneFor = 32 * time.Second

// dialogTable maps live dialogs to their calls: the A leg by the caller's
// Call-ID and From tag, each B leg by the Call-ID the appliance chose for it.
// Handlers on sipgo's goroutines look calls up here and hand them messages;
// they never touch a call's state.
type dialogTable struct {
	mu    sync.Mutex
	byKey map[string]*call
	// ended remembers the B-leg Call-IDs of ended calls for a while.
	ended map[string]*tomb
	// fifo holds the tombs in order of creation, which is also their order
	// of expiry (every tomb lives tombstoneFor), so expiring them only pops
	// the head instead of scanning ended. head is the index of its first
	// live entry; the slice is compacted when more than half is dead.
	fifo []*tomb
	head int
}

// tomb is an ended B-leg Call-ID: until when it is remembered, and the To
// tags of the late answers already hung up (allocated by markKilled).
type tomb struct {
	id     string
	until  time.Time
	killed map[string]bool
}

func newDialogTable() *dialogTable {
	return &dialogTable{byKey: map[string]*call{}, ended: map[string]*tomb{}}
}

func keyA(callID, callerTag string) string { return "A\x00" + callID + "\x00" + callerTag }
func keyB(callID string) string            { return "B\x00" + callID }

func (t *dialogTable) add(key string, c *call) {
	t.mu.Lock()
	t.byKey[key] = c
	t.mu.Unlock()
}

// remove forgets keys; B-leg Call-IDs among them are remembered as ended.
func (t *dialogTable) remove(keys []string, bCallIDs []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// now is read under the lock so that tombs enter fifo in expiry order.
	now := time.Now()
	for _, k := range keys {
		delete(t.byKey, k)
	}
	t.expire(now)
	for _, id := range bCallIDs {
		tb := &tomb{id: id, until: now.Add(tombstoneFor)}
		t.ended[id] = tb
		t.fifo = append(t.fifo, tb)
	}
}

// expire forgets the tombs expired at now, popping them off the head of
// fifo. A tomb replaced in ended by a newer one for the same Call-ID is
// popped without touching the newer one. t.mu must be held.
func (t *dialogTable) expire(now time.Time) {
	for t.head < len(t.fifo) {
		tb := t.fifo[t.head]
		if !now.After(tb.until) {
			break
		}
		if t.ended[tb.id] == tb {
			delete(t.ended, tb.id)
		}
		t.fifo[t.head] = nil
		t.head++
	}
	if t.head == len(t.fifo) {
		t.fifo, t.head = t.fifo[:0], 0
	} else if t.head > 64 && t.head > len(t.fifo)/2 {
		n := copy(t.fifo, t.fifo[t.head:])
		clear(t.fifo[n:])
		t.fifo, t.head = t.fifo[:n], 0
	}
}

// markKilled notes that the late answer of an ended B leg with To tag tag
// is being hung up; false when it was already.
func (t *dialogTable) markKilled(callID, tag string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb := t.ended[callID]
	if tb == nil || tb.killed[tag] {
		return false
	}
	if tb.killed == nil {
		tb.killed = map[string]bool{}
	}
	tb.killed[tag] = true
	return true
}

// request returns the call and leg an in-dialog request belongs to: a B
// leg by Call-ID, else the A leg by Call-ID and From tag. nil when none.
func (t *dialogTable) request(req *sip.Request) (*call, side) {
	id := callID(req)
	if id == "" {
		return nil, sideA
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.byKey[keyB(id)]; c != nil {
		return c, sideB
	}
	if from := req.From(); from != nil {
		if c := t.byKey[keyA(id, sipmsg.Tag(from.Params))]; c != nil {
			return c, sideA
		}
	}
	return nil, sideA
}

// response returns the call a response to one of its requests belongs to:
// toward a B leg by Call-ID, toward the A leg by Call-ID and the caller's
// tag (the response's To). When a B leg's call ended lately, ended is true.
func (t *dialogTable) response(res *sip.Response) (c *call, ended bool) {
	h := res.CallID()
	if h == nil {
		return nil, false
	}
	id := h.Value()
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.byKey[keyB(id)]; c != nil {
		return c, false
	}
	if to := res.To(); to != nil {
		if c := t.byKey[keyA(id, sipmsg.Tag(to.Params))]; c != nil {
			return c, false
		}
	}
	tb, ok := t.ended[id]
	return nil, ok && time.Now().Before(tb.until)
}
