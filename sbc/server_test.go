package sbc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// sipgoOptions sends an OPTIONS with a real sipgo client UA bound to
// localIP, over transport, and returns the final response.
func sipgoOptions(t *testing.T, localIP, transport string, to net.Addr) *sip.Response {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-peer"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(localIP), sipgo.WithClientConnectionAddr(localIP+":0"))
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := sip.ParseAddr(to.String())
	if err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{User: "test", Host: host, Port: port})
	req.SetTransport(transport)
	ctx, cancel := context.WithTimeout(context.Background(), answerWithin)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("OPTIONS over %s from %s: %v", transport, localIP, err)
	}
	return res
}

func TestOptionsSipgoClient(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	cases := []struct {
		transport, from string
		code            int
	}{
		{"UDP", "127.0.0.1", 200},
		{"UDP", "127.0.0.2", 403},
		{"TCP", "127.0.0.1", 200},
		{"TCP", "127.0.0.2", 403},
	}
	for _, c := range cases {
		t.Run(c.transport+"-"+c.from, func(t *testing.T) {
			res := sipgoOptions(t, c.from, c.transport, addr(t, s, strings.ToLower(c.transport)))
			if res.StatusCode != c.code {
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, c.code)
			}
			if c.code != 200 {
				return
			}
			for name, want := range map[string]string{"Allow": allowHeader, "Accept": "application/sdp"} {
				if got := header(res, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if res.GetHeader("Supported") == nil {
				t.Error("no Supported header")
			}
		})
	}
}

// TestUnknownSourceLearnsNothing: the 403 to an unknown source carries no
// header beyond those RFC 3261 requires of any response.
func TestUnknownSourceLearnsNothing(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	peer := udpPeer(t, "127.0.0.2")
	res := udpExchange(t, peer, addr(t, s, "udp"), rawRequest("INVITE", peer.LocalAddr(), "UDP"))
	if res.StatusCode != 403 || res.Reason != "Forbidden" {
		t.Fatalf("got %d %s, want 403 Forbidden", res.StatusCode, res.Reason)
	}
	for _, h := range res.Headers() {
		switch strings.ToLower(h.Name()) {
		case "via", "from", "to", "call-id", "cseq", "content-length":
		default:
			t.Errorf("403 to an unknown source carries %s: %s", h.Name(), h.Value())
		}
	}
	if got := s.metrics.unknownSource.Get(); got != 1 {
		t.Errorf("trunkline_sip_unknown_source_total = %d, want 1", got)
	}
}

func TestDropUnknownUDP(t *testing.T) {
	s := startServer(t, testConfig(t, func(c *config.Config) { c.SIP.DropUnknown = true }))
	to := addr(t, s, "udp")
	stranger := udpPeer(t, "127.0.0.2")
	udpSilence(t, stranger, to, rawRequest("OPTIONS", stranger.LocalAddr(), "UDP"))
	// Unparsable bytes from an unknown source earn nothing either.
	udpSilence(t, stranger, to, "OPTIONS sip:x SIP/2.0\r\nCSeq: nonsense\r\n\r\n")
	if got := s.metrics.unknownSource.Get(); got != 2 {
		t.Errorf("trunkline_sip_unknown_source_total = %d, want 2", got)
	}
	// The silence was the drop, not a dead server: a known peer is answered.
	known := udpPeer(t, "127.0.0.1")
	if res := udpExchange(t, known, to, rawRequest("OPTIONS", known.LocalAddr(), "UDP")); res.StatusCode != 200 {
		t.Fatalf("known peer got %d %s, want 200", res.StatusCode, res.Reason)
	}
}

func TestDropUnknownTCP(t *testing.T) {
	s := startServer(t, testConfig(t, func(c *config.Config) { c.SIP.DropUnknown = true }))
	to := addr(t, s, "tcp")
	c := tcpPeer(t, "127.0.0.2", to)
	// The server closes the connection on accept: the write may even pass,
	// but the read ends with EOF (or a reset), never a response.
	c.Write([]byte(rawRequest("OPTIONS", c.LocalAddr(), "TCP")))
	res, err := tcpReadResponse(t, c, bufio.NewReader(c))
	if err == nil {
		t.Fatalf("got %d %s, want the connection closed", res.StatusCode, res.Reason)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection left open: %v", err)
	}
	known := tcpPeer(t, "127.0.0.1", to)
	known.Write([]byte(rawRequest("OPTIONS", known.LocalAddr(), "TCP")))
	res, err = tcpReadResponse(t, known, bufio.NewReader(known))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("known peer: %v %v, want 200", res, err)
	}
}

