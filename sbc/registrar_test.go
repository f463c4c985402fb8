package sbc

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// register sends a REGISTER for the UA's own contact, with the given
// Expires header ("" for none), answering the 401 as office.
func (r *authRig) register(u *testUA, expires string, extra ...sip.Header) *sip.Response {
	r.t.Helper()
	if expires != "" {
		extra = append(extra, sip.NewHeader("Expires", expires))
	}
	req := u.request(sip.REGISTER, r.to, "", extra...)
	req.Recipient.User = ""
	req.To().Address.User = "office"
	req.From().Address.User = "office"
	res := u.exchange(req)
	wantChallenge(r.t, res, 401, false)
	return u.exchange(retry(r.t, req, res, "office", "office-secret"))
}

// contactExpiry returns the expires parameter of res's Contact for uri, -1
// when res does not list it.
func contactExpiry(res *sip.Response, uri string) int {
	for _, h := range res.GetHeaders("Contact") {
		ct, ok := h.(*sip.ContactHeader)
		if !ok || ct.Address.String() != uri {
			continue
		}
		v, _ := ct.Params.Get("expires")
		n, err := strconv.Atoi(v)
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}

// TestRegister: a REGISTERED trunk's peer registers after a 401, its
// binding is where calls to the trunk go, its OPTIONS are answered as a
// known source's; Expires 0 removes the binding, and bindings expire.
func TestRegister(t *testing.T) {
	r := newAuthRig(t)
	u := newTestUA(t, "office", "127.0.0.6")
	contact := (&sip.Uri{Scheme: "sip", User: "office", Host: u.ip, Port: u.port}).String()

	// Before registering, OPTIONS from the address is challenged.
	wantChallenge(t, u.exchange(u.request(sip.OPTIONS, r.to, "probe")), 407, false)

	res := r.register(u, "600")
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER: got %d %s, want 200", res.StatusCode, res.Reason)
	}
	if got := contactExpiry(res, contact); got != 600 {
		t.Errorf("200 lists %s with expires %d, want 600:\n%s", contact, got, res)
	}
	want := target{host: u.ip, port: u.port, addr: netip.AddrPortFrom(netip.MustParseAddr(u.ip), uint16(u.port))}
	if got := r.s.registeredTargets("office"); len(got) != 1 || got[0] != want {
		t.Fatalf("registeredTargets = %+v, want [%+v]", got, want)
	}
	if got := r.s.registeredTargets("agent"); len(got) != 0 {
		t.Errorf("registeredTargets(agent) = %+v, want none", got)
	}
	if got := u.exchange(u.request(sip.OPTIONS, r.to, "probe")); got.StatusCode != 200 {
		t.Errorf("OPTIONS from a registered peer: got %d, want 200", got.StatusCode)
	}

	// Too brief, asked by the header or by the contact's parameter.
	for _, ex := range []struct {
		header string
		param  string
	}{{"30", ""}, {"", "59"}} {
		req := u.request(sip.REGISTER, r.to, "")
		if ex.header != "" {
			req.AppendHeader(sip.NewHeader("Expires", ex.header))
		}
		if ex.param != "" {
			req.Contact().Params.Add("expires", ex.param)
		}
		res := u.exchange(req)
		wantChallenge(t, res, 401, false)
		brief := u.exchange(retry(t, req, res, "office", "office-secret"))
		if brief.StatusCode != 423 || header(brief, "Min-Expires") != "60" {
			t.Errorf("Expires %q/expires=%q: got %d Min-Expires %q, want 423 Min-Expires 60", ex.header, ex.param, brief.StatusCode, header(brief, "Min-Expires"))
		}
	}

	// Capped, then removed.
	if res := r.register(u, "86400"); res.StatusCode != 200 || contactExpiry(res, contact) != 7200 {
		t.Errorf("Expires 86400: got %d, expires %d, want 200 capped to 7200", res.StatusCode, contactExpiry(res, contact))
	}
	if res := r.register(u, "0"); res.StatusCode != 200 || contactExpiry(res, contact) != -1 {
		t.Errorf("Expires 0: got %d listing %d, want 200 without the contact:\n%s", res.StatusCode, contactExpiry(res, contact), res)
	}
	if got := r.s.registeredTargets("office"); len(got) != 0 {
		t.Fatalf("after Expires 0: registeredTargets = %+v, want none", got)
	}

	// Default expiry, then the clock runs past it.
	if res := r.register(u, ""); res.StatusCode != 200 || contactExpiry(res, contact) != 3600 {
		t.Errorf("no Expires: got %d, expires %d, want 200 with 3600", res.StatusCode, contactExpiry(res, contact))
	}
	r.clock.advance(3599 * time.Second)
	if got := r.s.registeredTargets("office"); len(got) != 1 {
		t.Fatalf("a second before expiry: registeredTargets = %+v, want one", got)
	}
	r.clock.advance(time.Second)
	if got := r.s.registeredTargets("office"); len(got) != 0 {
		t.Fatalf("after expiry: registeredTargets = %+v, want none", got)
	}

	// Contact: * with Expires: 0 removes everything.
	r.register(u, "600")
	req := u.request(sip.REGISTER, r.to, "", sip.NewHeader("Expires", "0"))
	req.RemoveHeader("Contact")
	req.AppendHeader(sip.NewHeader("Contact", "*"))
	res = u.exchange(req)
	wantChallenge(t, res, 401, false)
	if got := u.exchange(retry(t, req, res, "office", "office-secret")); got.StatusCode != 200 {
		t.Fatalf("Contact *: got %d %s, want 200", got.StatusCode, got.Reason)
	}
	if got := r.s.registeredTargets("office"); len(got) != 0 {
		t.Fatalf("after Contact *: registeredTargets = %+v, want none", got)
	}
}

