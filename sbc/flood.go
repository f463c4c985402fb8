package sbc

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// floodGuard limits the UDP datagrams per second each source address may
// send when no trunk owns it (sip.sourceRateLimit): a token bucket per
// source, refilled at rate per second up to twice that, checked in the
// transport's read filter before sipgo parses anything. Identified peers
// are held by their trunk's cpsLimit instead.
//
// Memory is bounded: each of the shards keeps at most shardCap sources;
// a full shard first forgets the sources whose bucket has refilled (idle
// long enough to be harmless), and if none has, starts over — a flood from
// more sources than the table holds is then limited less tightly, but the
// guard never grows.
type floodGuard struct {
	seed   maphash.Seed
	shards [floodShards]floodShard
}

const (
	floodShards = 16
	shardCap    = 4096
)

type floodShard struct {
	mu      sync.Mutex
	buckets map[netip.Addr]bucket
}

func newFloodGuard() *floodGuard {
	g := &floodGuard{seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].buckets = make(map[netip.Addr]bucket)
	}
	return g
}

// allow takes a token for one datagram from src at now, with rate tokens
// per second (burst 2×rate); false means drop it. rate 0 allows all.
func (g *floodGuard) allow(src netip.Addr, rate int, now time.Time) bool {
	if rate <= 0 {
		return true
	}
	burst := 2 * float64(rate)
	a16 := src.As16()
	sh := &g.shards[maphash.Bytes(g.seed, a16[:])%floodShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[src]
	if !ok {
		if len(sh.buckets) >= shardCap {
			sh.evict(float64(rate), burst, now)
		}
		b = bucket{tokens: burst, last: now}
	}
	allowed := b.take(float64(rate), burst, now)
	sh.buckets[src] = b
	return allowed
}

// evict makes room in a full shard.
func (sh *floodShard) evict(rate, burst float64, now time.Time) {
	for a, b := range sh.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*rate >= burst {
			delete(sh.buckets, a)
		}
	}
	if len(sh.buckets) >= shardCap {
		clear(sh.buckets)
	}
}

// size is the number of sources the guard tracks.
func (g *floodGuard) size() int {
	n := 0
	for i := range g.shards {
		sh := &g.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}
