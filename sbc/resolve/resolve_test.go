package resolve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// zone is what the test server serves: NAPTR, SRV, A and AAAA records
// pointing at 127.0.0.x.
var zone = []string{
	"a.test. 60 IN A 127.0.0.2",
	"a.test. 60 IN AAAA ::1",
	"b.test. 60 IN A 127.0.0.3",
	"c.test. 60 IN A 127.0.0.4",

	// SRV priorities: b (10) before a (20).
	"_sip._udp.prio.test. 60 IN SRV 20 0 5070 a.test.",
	"_sip._udp.prio.test. 60 IN SRV 10 0 5080 b.test.",

	// SRV weights 60/30/10 in one priority; the name has an A record too.
	"_sip._udp.weight.test. 60 IN SRV 10 60 5060 a.test.",
	"_sip._udp.weight.test. 60 IN SRV 10 30 5060 b.test.",
	"_sip._udp.weight.test. 60 IN SRV 10 10 5060 c.test.",
	"weight.test. 60 IN A 127.0.0.7",

	// NAPTR: TCP (10/10), UDP (10/20), TLS (20/10); the unusable ones
	// (ENUM, SCTP, a regexp) are skipped.
	`naptr.test. 60 IN NAPTR 10 20 "S" "SIP+D2U" "" _sip._udp.carrier.test.`,
	`naptr.test. 60 IN NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.carrier.test.`,
	`naptr.test. 60 IN NAPTR 20 10 "S" "SIPS+D2T" "" _sips._tcp.carrier.test.`,
	`naptr.test. 60 IN NAPTR 1 10 "U" "E2U+sip" "!^.*$!sip:x@y!" .`,
	`naptr.test. 60 IN NAPTR 2 10 "S" "SIP+D2S" "" _sip._sctp.carrier.test.`,
	"_sip._udp.carrier.test. 60 IN SRV 10 0 5060 a.test.",
	"_sip._tcp.carrier.test. 60 IN SRV 10 0 5060 b.test.",
	"_sips._tcp.carrier.test. 60 IN SRV 10 0 5061 c.test.",

	// NAPTR for TCP whose SRV name has no record: the domain's A on TCP.
	`naptrnosrv.test. 60 IN NAPTR 10 10 "S" "SIP+D2T" "" _sip._tcp.naptrnosrv.test.`,
	"naptrnosrv.test. 60 IN A 127.0.0.8",

	// No NAPTR, no SRV.
	"plain.test. 60 IN A 127.0.0.5",

	// SRV target "." : service not available, even with an A record.
	"_sip._udp.down.test. 60 IN SRV 0 0 0 .",
	"down.test. 60 IN A 127.0.0.6",

	// SRV targets without addresses.
	"_sip._udp.partial.test. 60 IN SRV 10 0 5060 gone.test.",
	"_sip._udp.partial.test. 60 IN SRV 20 0 5062 b.test.",
	"_sip._udp.allgone.test. 60 IN SRV 10 0 5060 gone.test.",

	// Truncated over UDP.
	"_sip._udp.big.test. 60 IN SRV 10 0 5090 b.test.",

	// Two A records of different TTLs.
	"short.test. 10 IN A 127.0.0.10",
	"short.test. 60 IN A 127.0.0.11",
}

func zeroRand(int) int { return 0 }

// show renders targets as "TRANSPORT addr host" for comparison.
func show(ts []Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s %s %s", t.Transport, t.Addr, t.Host))
	}
	return out
}

