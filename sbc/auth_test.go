package sbc

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/digest"
)

// authYAML is the configuration of the authentication tests. agent and
// office take credentials from any address (open credentials); locked only
// from 127.0.0.4; coded is STATIC on 127.0.0.5 with an access code;
// codeonly is known by its access code alone; callee leads to a UA.
const authYAML = `
node: {id: test}
sip:
  listen: ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]
media: {rtpPorts: "26200-26399"}
sipTrunks:
  - {id: agent, type: AUTHENTICATED, inboundAuth: {username: agent, password: agent-secret}}
  - {id: office, type: REGISTERED, inboundAuth: {username: office, password: office-secret}}
  - {id: locked, type: AUTHENTICATED, sourceHosts: ["127.0.0.4/32"], inboundAuth: {username: locked, password: locked-secret}}
  - {id: coded, type: STATIC, sourceHosts: ["127.0.0.5/32"], accessCode: code-five}
  - {id: codeonly, type: STATIC, accessCode: only-code}
  - {id: callee, type: STATIC, destinationHosts: [%q]}
routes:
  - id: main
    criteria: [{to: "44(.+)"}]
    destinations:
      - {type: ENDPOINT, value: {type: SIP, sipTrunkId: callee}}
`

// noRoute is a called number no route matches: a request that reaches it
// (404) passed classification.
const noRoute = "99999"

// testClock is a clock tests move forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// authRig is a server on authYAML with a callee UA, its clock under the
// test's control.
type authRig struct {
	t      *testing.T
	s      *Server
	callee *testUA
	clock  *testClock
	to     net.Addr
}

func newAuthRig(t *testing.T) *authRig {
	t.Helper()
	r := &authRig{t: t, clock: &testClock{}}
	r.callee = newTestUA(t, "bob", "127.0.0.2")
	cfg, err := config.Parse("auth.yaml", []byte(fmt.Sprintf(authYAML, r.callee.addr())))
	if err != nil {
		t.Fatal(err)
	}
	r.s = startServerWith(t, cfg, func(s *Server) {
		auth, err := newAuthenticator(digest.Options{Now: r.clock.now})
		if err != nil {
			t.Fatal(err)
		}
		s.auth = auth
		s.registrar = newRegistrar(r.clock.now)
	})
	r.to = addr(t, r.s, "udp")
	return r
}

// request builds an out-of-dialog request from the UA to the server at to,
// for user, with extra headers.
func (u *testUA) request(method sip.RequestMethod, to net.Addr, user string, extra ...sip.Header) *sip.Request {
	host, port, _ := sip.ParseAddr(to.String())
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: user, Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: u.name, Host: u.ip}, Params: sip.NewParams()}
	from.Params.Add("tag", newTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.name, Host: u.ip, Port: u.port}})
	for _, h := range extra {
		req.AppendHeader(h)
	}
	req.SetTransport("UDP")
	return req
}

// exchange sends req in a client transaction (sipgo adds the Via) and
// returns its final response.
func (u *testUA) exchange(req *sip.Request) *sip.Response {
	u.t.Helper()
	tx, err := u.cli.TransactionRequest(context.Background(), req)
	if err != nil {
		u.t.Fatal(err)
	}
	return u.final(tx, req.Method)
}

// sendInvite sends an INVITE built already and returns the call.
func (u *testUA) sendInvite(req *sip.Request) *outCall {
	u.t.Helper()
	tx, err := u.cli.TransactionRequest(context.Background(), req)
	if err != nil {
		u.t.Fatal(err)
	}
	oc := &outCall{u: u, req: req, tx: tx, resps: make(chan *sip.Response, 32)}
	u.pump(tx, oc.resps)
	return oc
}

// authClient answers the tests' challenges; one per package, as a UA has
// one (it counts nc per nonce).
var authClient digest.Client

// credentialsFor answers the challenge of res (401 or 407) for req as user
// with password: the header to add to req's retry.
func credentialsFor(t *testing.T, req *sip.Request, res *sip.Response, user, password string) sip.Header {
	t.Helper()
	challengeName, credName := "Proxy-Authenticate", "Proxy-Authorization"
	if res.StatusCode == 401 {
		challengeName, credName = "WWW-Authenticate", "Authorization"
	}
	var values []string
	for _, h := range res.GetHeaders(challengeName) {
		values = append(values, h.Value())
	}
	ch, err := digest.Choose(values)
	if err != nil {
		t.Fatalf("%d without a challenge to answer: %v\n%s", res.StatusCode, err, res)
	}
	cred, err := authClient.Answer(ch, string(req.Method), req.Recipient.String(), user, password, req.Body())
	if err != nil {
		t.Fatal(err)
	}
	return sip.NewHeader(credName, cred)
}

