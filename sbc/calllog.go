package sbc

import (
	"slices"
	"sync"
	"time"

	"github.com/trunkline/trunkline/routing"
)

// Call-leg states (DESIGN §4.8).
const (
	StateFinished  = "FINISHED"
	StateBusy      = "BUSY"
	StateNoAnswer  = "NO_ANSWER"
	StateCancelled = "CANCELLED"
	StateFailed    = "FAILED"
)

// Leg directions.
const (
	DirectionInbound  = "INBOUND"
	DirectionOutbound = "OUTBOUND"
)

// CallLog is the record of one call leg (DESIGN §4.8): the inbound leg, each
// outbound attempt, and among those the connected one, which shares the
// inbound leg's dialogId.
type CallLog struct {
	CallID    string `json:"callId"`             // the leg's id
	DialogID  string `json:"dialogId,omitempty"` // set on both legs of a connected call
	SIPCallID string `json:"sipCallId"`          // the leg's SIP Call-ID
	Leg       string `json:"leg"`                // "A" (inbound) or "B" (an attempt)
	// Attempt is the attempt's position in the hunt plan; nil on the A leg.
	Attempt         *int       `json:"attempt,omitempty"`
	Direction       string     `json:"direction"` // INBOUND or OUTBOUND
	Trunk           string     `json:"trunk"`
	Destination     string     `json:"destination,omitempty"` // B: the host tried last, as configured
	From            string     `json:"from"`
	To              string     `json:"to"`
	StartTime       time.Time  `json:"startTime"`
	AnswerTime      *time.Time `json:"answerTime,omitempty"`
	EndTime         time.Time  `json:"endTime"`
	DurationSeconds float64    `json:"durationSeconds"` // from answer to end; 0 when unanswered
	SIPCode         int        `json:"sipCode"`         // the leg's final response (200 when answered)
	Reason          string     `json:"reason"`          // why the leg ended
	State           string     `json:"state"`           // FINISHED, BUSY, NO_ANSWER, CANCELLED, FAILED
	Route           string     `json:"route,omitempty"`
	// Decision is the routing decision trace, on the A leg.
	Decision *routing.Decision `json:"decision,omitempty"`
}

// legState is the one place a leg's end becomes its call-log state and its
// trunkline_calls_total result: answered legs FINISHED; 486, 600 and 603
// BUSY; 408 and 480 (and an expired connectTimeout, which ends as 480)
// NO_ANSWER; 487 CANCELLED; anything else FAILED. (An inbound leg whose
// call tried no destination is FAILED whatever its code.)
func legState(code int, answered bool) string {
	switch {
	case answered:
		return StateFinished
	case code == 486 || code == 600 || code == 603:
		return StateBusy
	case code == 408 || code == 480:
		return StateNoAnswer
	case code == 487:
		return StateCancelled
	}
	return StateFailed
}

// callLogRing keeps the most recent call-leg records in memory, oldest
// dropped first, until persistent call logs exist.
type callLogRing struct {
	mu   sync.Mutex
	buf  []CallLog
	next int // where the next record goes once buf is full
	max  int
}

func newCallLogRing(max int) *callLogRing {
	return &callLogRing{max: max}
}

func (r *callLogRing) add(l CallLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) < r.max {
		r.buf = append(r.buf, l)
		return
	}
	r.buf[r.next] = l
	r.next = (r.next + 1) % r.max
}

// all returns the records, oldest first.
func (r *callLogRing) all() []CallLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]CallLog, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	out = append(out, r.buf[:r.next]...)
	return out
}

// CallLogs returns the call-leg records kept in memory (the latest
// callLogKeep), oldest first.
func (s *Server) CallLogs() []CallLog {
	return slices.Clip(s.callLogs.all())
}