// TestRegisterRefused: REGISTER from a trunk that does not register, or
// from nothing known, gets 403.
func TestRegisterRefused(t *testing.T) {
	r := newAuthRig(t)
	// AUTHENTICATED: authenticates, but does not register.
	u := newTestUA(t, "agent", "127.0.0.3")
	req := u.request(sip.REGISTER, r.to, "")
	res := u.exchange(req)
	wantChallenge(t, res, 401, false)
	wantForbidden(t, u.exchange(retry(t, req, res, "agent", "agent-secret")))
	// STATIC, by its source.
	coded := newTestUA(t, "coded", "127.0.0.5")
	wantForbidden(t, coded.exchange(coded.request(sip.REGISTER, r.to, "")))
	if got := r.s.registeredTargets("agent"); len(got) != 0 {
		t.Errorf("registeredTargets(agent) = %+v", got)
	}
}

func TestRegisterContacts(t *testing.T) {
	parse := func(t *testing.T, lines ...string) *sip.Request {
		t.Helper()
		msg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-r\r\n" +
			"From: <sip:office@127.0.0.1>;tag=1\r\nTo: <sip:office@127.0.0.1>\r\nCall-ID: r@test\r\nCSeq: 1 REGISTER\r\n"
		for _, l := range lines {
			msg += l + "\r\n"
		}
		m, err := sip.ParseMessage([]byte(msg + "Content-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return m.(*sip.Request)
	}
	cases := []struct {
		name     string
		lines    []string
		want     []time.Duration
		wildcard bool
		err      error
	}{
		{"default", []string{"Contact: <sip:a@192.0.2.1>"}, []time.Duration{time.Hour}, false, nil},
		{"header", []string{"Contact: <sip:a@192.0.2.1>", "Expires: 120"}, []time.Duration{120 * time.Second}, false, nil},
		{"param wins", []string{"Contact: <sip:a@192.0.2.1>;expires=300", "Expires: 120"}, []time.Duration{300 * time.Second}, false, nil},
		{"two contacts", []string{"Contact: <sip:a@192.0.2.1>;expires=0, <sip:b@192.0.2.2>", "Expires: 90"}, []time.Duration{0, 90 * time.Second}, false, nil},
		{"capped", []string{"Contact: <sip:a@192.0.2.1>;expires=99999"}, []time.Duration{maxRegisterExpiry}, false, nil},
		{"too brief", []string{"Contact: <sip:a@192.0.2.1>;expires=1"}, nil, false, errIntervalTooBrief},
		{"query", nil, nil, false, nil},
		{"wildcard", []string{"Contact: *", "Expires: 0"}, nil, true, nil},
		{"wildcard without Expires", []string{"Contact: *"}, nil, false, errBadRegister},
		{"wildcard with expiry", []string{"Contact: *", "Expires: 60"}, nil, false, errBadRegister},
		{"wildcard and a contact", []string{"Contact: *", "Contact: <sip:a@192.0.2.1>", "Expires: 0"}, nil, false, errBadRegister},
		{"bad Expires", []string{"Contact: <sip:a@192.0.2.1>", "Expires: soon"}, nil, false, errBadRegister},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, wildcard, err := registerContacts(parse(t, c.lines...))
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if wildcard != c.wildcard || len(got) != len(c.want) {
				t.Fatalf("got %+v wildcard %v, want %v wildcard %v", got, wildcard, c.want, c.wildcard)
			}
			for i := range got {
				if got[i].expiry != c.want[i] {
					t.Errorf("contact %d expiry %v, want %v", i, got[i].expiry, c.want[i])
				}
			}
		})
	}
}

