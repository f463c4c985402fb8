package sbc

import (
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"

	"github.com/trunkline/trunkline/sbc/resolve"
)

// dnsZone is an in-process DNS server on 127.0.0.1 (UDP) answering from a
// fixed set of records, and counting the questions it gets.
type dnsZone struct {
	addr string
	mu   sync.Mutex
	rrs  []dns.RR
	asks map[string]int // "name type"
}

// set replaces the zone's records.
func (z *dnsZone) set(t *testing.T, records ...string) {
	t.Helper()
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	z.mu.Lock()
	z.rrs = rrs
	z.mu.Unlock()
}

func newDNSZone(t *testing.T) *dnsZone {
	t.Helper()
	z := &dnsZone{asks: map[string]int{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z.addr = pc.LocalAddr().String()
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Authoritative = true
			question := q.Question[0]
			z.mu.Lock()
			z.asks[question.Name+" "+dns.TypeToString[question.Qtype]]++
			rrs := z.rrs
			z.mu.Unlock()
			for _, rr := range rrs {
				h := rr.Header()
				if h.Rrtype == question.Qtype && dns.CanonicalName(h.Name) == dns.CanonicalName(question.Name) {
					m.Answer = append(m.Answer, rr)
				}
			}
			if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeNameError
			}
			w.WriteMsg(m)
		})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		srv.Shutdown()
		<-done
	})
	return z
}

func (z *dnsZone) asked(name, qtype string) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.asks[name+" "+qtype]
}

// A trunk given by name is located per RFC 3263: its SRV targets in
// priority order. Within one attempt, a 503 from the first target moves
// the INVITE to the second before the route would advance; the caller
// sees the call answered, and the call logs show a single attempt.
func TestCallSRVTargets(t *testing.T) {
	zone := newDNSZone(t)
	r := newCallRigWith(t, "", "carrier.test", func(s *Server) {
		s.dns = resolve.New([]string{zone.addr})
	})
	zone.set(t,
		"_sip._udp.carrier.test. 60 IN SRV 10 1 "+strconv.Itoa(r.c1.port)+" primary.carrier.test.",
		"_sip._udp.carrier.test. 60 IN SRV 20 1 "+strconv.Itoa(r.c2.port)+" backup.carrier.test.",
		"primary.carrier.test. 60 IN A 127.0.0.2",
		"backup.carrier.test. 60 IN A 127.0.0.3",
	)

	oc := r.call()
	first := r.c1.nextInvite()
	if first.req.Recipient.Host != "carrier.test" || first.req.Recipient.Port != 0 {
		t.Errorf("R-URI %s: want the trunk's host as configured, carrier.test", first.req.Recipient.String())
	}
	first.respond(503, "Service Unavailable", nil)
	first.finish()
	second := r.c2.nextInvite()
	if second.req.CallID().Value() != first.req.CallID().Value() {
		t.Errorf("the backup target got another attempt (Call-ID %s, first %s)", second.req.CallID().Value(), first.req.CallID().Value())
	}
	if second.req.Recipient.User != first.req.Recipient.User {
		t.Errorf("backup R-URI user %q, want carrier-1's %q (not carrier-2's username)", second.req.Recipient.User, first.req.Recipient.User)
	}
	second.answer()
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	r.c2.nextAck()
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	r.c2.nextRequest(sip.BYE)
	logs := r.legs(2)
	if logs[1].Trunk != "carrier-1" || logs[1].State != StateFinished {
		t.Errorf("attempt record: %+v", logs[1])
	}
	if zone.asked("_sip._udp.carrier.test.", "SRV") == 0 {
		t.Error("no SRV question reached the DNS server")
	}
}