// TestRequests drives each method and each validation failure over UDP from
// the known source.
func TestRequests(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	to := addr(t, s, "udp")
	peer := udpPeer(t, "127.0.0.1")
	local := peer.LocalAddr()
	// A missing Max-Forwards is refused or tolerated as sipmsg's validation
	// decides (RFC 4475 work may relax it); tolerated, the INVITE finds no
	// route.
	noMFCode, noMFReason := 404, "Not Found"
	if msg, err := sip.ParseMessage([]byte(rawRequest("INVITE", local, "UDP", "Max-Forwards"))); err != nil {
		t.Fatal(err)
	} else if err := sipmsg.ValidateRequest(msg.(*sip.Request)); err != nil {
		noMFCode, noMFReason, _ = statusOf(err)
	}
	cases := []struct {
		name   string
		msg    string
		code   int    // 0: no answer
		reason string // "" = any
		allow  bool
	}{
		{"OPTIONS", rawRequest("OPTIONS", local, "UDP"), 200, "OK", true},
		{"OPTIONS Max-Forwards 0", rawRequest("OPTIONS", local, "UDP", "Max-Forwards: 0"), 200, "OK", true},
		{"INVITE without a route", rawRequest("INVITE", local, "UDP"), 404, "Not Found", false},
		{"re-INVITE", rawRequest("INVITE", local, "UDP", "To: <sip:test@127.0.0.1>;tag=x1"), 481, "", false},
		{"BYE", rawRequest("BYE", local, "UDP", "To: <sip:test@127.0.0.1>;tag=x2"), 481, "Call/Transaction Does Not Exist", false},
		{"CANCEL", rawRequest("CANCEL", local, "UDP"), 481, "", false},
		{"UPDATE", rawRequest("UPDATE", local, "UDP"), 481, "", false},
		{"INFO", rawRequest("INFO", local, "UDP"), 481, "", false},
		{"REGISTER from a STATIC trunk", rawRequest("REGISTER", local, "UDP"), 403, "Forbidden", false},
		{"MESSAGE", rawRequest("MESSAGE", local, "UDP"), 405, "Method Not Allowed", true},
		{"unknown method", rawRequest("FROBNICATE", local, "UDP", "FROBNICATE sip:test@127.0.0.1 SIP/2.0"), 501, "Not Implemented", true},
		{"ACK", rawRequest("ACK", local, "UDP", "To: <sip:test@127.0.0.1>;tag=x3"), 0, "", false},
		{"no Call-ID", rawRequest("OPTIONS", local, "UDP", "Call-ID"), 400, "Missing Call-ID", false},
		{"no From", rawRequest("INVITE", local, "UDP", "From"), 400, "Missing From", false},
		{"no Max-Forwards", rawRequest("INVITE", local, "UDP", "Max-Forwards"), noMFCode, noMFReason, false},
		{"PRACK", rawRequest("PRACK", local, "UDP", "To: <sip:test@127.0.0.1>;tag=x4"), 481, "Call/Transaction Does Not Exist", false},
		{"CSeq mismatch", rawRequest("INVITE", local, "UDP", "CSeq: 1 BYE"), 400, "CSeq method does not match the request", false},
		{"INVITE Max-Forwards 0", rawRequest("INVITE", local, "UDP", "Max-Forwards: 0"), 483, "Too Many Hops", false},
		{"SIP/3.0", rawRequest("OPTIONS", local, "UDP", "OPTIONS sip:test@127.0.0.1 SIP/3.0"), 505, "", false},
		{"no CSeq (sipgo's own 400)", rawRequest("OPTIONS", local, "UDP", "CSeq"), 400, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.code == 0 {
				udpSilence(t, peer, to, c.msg)
				return
			}
			res := udpExchange(t, peer, to, c.msg)
			if res.StatusCode != c.code || (c.reason != "" && res.Reason != c.reason) {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, res.Reason, c.code, c.reason)
			}
			if got := header(res, "Allow"); (got != "") != c.allow {
				t.Errorf("Allow = %q, want present: %v", got, c.allow)
			}
			if to := res.To(); to == nil || !to.Params.Has("tag") {
				t.Errorf("final response without a To tag: %v", to)
			}
		})
	}
}

