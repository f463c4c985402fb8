package sbc

import (
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"

	"github.com/trunkline/trunkline/internal/dnstest"
	"github.com/trunkline/trunkline/sbc/resolve"
)

// A trunk given by name is located per RFC 3263: its SRV targets in
// priority order. Within one attempt, a 503 from the first target moves
// the INVITE to the second before the route would advance; the caller
// sees the call answered, and the call logs show a single attempt.
func TestCallSRVTargets(t *testing.T) {
	zone := dnstest.Start(t)
	r := newCallRigWith(t, "", "carrier.test", func(s *Server) {
		s.dns = resolve.New([]string{zone.Addr})
	})
	zone.Set(t,
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
	if zone.Count("_sip._udp.carrier.test.", dns.TypeSRV) == 0 {
		t.Error("no SRV question reached the DNS server")
	}
}
