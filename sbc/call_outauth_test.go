package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/digest"
)

// withOutboundAuth gives carrier-1 of the rig the digest credentials it
// answers challenges with.
func withOutboundAuth(t *testing.T, r *callRig, user, password string) {
	t.Helper()
	cfg := r.s.Config().Clone()
	for i := range cfg.SIPTrunks {
		if cfg.SIPTrunks[i].ID == "carrier-1" {
			cfg.SIPTrunks[i].OutboundAuth = &config.Credentials{Username: user, Password: password}
		}
	}
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

// A callee that challenges the INVITE (401 or 407) gets it again with the
// trunk's outboundAuth credentials: same Call-ID and From tag, the next
// CSeq, and an Authorization or Proxy-Authorization its verifier accepts.
func TestCallOutboundAuth(t *testing.T) {
	for _, tc := range []struct {
		code                    int
		reason, challenge, cred string
	}{
		{401, "Unauthorized", "WWW-Authenticate", "Authorization"},
		{407, "Proxy Authentication Required", "Proxy-Authenticate", "Proxy-Authorization"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := newCallRig(t, "", "")
			withOutboundAuth(t, r, "trunkline", "s3cret")
			v, err := digest.NewVerifier(digest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			oc := r.call()
			first := r.c1.nextInvite()
			var hs []sip.Header
			for _, c := range v.Challenge("carrier.example", false) {
				hs = append(hs, sip.NewHeader(tc.challenge, c))
			}
			first.respond(tc.code, tc.reason, nil, hs...)
			first.finish()

			again := r.c1.nextInvite()
			if again.req.CallID().Value() != first.req.CallID().Value() ||
				again.req.From().Params.GetOr("tag", "") != first.req.From().Params.GetOr("tag", "") {
				t.Errorf("the INVITE with credentials is another dialog: Call-ID %s, From %s; first %s, %s",
					again.req.CallID().Value(), again.req.From().Value(), first.req.CallID().Value(), first.req.From().Value())
			}
			if got, want := again.req.CSeq().SeqNo, first.req.CSeq().SeqNo+1; got != want {
				t.Errorf("CSeq %d, want %d", got, want)
			}
			h := again.req.GetHeader(tc.cred)
			if h == nil {
				t.Fatalf("no %s in the INVITE sent again:\n%s", tc.cred, again.req)
			}
			user, res, err := v.Verify("INVITE", again.req.Recipient.String(), h.Value(), func(u, realm string) (string, bool) {
				return "s3cret", u == "trunkline"
			})
			if res != digest.OK || user != "trunkline" {
				t.Fatalf("credentials %q: %v %v", h.Value(), res, err)
			}
			again.answer()
			ok := oc.final()
			if ok.StatusCode != 200 {
				t.Fatalf("caller got %d, want 200", ok.StatusCode)
			}
			oc.ack(ok)
			r.c1.nextAck()
			r.caller.do(oc.d.Request(sip.BYE, nil, ""))
			r.c1.nextRequest(sip.BYE)
			r.c2.noInvite()
		})
	}
}

// A second challenge means the credentials are wrong: the INVITE is not
// sent a third time, and the caller gets 500 (the challenge is not its to
// answer; 401/407 are not in the default advanceOn).
func TestCallOutboundAuthRejected(t *testing.T) {
	r := newCallRig(t, "", "")
	withOutboundAuth(t, r, "trunkline", "wrong")
	v, err := digest.NewVerifier(digest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	challenge := func(in *inInvite) {
		var hs []sip.Header
		for _, c := range v.Challenge("carrier.example", false) {
			hs = append(hs, sip.NewHeader("Proxy-Authenticate", c))
		}
		in.respond(407, "Proxy Authentication Required", nil, hs...)
		in.finish()
	}
	oc := r.call()
	challenge(r.c1.nextInvite())
	challenge(r.c1.nextInvite())
	r.c1.noInvite()
	res := oc.final()
	if res.StatusCode != 500 {
		t.Fatalf("caller got %d, want 500", res.StatusCode)
	}
	if res.GetHeader("Proxy-Authenticate") != nil {
		t.Error("the callee's challenge reached the caller")
	}
}
