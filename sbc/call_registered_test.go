package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
)

// A route to a REGISTERED trunk reaches its peer at the contact it
// registered; once the binding is gone the attempt fails with 480.
func TestCallToRegisteredTrunk(t *testing.T) {
	r := newAuthRig(t)
	office := newTestUA(t, "office", "127.0.0.3")
	if res := r.register(office, "600"); res.StatusCode != 200 {
		t.Fatalf("REGISTER: %d", res.StatusCode)
	}
	cfg := r.s.Config().Clone()
	cfg.Routes = append(cfg.Routes, config.Route{
		ID:       "to-office",
		Criteria: []config.Criterion{{To: "7700(.+)"}},
		Destinations: []config.Destination{{Type: config.DestinationEndpoint,
			Value: &config.EndpointValue{Type: config.EndpointSIP, SIPTrunkID: "office"}}},
	})
	cfg.ApplyDefaults()
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	caller := newTestUA(t, "alice", "127.0.0.5") // trunk "coded"
	code := sip.NewHeader("X-Access-Code", "code-five")

	oc := caller.invite(r.to, "770012345", caller.sdp(), code)
	in := office.nextInvite()
	if in.req.Recipient.Host != "127.0.0.3" || in.req.Recipient.Port != office.port {
		t.Errorf("R-URI %s, want the registered contact 127.0.0.3:%d", in.req.Recipient.String(), office.port)
	}
	in.answer()
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	office.nextAck()
	caller.do(oc.d.Request(sip.BYE, nil, ""))
	office.nextRequest(sip.BYE)

	if st, _ := r.s.TrunkStatus("office"); st.Registration != RegistrationRegistered {
		t.Errorf("office registration %q, want %q", st.Registration, RegistrationRegistered)
	}
	if res := r.register(office, "0"); res.StatusCode != 200 {
		t.Fatalf("un-REGISTER: %d", res.StatusCode)
	}
	oc = caller.invite(r.to, "770012345", caller.sdp(), code)
	if res := oc.final(); res.StatusCode != 480 {
		t.Errorf("call to an unregistered trunk: %d, want 480", res.StatusCode)
	}
	office.noInvite()
}
