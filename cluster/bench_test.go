package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

// BenchmarkApply3Node measures configuration writes through Apply on the
// leader of a 3-node loopback cluster, one at a time (each waits for its
// commit), with production raft timings. It also reports how long after a
// write's commit on the leader (its subscriber callback there) a
// follower's subscriber is called with it: follower-lag-ms is the mean.
func BenchmarkApply3Node(b *testing.B) {
	c := newTestCluster(b, 3, func(o *Options) {
		def := Options{}
		def.withDefaults()
		o.HeartbeatTimeout, o.ElectionTimeout, o.LeaderLeaseTimeout = def.HeartbeatTimeout, def.ElectionTimeout, def.LeaderLeaseTimeout
	})
	li := c.leader(10 * time.Second)
	leader, follower := c.nodes[li], c.nodes[(li+1)%3]
	base := config.Change{Op: config.OpPut, Kind: config.KindSIPTrunk, SIPTrunk: &config.SIPTrunk{ID: "t", DestinationHosts: []string{"a.example"}}}
	mustApply(b, leader, base)

	var mu sync.Mutex
	committed := map[uint64]time.Time{}
	var lags []time.Duration
	cancelL := leader.Subscribe(func(_ *config.Config, idx uint64) {
		mu.Lock()
		committed[idx] = time.Now()
		mu.Unlock()
	})
	defer cancelL()
	lastSeen := make(chan uint64, 1)
	cancelF := follower.Subscribe(func(_ *config.Config, idx uint64) {
		now := time.Now()
		mu.Lock()
		if t0, ok := committed[idx]; ok {
			lags = append(lags, now.Sub(t0))
		}
		mu.Unlock()
		select {
		case <-lastSeen:
		default:
		}
		lastSeen <- idx
	})
	defer cancelF()

	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ch := base
		ch.SIPTrunk = &config.SIPTrunk{ID: "t", Name: fmt.Sprint(i), DestinationHosts: []string{"a.example"}}
		if _, err := leader.Apply(ctx, ch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")

	// Wait for the follower to deliver the last write.
	last := leader.ConfigIndex()
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case idx := <-lastSeen:
			done = idx >= last
		case <-timeout:
			b.Fatalf("follower did not reach %d", last)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lags) > 0 {
		slices.Sort(lags)
		var sum time.Duration
		for _, l := range lags {
			sum += l
		}
		b.ReportMetric(float64(sum.Microseconds())/float64(len(lags))/1000, "follower-lag-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "follower-lag-p99-ms")
	}
}

// TestFollowerLag checks that a write committed on the leader reaches a
// follower's subscriber promptly (within two heartbeat intervals plus
// slack), with the test timings.
func TestFollowerLag(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	li := c.leader(5 * time.Second)
	leader, follower := c.nodes[li], c.nodes[(li+1)%3]
	wait := watch(t, follower)
	var worst time.Duration
	for i := range 20 {
		mustApply(t, leader, trunk(fmt.Sprint("t", i)))
		committed := time.Now()
		wait(leader.ConfigIndex())
		worst = max(worst, time.Since(committed))
	}
	t.Logf("worst commit→follower callback: %v", worst)
	if worst > 2*time.Second {
		t.Errorf("a follower took %v to apply a committed write", worst)
	}
}
