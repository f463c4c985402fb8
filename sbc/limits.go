package sbc

import (
	"sync"
	"time"

	"github.com/trunkline/trunkline/config"
)

// channelCounter counts the live calls of each trunk, both directions
// (DESIGN §4.1 channelLimit): an inbound call holds a channel of its trunk
// from its INVITE to its end, an attempt one of its trunk while it is tried
// or connected.
type channelCounter struct {
	mu   sync.Mutex
	live map[string]int
}

// acquire takes a channel of trunk; false when the trunk is at its
// channelLimit (0: no limit).
func (cc *channelCounter) acquire(trunk *config.SIPTrunk) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.live == nil {
		cc.live = map[string]int{}
	}
	if trunk.ChannelLimit > 0 && cc.live[trunk.ID] >= trunk.ChannelLimit {
		return false
	}
	cc.live[trunk.ID]++
	return true
}

// release gives back a channel acquire took.
func (cc *channelCounter) release(trunk *config.SIPTrunk) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.live[trunk.ID] <= 1 {
		delete(cc.live, trunk.ID)
		return
	}
	cc.live[trunk.ID]--
}

// count returns the live calls of a trunk.
func (cc *channelCounter) count(id string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.live[id]
}

// cpsLimiter enforces each trunk's cpsLimit with a token bucket whose burst
// is one second's worth (DESIGN §4.1).
type cpsLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

// bucket is a token bucket's tokens as of last.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills the bucket at rate per second up to burst for the time since
// last, then takes a token; false when there is none.
func (b *bucket) take(rate, burst float64, now time.Time) bool {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(burst, b.tokens+el*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// allow takes a token of trunk's bucket; false when it is empty. A trunk
// without cpsLimit is never limited.
func (l *cpsLimiter) allow(trunk *config.SIPTrunk) bool {
	if trunk.CPSLimit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	rate := float64(trunk.CPSLimit)
	b := l.buckets[trunk.ID]
	if b == nil {
		b = &bucket{tokens: rate, last: now}
		l.buckets[trunk.ID] = b
	}
	return b.take(rate, rate, now)
}

// roundRobin hands out the first destination host of ROUND_ROBIN trunks.
type roundRobin struct {
	mu   sync.Mutex
	next map[string]int
}

// nextHost returns the host index a call to trunk id starts from.
func (r *roundRobin) nextHost(id string, n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == nil {
		r.next = map[string]int{}
	}
	i := r.next[id] % n
	r.next[id] = i + 1
	return i
}