// retry is req again after the challenge res (RFC 3261 §22.2): same
// Call-ID and From tag, the next CSeq, a new branch, and the credentials
// of user with password.
func retry(t *testing.T, req *sip.Request, res *sip.Response, user, password string) *sip.Request {
	t.Helper()
	r := req.Clone()
	r.RemoveHeader("Via")
	r.RemoveHeader("Proxy-Authorization")
	r.RemoveHeader("Authorization")
	r.CSeq().SeqNo++
	r.AppendHeader(credentialsFor(t, r, res, user, password))
	return r
}

// wantChallenge fails the test unless res is a fresh digest challenge of
// the given code for realm "trunkline", stale as wanted.
func wantChallenge(t *testing.T, res *sip.Response, code int, stale bool) {
	t.Helper()
	name := "Proxy-Authenticate"
	if code == 401 {
		name = "WWW-Authenticate"
	}
	if res.StatusCode != code {
		t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, code)
	}
	hs := res.GetHeaders(name)
	if len(hs) != 2 { // SHA-256 then MD5
		t.Fatalf("%d %s headers, want 2:\n%s", len(hs), name, res)
	}
	for i, alg := range []digest.Algorithm{digest.SHA256, digest.MD5} {
		ch, err := digest.ParseChallenge(hs[i].Value())
		if err != nil {
			t.Fatal(err)
		}
		if ch.Realm != authRealm || ch.Algorithm != alg || ch.Stale != stale {
			t.Errorf("challenge %d: %+v, want realm %s, %s, stale %v", i, ch, authRealm, alg, stale)
		}
	}
	if to := res.To(); to == nil || !to.Params.Has("tag") {
		t.Errorf("challenge without a To tag")
	}
}

// wantForbidden fails the test unless res is a bare 403 Forbidden: the
// same answer whatever was refused.
func wantForbidden(t *testing.T, res *sip.Response) {
	t.Helper()
	if res.StatusCode != 403 || res.Reason != "Forbidden" {
		t.Fatalf("got %d %s, want 403 Forbidden", res.StatusCode, res.Reason)
	}
	for _, h := range res.Headers() {
		switch strings.ToLower(h.Name()) {
		case "via", "from", "to", "call-id", "cseq", "content-length":
		default:
			t.Errorf("403 carries %s: %s", h.Name(), h.Value())
		}
	}
}

// TestAuthChallengedCall: an AUTHENTICATED trunk's peer, from an address no
// trunk lists, is challenged (407), answers, and its call goes through;
// the call's in-dialog requests need no credentials.
func TestAuthChallengedCall(t *testing.T) {
	r := newAuthRig(t)
	caller := newTestUA(t, "agent", "127.0.0.3")
	oc := caller.invite(r.to, called, caller.sdp())
	res := oc.final()
	wantChallenge(t, res, 407, false)

	oc2 := caller.sendInvite(retry(t, oc.req, res, "agent", "agent-secret"))
	if res := oc2.next(); res.StatusCode != 100 {
		t.Fatalf("got %d, want 100 Trying", res.StatusCode)
	}
	in := r.callee.nextInvite()
	if got, want := callID(oc2.req), callID(oc.req); got != want {
		t.Fatalf("retry Call-ID %q, want %q", got, want)
	}
	if h := in.req.GetHeader("Proxy-Authorization"); h != nil {
		t.Errorf("the callee got the caller's credentials: %s", h.Value())
	}
	in.answer()
	ok := oc2.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	oc2.ack(ok)
	r.callee.nextAck()
	if bye := caller.do(oc2.d.Request(sip.BYE, nil, "")); bye.StatusCode != 200 {
		t.Fatalf("BYE got %d, want 200 (no challenge within the call)", bye.StatusCode)
	}
	r.callee.nextRequest(sip.BYE)
	ctx, cancel := context.WithTimeout(context.Background(), answerWithin)
	defer cancel()
	if err := r.s.calls.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if logs := r.s.CallLogs(); len(logs) != 2 || logs[0].Trunk != "agent" {
		t.Errorf("call logs: %+v, want the A leg on trunk agent", logs)
	}
}

