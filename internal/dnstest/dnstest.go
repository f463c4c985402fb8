// Package dnstest runs an authoritative DNS server in-process for tests: on
// 127.0.0.1, UDP and TCP on one port, answering from zone-file records it
// can be given at any time, and counting the questions it gets. A name
// with no record of the type asked answers NODATA when the name exists and
// NXDOMAIN otherwise, with an SOA of TTL 1 so that resolvers do not cache
// negative answers long.
package dnstest

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running DNS server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is where it listens, "127.0.0.1:port" (UDP and TCP).
	Addr string

	mu    sync.Mutex
	rrs   map[key][]dns.RR
	names map[string]bool // names that exist: NODATA rather than NXDOMAIN
	asked map[key]int
}

type key struct {
	name  string // lower case, fully qualified
	qtype uint16
}

// Start starts a server holding records (zone-file lines); it is shut down
// when the test ends.
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	s := &Server{names: map[string]bool{}, asked: map[key]int{}}
	s.Set(t, records...)
	pc, ln := listeners(t)
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started, done := make(chan struct{}), make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			defer close(done)
			srv.ActivateAndServe()
		}()
		select {
		case <-started:
		case <-done:
			t.Fatal("dnstest: the DNS server did not start")
		}
		t.Cleanup(func() {
			srv.Shutdown()
			<-done
		})
	}
	return s
}

// Set replaces the server's records with records (zone-file lines).
func (s *Server) Set(t testing.TB, records ...string) {
	t.Helper()
	rrs := map[key][]dns.RR{}
	for _, z := range records {
		rr, err := dns.NewRR(z)
		if err != nil {
			t.Fatalf("dnstest: record %q: %v", z, err)
		}
		k := key{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
		rrs[k] = append(rrs[k], rr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rrs = rrs
	for k := range rrs {
		s.names[k.name] = true
	}
}

// listeners binds UDP and TCP on one free port of 127.0.0.1.
func listeners(t testing.TB) (net.PacketConn, net.Listener) {
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
	t.Fatal("dnstest: no port free for DNS on both UDP and TCP")
	return nil, nil
}

// Exists makes a name without records answer NODATA (not NXDOMAIN).
func (s *Server) Exists(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names[dns.Fqdn(strings.ToLower(name))] = true
}

// Count returns how many questions for name and qtype came.
func (s *Server) Count(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[key{dns.Fqdn(strings.ToLower(name)), qtype}]
}

// Queries renders every question received, for failure messages.
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, n := range s.asked {
		out = append(out, fmt.Sprintf("%s %s ×%d", k.name, dns.TypeToString[k.qtype], n))
	}
	slices.Sort(out)
	return out
}

// ServeDNS answers one question from the records.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	k := key{strings.ToLower(q.Name), q.Qtype}
	s.mu.Lock()
	s.asked[k]++
	rrs, exists := s.rrs[k], s.names[k.name]
	s.mu.Unlock()
	switch {
	case len(rrs) > 0:
		m.Answer = rrs
	case !exists:
		m.Rcode = dns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{&dns.SOA{
			Hdr: dns.RR_Header{Name: "test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 1},
			Ns:  "ns.test.", Mbox: "hostmaster.test.", Serial: 1, Refresh: 60, Retry: 60, Expire: 600, Minttl: 1,
		}}
	}
	w.WriteMsg(m)
}
