package sbc

import (
	"slices"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

func TestBestResponse(t *testing.T) {
	r := func(code int) result { return result{out: outFinal, code: code, reason: "r"} }
	cases := []struct {
		name   string
		finals []result
		want   int
	}{
		{"none", nil, 480},
		{"one", []result{r(486)}, 486},
		{"lowest class", []result{r(503), r(404)}, 404},
		{"first within class", []result{r(480), r(404)}, 480},
		{"6xx first", []result{r(404), r(603), r(486)}, 603},
		{"503 becomes 500", []result{r(503), r(503)}, 500},
		{"timeouts count", []result{{out: outUnreachable, code: 408}, r(503)}, 408},
		{"3xx lowest", []result{r(302), r(404)}, 302},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := bestResponse(c.finals); got.code != c.want {
				t.Fatalf("bestResponse = %d, want %d", got.code, c.want)
			}
		})
	}
}

func TestLegState(t *testing.T) {
	cases := []struct {
		code     int
		answered bool
		want     string
	}{
		{200, true, StateFinished},
		{486, false, StateBusy},
		{600, false, StateBusy},
		{603, false, StateBusy},
		{480, false, StateNoAnswer},
		{408, false, StateNoAnswer},
		{487, false, StateCancelled},
		{404, false, StateFailed},
		{503, false, StateFailed},
	}
	for _, c := range cases {
		if got := legState(c.code, c.answered); got != c.want {
			t.Errorf("legState(%d, %v) = %s, want %s", c.code, c.answered, got, c.want)
		}
	}
}

func TestAttemptLabel(t *testing.T) {
	cases := []struct {
		r    result
		want string
	}{
		{result{out: outFinal, code: 503}, "503"},
		{result{out: outFinal, code: 499}, "4xx"},
		{result{out: outAnswered, code: 200}, "200"},
		{result{out: outUnreachable, code: 408}, "timeout"},
		{result{out: outUnreachable, code: 503}, "unreachable"},
		{result{out: outNoAnswer, code: 480}, "no_answer"},
		{result{out: outCancelled, code: 487}, "cancelled"},
	}
	for _, c := range cases {
		if got := attemptLabel(c.r); got != c.want {
			t.Errorf("attemptLabel(%+v) = %s, want %s", c.r, got, c.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	cases := []struct{ format, number, received, want string }{
		{config.FormatE164, "447700900123", "+447700900123", "447700900123"},
		{config.FormatInternational, "447700900123", "447700900123", "+447700900123"},
		{config.FormatUSNational, "12125550100", "+12125550100", "2125550100"},
		{config.FormatUnchanged, "447700900123", "+447700900123", "+447700900123"},
		{config.FormatInternational, "alice", "alice", "alice"}, // not a number: as received
		{config.FormatE164, "", "", ""},
	}
	for _, c := range cases {
		if got := formatNumber(c.format, c.number, c.received); got != c.want {
			t.Errorf("formatNumber(%s, %q, %q) = %q, want %q", c.format, c.number, c.received, got, c.want)
		}
	}
}

func TestChannelCounter(t *testing.T) {
	var cc channelCounter
	tr := &config.SIPTrunk{ID: "t", ChannelLimit: 2}
	if !cc.acquire(tr) || !cc.acquire(tr) || cc.acquire(tr) {
		t.Fatal("channelLimit 2 did not admit exactly two")
	}
	cc.release(tr)
	if cc.count("t") != 1 || !cc.acquire(tr) {
		t.Fatal("a released channel was not reusable")
	}
	unlimited := &config.SIPTrunk{ID: "u"}
	for range 100 {
		if !cc.acquire(unlimited) {
			t.Fatal("a trunk without channelLimit was limited")
		}
	}
}

func TestCPSLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := cpsLimiter{now: func() time.Time { return now }}
	tr := &config.SIPTrunk{ID: "t", CPSLimit: 2}
	if !l.allow(tr) || !l.allow(tr) || l.allow(tr) {
		t.Fatal("burst of a second's worth (2) not enforced")
	}
	now = now.Add(500 * time.Millisecond)
	if !l.allow(tr) || l.allow(tr) {
		t.Fatal("half a second did not refill exactly one token")
	}
	now = now.Add(10 * time.Second)
	if !l.allow(tr) || !l.allow(tr) || l.allow(tr) {
		t.Fatal("the bucket grew beyond its burst")
	}
	if !l.allow(&config.SIPTrunk{ID: "free"}) {
		t.Fatal("a trunk without cpsLimit was limited")
	}
}

func TestRoundRobin(t *testing.T) {
	var rr roundRobin
	var got []int
	for range 5 {
		got = append(got, rr.nextHost("t", 3))
	}
	if want := []int{0, 1, 2, 0, 1}; !slices.Equal(got, want) {
		t.Fatalf("hosts %v, want %v", got, want)
	}
}

func TestCallLogRing(t *testing.T) {
	r := newCallLogRing(3)
	for i := range 5 {
		r.add(CallLog{CallID: string(rune('a' + i))})
	}
	var ids string
	for _, l := range r.all() {
		ids += l.CallID
	}
	if ids != "cde" {
		t.Fatalf("ring holds %q, want the latest three oldest first: cde", ids)
	}
}