// TestAuthRefusals: every wrong credential gets the same bare 403, counted;
// replayed credentials too; a stale nonce is challenged again with
// stale=true, and the fresh nonce works.
func TestAuthRefusals(t *testing.T) {
	r := newAuthRig(t)
	u := newTestUA(t, "agent", "127.0.0.3")
	challenge := func() (*sip.Request, *sip.Response) {
		t.Helper()
		req := u.request(sip.OPTIONS, r.to, "probe")
		res := u.exchange(req)
		wantChallenge(t, res, 407, false)
		return req, res
	}

	t.Run("right", func(t *testing.T) {
		req, res := challenge()
		if got := u.exchange(retry(t, req, res, "agent", "agent-secret")); got.StatusCode != 200 {
			t.Fatalf("got %d %s, want 200", got.StatusCode, got.Reason)
		}
	})
	before := r.s.metrics.unknownSource.Get()
	refused := 0
	for _, c := range []struct{ name, user, password string }{
		{"wrong password", "agent", "guess"},
		{"unknown user", "nobody", "agent-secret"},
		{"another trunk's password", "agent", "office-secret"},
		{"source not listed", "locked", "locked-secret"}, // locked takes only 127.0.0.4
	} {
		t.Run(c.name, func(t *testing.T) {
			req, res := challenge()
			wantForbidden(t, u.exchange(retry(t, req, res, c.user, c.password)))
			refused++
		})
	}
	t.Run("forged nonce", func(t *testing.T) {
		req, res := challenge()
		again := retry(t, req, res, "agent", "agent-secret")
		h := again.GetHeader("Proxy-Authorization")
		cred, err := digest.ParseCredentials(h.Value())
		if err != nil {
			t.Fatal(err)
		}
		cred.Nonce = strings.Repeat("A", len(cred.Nonce))
		again.ReplaceHeader(sip.NewHeader("Proxy-Authorization", cred.String()))
		wantForbidden(t, u.exchange(again))
		refused++
	})
	t.Run("other realm", func(t *testing.T) {
		// Credentials for another realm are not ours: the request is
		// challenged as if it had none.
		req, res := challenge()
		again := retry(t, req, res, "agent", "agent-secret")
		cred, _ := digest.ParseCredentials(again.GetHeader("Proxy-Authorization").Value())
		cred.Realm = "elsewhere"
		again.ReplaceHeader(sip.NewHeader("Proxy-Authorization", cred.String()))
		wantChallenge(t, u.exchange(again), 407, false)
	})
	t.Run("replayed", func(t *testing.T) {
		req, res := challenge()
		first := retry(t, req, res, "agent", "agent-secret")
		if got := u.exchange(first); got.StatusCode != 200 {
			t.Fatalf("got %d, want 200", got.StatusCode)
		}
		// The same credentials on another request: a new transaction,
		// Call-ID and tag, the same R-URI.
		replay := u.request(sip.OPTIONS, r.to, "probe", sip.NewHeader("Proxy-Authorization", first.GetHeader("Proxy-Authorization").Value()))
		wantForbidden(t, u.exchange(replay))
		refused++
	})
	if got := r.s.metrics.unknownSource.Get() - before; got != uint64(refused) {
		t.Errorf("trunkline_sip_unknown_source_total grew by %d, want %d", got, refused)
	}
	t.Run("stale", func(t *testing.T) {
		req, res := challenge()
		r.clock.advance(digest.DefaultLifetime + time.Second)
		again := retry(t, req, res, "agent", "agent-secret")
		stale := u.exchange(again)
		wantChallenge(t, stale, 407, true)
		if got := u.exchange(retry(t, again, stale, "agent", "agent-secret")); got.StatusCode != 200 {
			t.Fatalf("after the stale challenge: got %d, want 200", got.StatusCode)
		}
	})
}