// TestAllowedMethodsAreHandled keeps allowHeader true: no method it lists is
// refused as unsupported.
func TestAllowedMethodsAreHandled(t *testing.T) {
	s := &Server{}
	for _, m := range strings.Split(allowHeader, ", ") {
		peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5062}
		msg, err := sip.ParseMessage([]byte(rawRequest(m, peer, "UDP")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.answer(msg.(*sip.Request))
		if errors.Is(err, errMethodNotAllowed) || errors.Is(err, errUnknownMethod) {
			t.Errorf("Allow lists %s, but it is refused with %v", m, err)
		}
	}
}

func TestMalformedOverTCP(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	c := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
	r := bufio.NewReader(c)
	for _, want := range []struct {
		msg  string
		code int
	}{
		{rawRequest("OPTIONS", c.LocalAddr(), "TCP", "Call-ID"), 400},
		{rawRequest("OPTIONS", c.LocalAddr(), "TCP"), 200}, // the connection survives
	} {
		if _, err := c.Write([]byte(want.msg)); err != nil {
			t.Fatal(err)
		}
		res, err := tcpReadResponse(t, c, r)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want.code {
			t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, want.code)
		}
	}
}

func TestSetConfig(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	to := addr(t, s, "udp")
	peer := udpPeer(t, "127.0.0.2")
	if res := udpExchange(t, peer, to, rawRequest("OPTIONS", peer.LocalAddr(), "UDP")); res.StatusCode != 403 {
		t.Fatalf("before: got %d, want 403", res.StatusCode)
	}
	next := testConfig(t, func(c *config.Config) {
		c.SIPTrunks = []config.SIPTrunk{{ID: "pbx-b", Type: config.TrunkStatic, SourceHosts: []string{"127.0.0.2"}}}
	})
	if err := s.SetConfig(next); err != nil {
		t.Fatal(err)
	}
	if s.Config() != next {
		t.Fatal("Config() is not the configuration set")
	}
	if res := udpExchange(t, peer, to, rawRequest("OPTIONS", peer.LocalAddr(), "UDP")); res.StatusCode != 200 {
		t.Fatalf("after: got %d, want 200", res.StatusCode)
	}
	var out bytes.Buffer
	s.Metrics().WritePrometheus(&out)
	if !strings.Contains(out.String(), `trunkline_trunk_up{trunk="pbx-b"} 1`) || strings.Contains(out.String(), `trunk="pbx-a"`) {
		t.Fatalf("trunk_up series not following the config:\n%s", out.String())
	}
	// A configuration that does not compile is refused; the old one stays.
	bad := testConfig(t, func(c *config.Config) { c.SIPTrunks[0].SourceHosts = []string{"not-an-ip"} })
	if err := s.SetConfig(bad); err == nil {
		t.Fatal("SetConfig accepted an invalid source host")
	}
	if s.Config() != next {
		t.Fatal("a refused configuration replaced the running one")
	}
}

func TestMetrics(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	to := addr(t, s, "udp")
	known, stranger := udpPeer(t, "127.0.0.1"), udpPeer(t, "127.0.0.2")
	udpExchange(t, known, to, rawRequest("OPTIONS", known.LocalAddr(), "UDP"))
	udpExchange(t, stranger, to, rawRequest("OPTIONS", stranger.LocalAddr(), "UDP"))
	udpExchange(t, known, to, rawRequest("FROBNICATE", known.LocalAddr(), "UDP", "FROBNICATE sip:test@127.0.0.1 SIP/2.0"))
	var out bytes.Buffer
	s.Metrics().WritePrometheus(&out)
	for _, want := range []string{
		`trunkline_sip_requests_total{method="OPTIONS"} 2`,
		`trunkline_sip_requests_total{method="OTHER"} 1`,
		`trunkline_sip_requests_total{method="INVITE"} 0`,
		`trunkline_sip_unknown_source_total 1`,
		`trunkline_calls_active 0`,
		`trunkline_trunk_up{trunk="pbx-a"} 1`,
		`trunkline_trunk_up{trunk="carrier-a"} 1`,
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, out.String())
		}
	}
}