func TestResolve(t *testing.T) {
	srv := newTestServer(t, zone...)
	srv.setTruncate("_sip._udp.big.test")
	tests := []struct {
		name      string
		host      string
		port      int
		transport string
		want      []string
	}{
		{"IPv4 literal", "127.0.0.9", 0, "", []string{"UDP 127.0.0.9:5060 127.0.0.9"}},
		{"IPv4 literal TLS", "127.0.0.9", 0, "TLS", []string{"TLS 127.0.0.9:5061 127.0.0.9"}},
		{"IPv6 literal with port", "[::1]", 5070, "tcp", []string{"TCP [::1]:5070 ::1"}},
		{"explicit port: A then AAAA", "a.test", 5080, "TCP", []string{"TCP 127.0.0.2:5080 a.test", "TCP [::1]:5080 a.test"}},
		{"explicit port skips SRV", "weight.test", 5099, "", []string{"UDP 127.0.0.7:5099 weight.test"}},
		{"trailing dot, upper case", "A.TEST.", 5080, "UDP", []string{"UDP 127.0.0.2:5080 a.test", "UDP [::1]:5080 a.test"}},
		{"SRV priority", "prio.test", 0, "UDP", []string{
			"UDP 127.0.0.3:5080 b.test", "UDP 127.0.0.2:5070 a.test", "UDP [::1]:5070 a.test"}},
		{"SRV weights, low draws", "weight.test", 0, "UDP", []string{
			"UDP 127.0.0.2:5060 a.test", "UDP [::1]:5060 a.test", "UDP 127.0.0.3:5060 b.test", "UDP 127.0.0.4:5060 c.test"}},
		{"NAPTR, any transport: order then preference", "naptr.test", 0, "", []string{
			"TCP 127.0.0.3:5060 b.test", "UDP 127.0.0.2:5060 a.test", "UDP [::1]:5060 a.test", "TLS 127.0.0.4:5061 c.test"}},
		{"NAPTR, UDP only", "naptr.test", 0, "UDP", []string{"UDP 127.0.0.2:5060 a.test", "UDP [::1]:5060 a.test"}},
		{"NAPTR, TLS only", "naptr.test", 0, "TLS", []string{"TLS 127.0.0.4:5061 c.test"}},
		{"NAPTR without SRV: domain on NAPTR transport", "naptrnosrv.test", 0, "", []string{"TCP 127.0.0.8:5060 naptrnosrv.test"}},
		{"no SRV: A on default port", "plain.test", 0, "", []string{"UDP 127.0.0.5:5060 plain.test"}},
		{"no SRV, TCP", "plain.test", 0, "TCP", []string{"TCP 127.0.0.5:5060 plain.test"}},
		{"no SRV, TLS", "plain.test", 0, "TLS", []string{"TLS 127.0.0.5:5061 plain.test"}},
		{"SRV target without address skipped", "partial.test", 0, "UDP", []string{"UDP 127.0.0.3:5062 b.test"}},
		{"truncated UDP answer retried over TCP", "big.test", 0, "UDP", []string{"UDP 127.0.0.3:5090 b.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New([]string{srv.addr}, WithRand(zeroRand))
			ts, err := r.Resolve(context.Background(), tt.host, tt.port, tt.transport)
			if err != nil {
				t.Fatalf("Resolve(%q, %d, %q): %v", tt.host, tt.port, tt.transport, err)
			}
			if got := show(ts); !slices.Equal(got, tt.want) {
				t.Errorf("Resolve(%q, %d, %q) =\n%q\nwant\n%q", tt.host, tt.port, tt.transport, got, tt.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	srv := newTestServer(t, zone...)
	tests := []struct {
		name      string
		host      string
		transport string
		want      error
		wantName  string // of the *Error, "" for none
	}{
		{"NXDOMAIN", "nx.test", "", ErrNotFound, "nx.test"},
		{"NXDOMAIN, TLS", "nx.test", "TLS", ErrNotFound, "nx.test"},
		{"SRV target dot", "down.test", "UDP", ErrUnavailable, "_sip._udp.down.test"},
		{"no SRV target has an address", "allgone.test", "UDP", ErrNotFound, "gone.test"},
		{"invalid name", "bad..name", "", ErrNotFound, "bad..name"},
		{"unknown transport", "a.test", "SCTP", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New([]string{srv.addr})
			ts, err := r.Resolve(context.Background(), tt.host, 0, tt.transport)
			if err == nil {
				t.Fatalf("Resolve(%q) = %v, want an error", tt.host, show(ts))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Resolve(%q) error %v, want %v", tt.host, err, tt.want)
			}
			var e *Error
			if got := errors.As(err, &e); got != (tt.wantName != "") {
				t.Fatalf("Resolve(%q) error %v: *Error %v, want %v", tt.host, err, got, tt.wantName != "")
			}
			if e != nil && e.Name != tt.wantName {
				t.Errorf("Resolve(%q) error names %q, want %q", tt.host, e.Name, tt.wantName)
			}
		})
	}
}

// TestResolveNoQueries checks that IP literals never reach the servers.
func TestResolveNoQueries(t *testing.T) {
	srv := newTestServer(t, zone...)
	r := New([]string{srv.addr})
	for _, h := range []string{"127.0.0.1", "::1", "[2001:db8::1]", "::ffff:127.0.0.1"} {
		ts, err := r.Resolve(context.Background(), h, 0, "UDP")
		if err != nil || len(ts) != 1 {
			t.Fatalf("Resolve(%q) = %v, %v", h, ts, err)
		}
	}
	if n := srv.total(); n != 0 {
		t.Errorf("server got %d questions, want 0", n)
	}
}

// TestResolveTarget checks every field of a target, the TLS SNI name
// included.
func TestResolveTarget(t *testing.T) {
	srv := newTestServer(t, zone...)
	r := New([]string{srv.addr})
	ts, err := r.Resolve(context.Background(), "Naptr.Test.", 0, "TLS")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Transport: "TLS", Addr: mustAddrPort("127.0.0.4:5061"), Host: "c.test", Domain: "Naptr.Test"}
	if len(ts) != 1 || ts[0] != want {
		t.Errorf("Resolve = %+v, want [%+v]", ts, want)
	}
}

func TestResolveExplicitPortAsksNoSRV(t *testing.T) {
	srv := newTestServer(t, zone...)
	r := New([]string{srv.addr})
	if _, err := r.Resolve(context.Background(), "weight.test", 5060, "UDP"); err != nil {
		t.Fatal(err)
	}
	if n := srv.count("weight.test", dns.TypeNAPTR, ""); n != 0 {
		t.Errorf("NAPTR questions = %d, want 0", n)
	}
	if n := srv.count("_sip._udp.weight.test", dns.TypeSRV, ""); n != 0 {
		t.Errorf("SRV questions = %d, want 0", n)
	}
	if n := srv.count("weight.test", dns.TypeA, ""); n != 1 {
		t.Errorf("A questions = %d, want 1", n)
	}
}

func TestResolveTruncation(t *testing.T) {
	srv := newTestServer(t, zone...)
	srv.setTruncate("_sip._udp.big.test")
	r := New([]string{srv.addr})
	if _, err := r.Resolve(context.Background(), "big.test", 0, "UDP"); err != nil {
		t.Fatal(err)
	}
	if u, c := srv.count("_sip._udp.big.test", dns.TypeSRV, "udp"), srv.count("_sip._udp.big.test", dns.TypeSRV, "tcp"); u != 1 || c != 1 {
		t.Errorf("SRV questions: %d over UDP, %d over TCP; want 1 and 1", u, c)
	}
	if c := srv.count("b.test", dns.TypeA, "tcp"); c != 0 {
		t.Errorf("A questions over TCP = %d, want 0", c)
	}
}

// TestResolveWeightsThroughResolve checks that Resolve orders SRV targets
// with its random source: draws at the top of each range pick 10, then 60,
// then 30.
func TestResolveWeightsThroughResolve(t *testing.T) {
	srv := newTestServer(t, zone...)
	r := New([]string{srv.addr}, WithRand(func(n int) int { return n - 1 }))
	ts, err := r.Resolve(context.Background(), "weight.test", 0, "UDP")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"UDP 127.0.0.4:5060 c.test", "UDP 127.0.0.2:5060 a.test", "UDP [::1]:5060 a.test", "UDP 127.0.0.3:5060 b.test"}
	if got := show(ts); !slices.Equal(got, want) {
		t.Errorf("Resolve = %q, want %q", got, want)
	}
}

func TestResolveCache(t *testing.T) {
	srv := newTestServer(t, zone...)
	clk := newFakeClock()
	r := New([]string{srv.addr}, WithClock(clk.Now))
	ctx := context.Background()
	resolve := func() {
		t.Helper()
		if _, err := r.Resolve(ctx, "prio.test", 0, "UDP"); err != nil {
			t.Fatal(err)
		}
	}
	resolve()
	first := srv.total()
	if first == 0 {
		t.Fatal("no question reached the server")
	}
	resolve()
	if n := srv.total(); n != first {
		t.Errorf("after a cached Resolve the server got %d questions, want %d", n, first)
	}
	clk.Advance(59 * time.Second)
	resolve()
	if n := srv.count("_sip._udp.prio.test", dns.TypeSRV, ""); n != 1 {
		t.Errorf("SRV asked %d times within its TTL, want 1", n)
	}
	clk.Advance(2 * time.Second) // 61 s: past the 60 s TTLs
	resolve()
	if n := srv.count("_sip._udp.prio.test", dns.TypeSRV, ""); n != 2 {
		t.Errorf("SRV asked %d times after its TTL, want 2", n)
	}
	if n := srv.count("b.test", dns.TypeA, ""); n != 2 {
		t.Errorf("A of b.test asked %d times after its TTL, want 2", n)
	}
}

// TestResolveCacheMinTTL checks that an answer lives as long as its
// shortest record, and a negative answer as long as the SOA says.
func TestResolveCacheMinTTL(t *testing.T) {
	srv := newTestServer(t, zone...)
	clk := newFakeClock()
	r := New([]string{srv.addr}, WithClock(clk.Now))
	ctx := context.Background()
	step := func(d time.Duration, wantA, wantAAAA int) {
		t.Helper()
		clk.Advance(d)
		if _, err := r.Resolve(ctx, "short.test", 5060, "UDP"); err != nil {
			t.Fatal(err)
		}
		if a, aaaa := srv.count("short.test", dns.TypeA, ""), srv.count("short.test", dns.TypeAAAA, ""); a != wantA || aaaa != wantAAAA {
			t.Errorf("at +%v: A asked %d times, AAAA %d; want %d and %d", d, a, aaaa, wantA, wantAAAA)
		}
	}
	step(0, 1, 1)
	step(4*time.Second, 1, 1) // 4 s: both cached
	step(2*time.Second, 1, 2) // 6 s: NODATA AAAA expired (SOA minimum 5 s)
	step(3*time.Second, 1, 2) // 9 s: A (min TTL 10 s) still cached
	step(2*time.Second, 2, 3) // 11 s: A expired, and the AAAA asked at 6 s
}

func TestResolveNegativeCache(t *testing.T) {
	srv := newTestServer(t, zone...)
	clk := newFakeClock()
	r := New([]string{srv.addr}, WithClock(clk.Now))
	ctx := context.Background()
	for range 3 {
		if _, err := r.Resolve(ctx, "nx.test", 0, "UDP"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Resolve: %v, want ErrNotFound", err)
		}
	}
	if n := srv.count("nx.test", dns.TypeNAPTR, ""); n != 1 {
		t.Errorf("NAPTR of nx.test asked %d times, want 1", n)
	}
	clk.Advance(6 * time.Second)
	if _, err := r.Resolve(ctx, "nx.test", 0, "UDP"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve: %v, want ErrNotFound", err)
	}
	if n := srv.count("nx.test", dns.TypeNAPTR, ""); n != 2 {
		t.Errorf("NAPTR of nx.test asked %d times after the negative TTL, want 2", n)
	}
}

func TestResolveCacheOff(t *testing.T) {
	srv := newTestServer(t, zone...)
	r := New([]string{srv.addr}, WithCacheSize(0))
	for range 2 {
		if _, err := r.Resolve(context.Background(), "plain.test", 5060, "UDP"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.count("plain.test", dns.TypeA, ""); n != 2 {
		t.Errorf("A asked %d times with no cache, want 2", n)
	}
}

func TestResolveFailover(t *testing.T) {
	live := newTestServer(t, zone...)
	servfail := newTestServer(t, zone...)
	servfail.setRcode(dns.RcodeServerFailure)
	silent := silentServer(t).LocalAddr().String()
	dead := deadServer(t)
	tests := []struct {
		name    string
		servers []string
	}{
		{"first refuses", []string{dead, live.addr}},
		{"first times out", []string{silent, live.addr}},
		{"first SERVFAILs", []string{servfail.addr, live.addr}},
		{"two bad first", []string{dead, servfail.addr, live.addr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.servers, WithTimeout(100*time.Millisecond), WithRand(zeroRand))
			ts, err := r.Resolve(context.Background(), "prio.test", 0, "UDP")
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != 3 || ts[0].Addr.String() != "127.0.0.3:5080" {
				t.Errorf("Resolve = %q", show(ts))
			}
		})
	}
	t.Run("none answers", func(t *testing.T) {
		r := New([]string{dead, servfail.addr}, WithTimeout(100*time.Millisecond))
		_, err := r.Resolve(context.Background(), "prio.test", 0, "UDP")
		var e *Error
		if !errors.Is(err, ErrNoAnswer) || !errors.As(err, &e) || e.Name != "prio.test" || e.Type != "NAPTR" {
			t.Fatalf("Resolve error %v, want ErrNoAnswer for NAPTR prio.test", err)
		}
	})
	t.Run("failures are not cached", func(t *testing.T) {
		servfail2 := newTestServer(t, zone...)
		servfail2.setRcode(dns.RcodeServerFailure)
		r := New([]string{servfail2.addr})
		for range 2 {
			if _, err := r.Resolve(context.Background(), "plain.test", 5060, "UDP"); !errors.Is(err, ErrNoAnswer) {
				t.Fatalf("Resolve error %v, want ErrNoAnswer", err)
			}
		}
		if n := servfail2.count("plain.test", dns.TypeA, ""); n != 2 {
			t.Errorf("A asked %d times, want 2", n)
		}
	})
}

// TestResolveCancel cancels a look-up while its question waits at a
// server that never answers: Resolve returns at once with the context's
// error, long before the per-server timeout.
func TestResolveCancel(t *testing.T) {
	silent := silentServer(t)
	r := New([]string{silent.LocalAddr().String()}, WithTimeout(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		ts  []Target
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		ts, err := r.Resolve(ctx, "prio.test", 0, "UDP")
		done <- result{ts, err}
	}()
	// Wait for the question to arrive, then cancel.
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	if _, _, err := silent.ReadFrom(buf); err != nil {
		t.Fatalf("no question reached the server: %v", err)
	}
	cancel()
	res := <-done
	if !errors.Is(res.err, context.Canceled) {
		t.Fatalf("Resolve = %v, %v; want context.Canceled", res.ts, res.err)
	}
	var e *Error
	if !errors.As(res.err, &e) || e.Name != "prio.test" {
		t.Errorf("error %v does not name prio.test", res.err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Resolve took %v to notice the cancellation", d)
	}

	// An already cancelled context asks nothing.
	srv := newTestServer(t, zone...)
	r = New([]string{srv.addr})
	if _, err := r.Resolve(ctx, "prio.test", 0, "UDP"); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a cancelled context: %v", err)
	}
	if n := srv.total(); n != 0 {
		t.Errorf("server got %d questions after cancellation", n)
	}
}

// TestResolveConcurrent runs look-ups in parallel on one Resolver (for the
// race detector) while the clock expires the cache under them.
func TestResolveConcurrent(t *testing.T) {
	srv := newTestServer(t, zone...)
	clk := newFakeClock()
	r := New([]string{srv.addr}, WithClock(clk.Now), WithCacheSize(8))
	hosts := []string{"prio.test", "weight.test", "naptr.test", "plain.test", "a.test"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				if g == 0 && i%10 == 0 {
					clk.Advance(time.Minute)
				}
				if _, err := r.Resolve(context.Background(), hosts[(g+i)%len(hosts)], 0, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := r.cache.len(); n > 8 {
		t.Errorf("cache holds %d answers, bound 8", n)
	}
}

func TestCacheBound(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newCache(3)
	for i := range 10 {
		c.put(cacheKey{name: fmt.Sprint(i), qtype: dns.TypeA}, &answer{ttl: time.Minute}, now)
		if n := c.len(); n > 3 {
			t.Fatalf("cache holds %d answers, bound 3", n)
		}
	}
	if _, ok := c.get(cacheKey{name: "9", qtype: dns.TypeA}, now); !ok {
		t.Error("the newest answer is not cached")
	}
	// Expired entries go first.
	c = newCache(2)
	c.put(cacheKey{name: "old"}, &answer{ttl: time.Second}, now)
	c.put(cacheKey{name: "keep"}, &answer{ttl: time.Hour}, now)
	c.put(cacheKey{name: "new"}, &answer{ttl: time.Hour}, now.Add(time.Minute))
	if _, ok := c.get(cacheKey{name: "keep"}, now.Add(time.Minute)); !ok {
		t.Error("a live answer was evicted while an expired one was there")
	}
	// A zero TTL is not cached.
	c.put(cacheKey{name: "zero"}, &answer{}, now)
	if _, ok := c.get(cacheKey{name: "zero"}, now); ok {
		t.Error("an answer of TTL 0 was cached")
	}
}

func TestServers(t *testing.T) {
	r := New([]string{"192.0.2.1", "192.0.2.2:5353", "2001:db8::1", "[2001:db8::2]:53"})
	got, err := r.serverList()
	want := []string{"192.0.2.1:53", "192.0.2.2:5353", "[2001:db8::1]:53", "[2001:db8::2]:53"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("servers = %q, %v; want %q", got, err, want)
	}

	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("search example.com\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = New(nil, WithResolvConf(conf)).serverList()
	want = []string{"192.0.2.53:53", "[2001:db8::53]:53"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("servers from resolv.conf = %q, %v; want %q", got, err, want)
	}

	missing := filepath.Join(t.TempDir(), "none")
	r = New(nil, WithResolvConf(missing))
	_, err = r.Resolve(context.Background(), "plain.test", 0, "")
	if !errors.Is(err, ErrNoAnswer) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Resolve with no resolv.conf: %v", err)
	}
}

func TestNAPTRServices(t *testing.T) {
	rr := func(order, pref uint16, flags, svc, regexp, repl string) *dns.NAPTR {
		return &dns.NAPTR{Order: order, Preference: pref, Flags: flags, Service: svc, Regexp: regexp, Replacement: repl}
	}
	recs := []*dns.NAPTR{
		rr(20, 10, "S", "SIPS+D2T", "", "_sips._tcp.x.test."),
		rr(10, 20, "S", "SIP+D2U", "", "_sip._udp.x.test."),
		rr(10, 10, "s", "sip+d2t", "", "_SIP._TCP.X.test."),
		rr(10, 5, "U", "SIP+D2U", "", "_sip._udp.u.test."),      // wrong flag
		rr(10, 5, "S", "SIP+D2U", "!a!b!", "_sip._udp.r.test."), // regexp
		rr(10, 5, "S", "SIP+D2S", "", "_sip._sctp.x.test."),     // SCTP
		rr(10, 5, "S", "E2U+sip", "", "_sip._udp.e.test."),      // ENUM
		rr(10, 6, "S", "SIP+D2U", "", "."),                      // no replacement
		rr(30, 10, "S", "SIP+D2U", "", "_sip._udp.x.test."),     // duplicate
	}
	tests := []struct {
		transport string
		want      []service
	}{
		{"", []service{{"TCP", "_sip._tcp.x.test"}, {"UDP", "_sip._udp.x.test"}, {"TLS", "_sips._tcp.x.test"}}},
		{"UDP", []service{{"UDP", "_sip._udp.x.test"}}},
		{"TCP", []service{{"TCP", "_sip._tcp.x.test"}}},
		{"TLS", []service{{"TLS", "_sips._tcp.x.test"}}},
	}
	for _, tt := range tests {
		if got := naptrServices(recs, tt.transport); !slices.Equal(got, tt.want) {
			t.Errorf("naptrServices(%q) = %v, want %v", tt.transport, got, tt.want)
		}
	}
}

func BenchmarkResolveCached(b *testing.B) {
	srv := newTestServer(b, zone...)
	r := New([]string{srv.addr})
	ctx := context.Background()
	if _, err := r.Resolve(ctx, "naptr.test", 0, "UDP"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Resolve(ctx, "naptr.test", 0, "UDP"); err != nil {
			b.Fatal(err)
		}
	}
}
