package sbc

import (
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// lateResponse is a 200 to an INVITE of B-leg Call-ID id.
func lateResponse(id string) *sip.Response {
	res := &sip.Response{StatusCode: 200, Reason: "OK"}
	cid := sip.CallIDHeader(id)
	res.AppendHeader(&cid)
	return res
}

func TestDialogTableTombstones(t *testing.T) {
	tbl := newDialogTable()
	tbl.remove(nil, []string{"b1"})
	tbl.remove(nil, []string{"b2", "b3"})

	// A late response is recognised within tombstoneFor.
	for _, id := range []string{"b1", "b2", "b3"} {
		if c, ended := tbl.response(lateResponse(id)); c != nil || !ended {
			t.Fatalf("%s: response() = %v, %v; want nil, true", id, c, ended)
		}
	}
	if _, ended := tbl.response(lateResponse("unknown")); ended {
		t.Fatal("unknown Call-ID reported as ended")
	}

	// markKilled: once per To tag, never for unknown Call-IDs; the killed
	// map is only allocated by markKilled.
	if tbl.ended["b2"].killed != nil {
		t.Fatal("tomb's killed map allocated eagerly")
	}
	if !tbl.markKilled("b2", "x") || tbl.markKilled("b2", "x") || !tbl.markKilled("b2", "y") {
		t.Fatal("markKilled not once per tag")
	}
	if tbl.markKilled("unknown", "x") {
		t.Fatal("markKilled on an unknown Call-ID")
	}

	// Expiry pops in insertion order: expire b1 only.
	tbl.mu.Lock()
	tbl.ended["b1"].until = time.Now().Add(-time.Second)
	tbl.mu.Unlock()
	tbl.remove(nil, []string{"b4"})
	if _, ok := tbl.ended["b1"]; ok {
		t.Fatal("expired b1 still remembered")
	}
	for _, id := range []string{"b2", "b3", "b4"} {
		if _, ended := tbl.response(lateResponse(id)); !ended {
			t.Fatalf("%s forgotten early", id)
		}
	}
	if n := len(tbl.fifo) - tbl.head; n != 3 {
		t.Fatalf("fifo holds %d live tombs, want 3", n)
	}

	// A Call-ID ended again gets a new tomb; popping the old one leaves it.
	tbl.remove(nil, []string{"b2"})
	tbl.mu.Lock()
	tbl.fifo[tbl.head].until = time.Now().Add(-time.Second) // old b2
	tbl.mu.Unlock()
	tbl.remove(nil, nil)
	if _, ended := tbl.response(lateResponse("b2")); !ended {
		t.Fatal("re-ended b2 forgotten with its older tomb")
	}

	// Everything expired: table and fifo empty.
	tbl.mu.Lock()
	for _, tb := range tbl.fifo[tbl.head:] {
		tb.until = time.Now().Add(-time.Second)
	}
	tbl.mu.Unlock()
	tbl.remove(nil, nil)
	if len(tbl.ended) != 0 || len(tbl.fifo) != 0 || tbl.head != 0 {
		t.Fatalf("after expiry: %d tombs, fifo %d, head %d", len(tbl.ended), len(tbl.fifo), tbl.head)
	}
}

// BenchmarkDialogTableRemove ends calls with 30,000 tombstones remembered
// (about 1,000 cps for tombstoneFor).
func BenchmarkDialogTableRemove(b *testing.B) {
	tbl := newDialogTable()
	for i := range 30000 {
		tbl.remove(nil, []string{"old-" + strconv.Itoa(i)})
	}
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = "b-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := ids[i%len(ids)]
		tbl.add(keyB(id), nil)
		tbl.remove([]string{keyB(id)}, []string{id})
	}
}