// TestAuthSourceAndCredentials: a trunk with sourceHosts and credentials
// needs both; its source's OPTIONS, ACK and CANCEL are never challenged.
func TestAuthSourceAndCredentials(t *testing.T) {
	r := newAuthRig(t)
	u := newTestUA(t, "locked", "127.0.0.4")
	req := u.request(sip.INVITE, r.to, noRoute)
	res := u.exchange(req)
	wantChallenge(t, res, 407, false)
	if got := u.exchange(retry(t, req, res, "locked", "locked-secret")); got.StatusCode != 404 {
		t.Fatalf("authenticated INVITE: got %d %s, want 404 (classified, no route)", got.StatusCode, got.Reason)
	}
	// Another trunk's credentials from this source: refused.
	req = u.request(sip.INVITE, r.to, noRoute)
	res = u.exchange(req)
	wantChallenge(t, res, 407, false)
	wantForbidden(t, u.exchange(retry(t, req, res, "agent", "wrong")))

	if got := u.exchange(u.request(sip.OPTIONS, r.to, "probe")); got.StatusCode != 200 {
		t.Errorf("OPTIONS from the trunk's source: got %d, want 200 unchallenged", got.StatusCode)
	}
	if got := u.exchange(u.request(sip.CANCEL, r.to, noRoute)); got.StatusCode != 481 {
		t.Errorf("CANCEL from the trunk's source: got %d, want 481 unchallenged", got.StatusCode)
	}
	// From an unknown address (agent and office keep credentials open),
	// CANCEL is not challenged either: it is unknown.
	stranger := newTestUA(t, "stranger", "127.0.0.3")
	wantForbidden(t, stranger.exchange(stranger.request(sip.CANCEL, r.to, noRoute)))
}

// TestAuthClosedCredentials: with no credential trunk open to every
// address, an unknown source is refused as before, not challenged; the
// credential trunk's own source is challenged.
func TestAuthClosedCredentials(t *testing.T) {
	s := startServer(t, testConfig(t, func(c *config.Config) {
		c.SIPTrunks = append(c.SIPTrunks, config.SIPTrunk{
			ID: "locked", Type: config.TrunkAuthenticated, SourceHosts: []string{"127.0.0.4"},
			InboundAuth: &config.Credentials{Username: "locked", Password: "pw"},
		})
	}))
	to := addr(t, s, "udp")
	stranger := newTestUA(t, "stranger", "127.0.0.3")
	wantForbidden(t, stranger.exchange(stranger.request(sip.INVITE, to, noRoute)))
	wantForbidden(t, stranger.exchange(stranger.request(sip.REGISTER, to, "stranger")))
	if got := s.metrics.unknownSource.Get(); got != 2 {
		t.Errorf("trunkline_sip_unknown_source_total = %d, want 2", got)
	}
	locked := newTestUA(t, "locked", "127.0.0.4")
	wantChallenge(t, locked.exchange(locked.request(sip.INVITE, to, noRoute)), 407, false)
	// Unparsed drop with sip.dropUnknown still spares the credential
	// trunk's source (sourceTable.unknownSource).
	if s.state.Load().sources.unknownSource(netip.MustParseAddr(locked.ip)) {
		t.Error("the credential trunk's source counts as unknown")
	}
}

// TestAccessCode: a trunk with an accessCode takes a new call only with
// X-Access-Code equal to it; its other requests need none. A trunk known
// by its code alone is identified by it from any address.
func TestAccessCode(t *testing.T) {
	r := newAuthRig(t)
	u := newTestUA(t, "coded", "127.0.0.5")
	code := func(v string) sip.Header { return sip.NewHeader(accessCodeHeader, v) }
	wantForbidden(t, u.exchange(u.request(sip.INVITE, r.to, noRoute)))
	wantForbidden(t, u.exchange(u.request(sip.INVITE, r.to, noRoute, code("code-six"))))
	wantForbidden(t, u.exchange(u.request(sip.INVITE, r.to, noRoute, code("code-fiv"))))
	if got := u.exchange(u.request(sip.INVITE, r.to, noRoute, code("code-five"))); got.StatusCode != 404 {
		t.Fatalf("right code: got %d %s, want 404 (classified, no route)", got.StatusCode, got.Reason)
	}
	if got := u.exchange(u.request(sip.OPTIONS, r.to, "probe")); got.StatusCode != 200 {
		t.Fatalf("OPTIONS without a code: got %d, want 200", got.StatusCode)
	}

	other := newTestUA(t, "elsewhere", "127.0.0.6")
	if got := other.exchange(other.request(sip.INVITE, r.to, noRoute, code("only-code"))); got.StatusCode != 404 {
		t.Fatalf("code-only trunk: got %d %s, want 404", got.StatusCode, got.Reason)
	}
	// A wrong code from an unknown address is no trunk's: here, with
	// credentials open, it is challenged.
	wantChallenge(t, other.exchange(other.request(sip.INVITE, r.to, noRoute, code("only-cod"))), 407, false)
}
