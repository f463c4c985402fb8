package resolve

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testServer is a real DNS server on 127.0.0.1, UDP and TCP on one port,
// answering from its records and counting the questions it gets.
type testServer struct {
	addr string // host:port

	mu       sync.Mutex
	rrs      map[qkey][]dns.RR
	names    map[string]bool // names that exist (NODATA rather than NXDOMAIN)
	truncate map[string]bool // names whose UDP answers are truncated
	rcode    int             // when not 0, the rcode of every answer
	soaMin   uint32          // negative TTL of the SOA sent with negative answers
	counts   map[qkey]int
}

type qkey struct {
	name    string // lower case FQDN
	qtype   uint16
	network string // "udp", "tcp"; "" in rrs
}

// newTestServer starts a server holding records (zone file lines). It is
// shut down when the test ends.
func newTestServer(t testing.TB, records ...string) *testServer {
	t.Helper()
	s := &testServer{
		rrs:      make(map[qkey][]dns.RR),
		names:    make(map[string]bool),
		truncate: make(map[string]bool),
		counts:   make(map[qkey]int),
		soaMin:   5,
	}
	s.add(t, records...)

	pc, ln := listenPair(t)
	s.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		done := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			defer close(done)
			_ = srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			_ = srv.Shutdown()
			<-done
		})
	}
	return s
}

// listenPair binds UDP and TCP on the same free port of 127.0.0.1.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no free port for UDP and TCP")
	return nil, nil
}

func (s *testServer) add(t testing.TB, records ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range records {
		rr, err := dns.NewRR(z)
		if err != nil {
			t.Fatalf("record %q: %v", z, err)
		}
		h := rr.Header()
		name := strings.ToLower(h.Name)
		k := qkey{name: name, qtype: h.Rrtype}
		s.rrs[k] = append(s.rrs[k], rr)
		s.names[name] = true
	}
}

func (s *testServer) setTruncate(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate[dns.Fqdn(name)] = true
}

func (s *testServer) setRcode(rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcode = rcode
}

// count returns how many questions of name and qtype came over network
// ("" for both).
func (s *testServer) count(name string, qtype uint16, network string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if network == "" {
		return s.counts[qkey{dns.Fqdn(name), qtype, "udp"}] + s.counts[qkey{dns.Fqdn(name), qtype, "tcp"}]
	}
	return s.counts[qkey{dns.Fqdn(name), qtype, network}]
}

// total returns the number of questions received.
func (s *testServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

func (s *testServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	network := w.RemoteAddr().Network()

	s.mu.Lock()
	s.counts[qkey{name, q.Qtype, network}]++
	truncate := s.truncate[name] && network == "udp"
	rcode := s.rcode
	rrs := s.rrs[qkey{name: name, qtype: q.Qtype}]
	exists := s.names[name]
	soaMin := s.soaMin
	s.mu.Unlock()

	switch {
	case rcode != 0:
		m.Rcode = rcode
	case truncate:
		m.Truncated = true
	case len(rrs) > 0:
		m.Answer = rrs
	default:
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{&dns.SOA{
			Hdr:    dns.RR_Header{Name: "test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
			Ns:     "ns.test.",
			Mbox:   "hostmaster.test.",
			Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400,
			Minttl: soaMin,
		}}
	}
	_ = w.WriteMsg(m)
}

// deadServer returns the address of a UDP port nobody listens on: a query
// to it fails at once (ICMP port unreachable) and TCP is refused.
func deadServer(t testing.TB) string {
	t.Helper()
	pc, ln := listenPair(t)
	addr := pc.LocalAddr().String()
	pc.Close()
	ln.Close()
	return addr
}

// silentServer returns a bound UDP socket that never answers; the test
// reads the queries it receives.
func silentServer(t testing.TB) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// seqRand returns the values of vals in turn (modulo n), for a scripted
// SRV order; safe for concurrent use.
func seqRand(vals ...int) func(n int) int {
	var mu sync.Mutex
	i := 0
	return func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		v := vals[i%len(vals)]
		i++
		return v % n
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