func TestRegistrarUpdate(t *testing.T) {
	clock := &testClock{}
	reg := newRegistrar(clock.now)
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	uri := func(user string) sip.Uri { return sip.Uri{Scheme: "sip", User: user, Host: "192.0.2.1", Port: 5060} }
	b := binding{source: src, transport: "UDP", callID: "c1", cseq: 2}
	if err := reg.update("t", b, []regContact{{uri: uri("a"), expiry: time.Minute}}, false); err != nil {
		t.Fatal(err)
	}
	// RFC 3261 §10.3 step 7: the same Call-ID with a CSeq not above
	// changes nothing; another Call-ID does.
	b.cseq = 2
	if err := reg.update("t", b, []regContact{{uri: uri("a"), expiry: 0}}, false); !errors.Is(err, errOutOfOrder) {
		t.Fatalf("out of order: %v, want errOutOfOrder", err)
	}
	if len(reg.targets("t")) != 1 {
		t.Fatal("an out-of-order REGISTER removed the binding")
	}
	b.callID = "c2"
	for i := range maxBindings - 1 {
		b.cseq++
		if err := reg.update("t", b, []regContact{{uri: uri("u" + strconv.Itoa(i)), expiry: time.Minute}}, false); err != nil {
			t.Fatal(err)
		}
	}
	b.cseq++
	if err := reg.update("t", b, []regContact{{uri: uri("one-too-many"), expiry: time.Minute}}, false); !errors.Is(err, errTooManyBindings) {
		t.Fatalf("binding %d: %v, want errTooManyBindings", maxBindings+1, err)
	}
	// A refresh of one there is still fine; the most recent comes first.
	b.cseq++
	if err := reg.update("t", b, []regContact{{uri: uri("a"), expiry: 2 * time.Minute}}, false); err != nil {
		t.Fatal(err)
	}
	if got := reg.targets("t"); len(got) != maxBindings || got[0].host != "192.0.2.1" {
		t.Fatalf("targets %+v", got)
	}
	clock.advance(time.Minute)
	if got := reg.targets("t"); len(got) != 1 {
		t.Fatalf("after a minute: %d targets, want the refreshed one", len(got))
	}
	cfg := trunks("t:REGISTERED")
	if tr := reg.trunkAt(cfg, netip.MustParseAddr("192.0.2.1")); tr == nil || tr.ID != "t" {
		t.Errorf("trunkAt(registered source) = %v, want t", tr)
	}
	if tr := reg.trunkAt(cfg, netip.MustParseAddr("192.0.2.2")); tr != nil {
		t.Errorf("trunkAt(another source) = %v, want nil", tr)
	}
	if tr := reg.trunkAt(trunks("t:STATIC"), netip.MustParseAddr("192.0.2.1")); tr != nil {
		t.Errorf("trunkAt when t is no longer REGISTERED = %v, want nil", tr)
	}
}

func TestBindingTarget(t *testing.T) {
	cases := []struct {
		name    string
		contact string // host[:port]
		source  string
		want    string // the target's address
	}{
		{"contact is the source", "203.0.113.5:5080", "203.0.113.5:40000", "203.0.113.5:5080"},
		{"default port", "203.0.113.5", "203.0.113.5:40000", "203.0.113.5:5060"},
		{"behind NAT", "192.168.1.10:5060", "203.0.113.5:40000", "203.0.113.5:40000"},
		{"CGNAT", "100.64.1.10:5060", "203.0.113.5:40000", "203.0.113.5:40000"},
		{"host name", "pbx.example.com:5060", "203.0.113.5:40000", "203.0.113.5:40000"},
		{"public elsewhere", "198.51.100.9:5060", "203.0.113.5:40000", "198.51.100.9:5060"},
		{"loopback is the source", "127.0.0.1:5070", "127.0.0.1:5070", "127.0.0.1:5070"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, port := hostPort(c.contact)
			b := binding{contact: sip.Uri{Scheme: "sip", Host: host, Port: port}, source: netip.MustParseAddrPort(c.source), transport: "UDP"}
			got := b.target()
			if got.addr.String() != c.want || got.host != host || got.port != port {
				t.Errorf("target %+v, want host %s port %d addr %s", got, host, port, c.want)
			}
		})
	}
}