func TestTrunkStatus(t *testing.T) {
	cfg := testConfig(t, func(c *config.Config) {
		c.SIPTrunks = append(c.SIPTrunks, config.SIPTrunk{ID: "reg", Type: config.TrunkRegistered})
	})
	s, err := New(Options{Config: cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	st, ok := s.TrunkStatus("pbx-a")
	if !ok || st.Options != StatusUnknown || st.Registration != RegistrationNA || st.ActiveCalls != 0 ||
		len(st.Hosts) != 2 || st.Hosts[1] != (HostStatus{Host: "pbx.example.com", Status: StatusUnknown}) {
		t.Fatalf("TrunkStatus(pbx-a) = %+v, %v", st, ok)
	}
	if st, _ := s.TrunkStatus("reg"); st.Registration != RegistrationUnregistered {
		t.Fatalf("REGISTERED trunk registration = %q, want UNREGISTERED", st.Registration)
	}
	if _, ok := s.TrunkStatus("nope"); ok {
		t.Fatal("TrunkStatus of an unknown trunk reported ok")
	}
}

// TestDrain: once the drain begins, Ready is false, new INVITEs and OPTIONS
// get 503 and in-dialog requests are still answered; Shutdown waits for the
// live call until its context ends.
func TestDrain(t *testing.T) {
	s := startServerWith(t, testConfig(t, nil), func(s *Server) { s.hangupWait = silenceWithin })
	if !s.Ready() {
		t.Fatal("not Ready after Start")
	}
	to := addr(t, s, "udp")
	peer := udpPeer(t, "127.0.0.1")
	if !s.calls.start() {
		t.Fatal("calls.start refused before draining")
	}
	s.beginDrain() // what Shutdown does first
	if s.Ready() {
		t.Error("Ready while draining")
	}
	if s.calls.start() {
		t.Error("a call started while draining")
	}
	for _, c := range []struct {
		method string
		code   int
	}{{"INVITE", 503}, {"OPTIONS", 503}, {"BYE", 481}} {
		res := udpExchange(t, peer, to, rawRequest(c.method, peer.LocalAddr(), "UDP"))
		if res.StatusCode != c.code {
			t.Errorf("%s while draining: got %d, want %d", c.method, res.StatusCode, c.code)
		}
	}
	// The live call outlasts Shutdown's context: Shutdown reports it, and
	// closes the listeners all the same.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled (a call was live)", err)
	}
	if len(s.Addrs()) != 0 {
		t.Fatalf("listeners left open: %v", s.Addrs())
	}
	s.calls.end()
}

// TestCallTrackerWait: wait returns when the last live call ends.
func TestCallTrackerWait(t *testing.T) {
	var tr callTracker
	tr.start()
	tr.start()
	tr.refuse()
	done := make(chan error, 1)
	go func() { done <- tr.wait(context.Background()) }()
	tr.end()
	tr.end()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tr.start() || tr.active() != 0 {
		t.Fatalf("after the drain: start accepted or %d live", tr.active())
	}
	if err := tr.wait(context.Background()); err != nil {
		t.Fatalf("wait with nothing live = %v", err)
	}
}

func TestStartBindError(t *testing.T) {
	first := startServer(t, testConfig(t, nil))
	taken := addr(t, first, "udp").String()
	cfg := testConfig(t, func(c *config.Config) {
		c.SIP.Listen = []string{"tcp://127.0.0.1:0", "udp://" + taken}
	})
	s, err := New(Options{Config: cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "udp://"+taken) {
		t.Fatalf("Start = %v, want a bind error naming udp://%s", err, taken)
	}
	if s.Ready() || len(s.Addrs()) != 0 {
		t.Fatalf("failed Start left Ready=%v Addrs=%v", s.Ready(), s.Addrs())
	}
	s.Shutdown(context.Background())
}

func TestNewRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"tls without certificate", func(c *config.Config) { c.SIP.Listen = []string{"tls://127.0.0.1:0"} }, "needs sip.tls.cert and sip.tls.key"},
		{"tls unreadable", func(c *config.Config) {
			c.SIP.Listen = []string{"tls://127.0.0.1:0"}
			c.SIP.TLS = config.TLSFiles{Cert: "/nonexistent/tls.crt", Key: "/nonexistent/tls.key"}
		}, "sip.tls: open /nonexistent/tls.crt"},
		{"no listener", func(c *config.Config) { c.SIP.Listen = nil }, "sip.listen is empty"},
		{"bad source", func(c *config.Config) { c.SIPTrunks[0].SourceHosts = []string{"x"} }, "sipTrunks[0].sourceHosts[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Options{Config: testConfig(t, c.edit)}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New = %v, want an error containing %q", err, c.want)
			}
		})
	}
	if _, err := New(Options{}, nil); err == nil {
		t.Fatal("New accepted no configuration")
	}
}

// TestShutdownLeavesNoGoroutines serves UDP and TCP traffic, shuts down, and
// checks that nothing the server started is still running.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s, err := New(Options{Config: testConfig(t, nil)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	peer := udpPeer(t, "127.0.0.1")
	udpExchange(t, peer, addr(t, s, "udp"), rawRequest("INVITE", peer.LocalAddr(), "UDP"))
	c := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
	c.Write([]byte(rawRequest("OPTIONS", c.LocalAddr(), "TCP")))
	if _, err := tcpReadResponse(t, c, bufio.NewReader(c)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Ready() {
		t.Fatal("Ready after Shutdown")
	}
	// The server closed its side of the TCP connection.
	c.SetReadDeadline(time.Now().Add(answerWithin))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("TCP read after Shutdown = %v, want EOF", err)
	}
	goleak.VerifyNone(t, before)
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("Start after Shutdown succeeded")
	}
}
