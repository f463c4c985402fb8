package sbc

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

func TestFloodGuard(t *testing.T) {
	g := newFloodGuard()
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	t0 := time.Unix(1000, 0)
	allowed := 0
	for range 50 {
		if g.allow(a, 10, t0) {
			allowed++
		}
	}
	if allowed != 20 {
		t.Errorf("burst: %d of 50 allowed, want 20 (twice the rate)", allowed)
	}
	if !g.allow(b, 10, t0) {
		t.Error("another source is limited by the first one's flood")
	}
	if g.allow(a, 10, t0.Add(50*time.Millisecond)) {
		t.Error("allowed after 50 ms at 10/s (half a token)")
	}
	if !g.allow(a, 10, t0.Add(100*time.Millisecond)) {
		t.Error("not allowed after 100 ms at 10/s (one token)")
	}
	if !g.allow(a, 0, t0) {
		t.Error("rate 0 limits")
	}
}

// The table never grows past its bound, whatever the number of sources.
func TestFloodGuardBounded(t *testing.T) {
	g := newFloodGuard()
	t0 := time.Unix(1000, 0)
	for i := range 3 * floodShards * shardCap {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		g.allow(a, 5, t0.Add(time.Duration(i)*time.Microsecond))
	}
	if n := g.size(); n > floodShards*shardCap {
		t.Errorf("%d sources tracked, bound %d", n, floodShards*shardCap)
	}
}

func BenchmarkFloodGuard(b *testing.B) {
	g := newFloodGuard()
	a := netip.MustParseAddr("192.0.2.1")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		g.allow(a, 1_000_000_000, now)
	}
}

// A source no trunk owns that floods the appliance with UDP requests gets
// answers for its burst (sip.sourceRateLimit × 2) and is dropped beyond,
// counted; a trunk's source sending as much meanwhile is answered every
// time.
func TestSourceRateLimit(t *testing.T) {
	s := startServer(t, testConfig(t, func(c *config.Config) {
		limit := 5
		c.SIP.SourceRateLimit = &limit
	}))
	to := addr(t, s, "udp")
	flooder, trunk := udpPeer(t, "127.0.0.2"), udpPeer(t, "127.0.0.1")
	const n = 40
	for i := range n {
		for _, c := range []*net.UDPConn{flooder, trunk} {
			msg := rawRequest("OPTIONS", c.LocalAddr(), "UDP", fmt.Sprintf("Call-ID: flood-%d@test", i))
			if _, err := c.WriteTo([]byte(msg), to); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(c *net.UDPConn) int {
		got := 0
		for readResponse(t, c, silenceWithin) != nil {
			got++
		}
		return got
	}
	if got := count(trunk); got != n {
		t.Errorf("the trunk's source got %d answers of %d", got, n)
	}
	// The flood was sent within well under a second: the burst, and at
	// most a token or two more.
	answered := count(flooder)
	if answered < 10 || answered > 12 {
		t.Errorf("the flooding source got %d answers (403) of %d, want the burst of 10", answered, n)
	}
	var m strings.Builder
	s.Metrics().WritePrometheus(&m)
	if want := fmt.Sprintf("trunkline_sip_rate_limited_total %d\n", n-answered); !strings.Contains(m.String(), want) {
		t.Errorf("metrics lack %q:\n%s", want, m.String())
	}
}
