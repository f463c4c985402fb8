package sbc

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// testUA is a SIP peer of the call tests: a real sipgo user agent serving
// UDP on its own loopback address (127.0.0.1 is the caller's trunk,
// 127.0.0.2 and 127.0.0.3 the callees'), with an RTP socket beside it. What
// it receives comes out on channels; the test answers.
type testUA struct {
	t    *testing.T
	name string
	ip   string
	ua   *sipgo.UserAgent
	cli  *sipgo.Client
	conn net.PacketConn
	port int
	rtp  *net.UDPConn

	invites chan *inInvite     // initial INVITEs; the handler waits for the test
	acks    chan *sip.Request  // ACKs of 2xx
	reqs    chan *sip.Request  // in-dialog requests (BYE, re-INVITE, UPDATE, INFO), answered already
	strays  chan *sip.Response // responses no transaction took (retransmitted 2xx)
	done    chan struct{}      // closed when the test ends
	wg      sync.WaitGroup     // the UA's own goroutines (response pumps)

	mu       sync.Mutex
	reinvite func(*sip.Request) *sip.Response // answer to re-INVITE and UPDATE; nil: 200 with ua's SDP
}

// newTestUA starts a test UA on ip, closed when the test ends.
func newTestUA(t *testing.T, name, ip string) *testUA {
	t.Helper()
	conn, ln := listenUDPAndTCP(t, ip)
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	u := &testUA{
		t: t, name: name, ip: ip, conn: conn, rtp: rtp,
		port:    conn.LocalAddr().(*net.UDPAddr).Port,
		invites: make(chan *inInvite, 8),
		acks:    make(chan *sip.Request, 16),
		reqs:    make(chan *sip.Request, 16),
		strays:  make(chan *sip.Response, 16),
		done:    make(chan struct{}),
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname(ip),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
			select {
			case u.strays <- r:
			default:
			}
		})))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnNoRoute(u.handle)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(ip), sipgo.WithClientConnectionAddr(conn.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	u.ua, u.cli = ua, cli
	var served sync.WaitGroup
	served.Go(func() { srv.ServeUDP(conn) })
	served.Go(func() { srv.ServeTCP(ln) })
	// Requests leave from the listener once sipgo has it in its pool, which
	// it does before it reads: an OPTIONS answered proves it (its record is
	// taken off reqs).
	ping := udpPeer(t, ip)
	if res := udpExchange(t, ping, conn.LocalAddr(), rawRequest("OPTIONS", ping.LocalAddr(), "UDP")); res.StatusCode != 200 {
		t.Fatalf("the test UA answered its first OPTIONS with %d", res.StatusCode)
	}
	select {
	case <-u.reqs:
	case <-time.After(answerWithin):
		t.Fatal("the test UA's OPTIONS was not recorded")
	}
	t.Cleanup(func() {
		close(u.done)
		// The transport layer first: a request still being handled then
		// finds it closed rather than opening a socket of its own that
		// would outlive it.
		ua.Close()
		conn.Close()
		ln.Close()
		rtp.Close()
		served.Wait()
		u.wg.Wait()
	})
	return u
}

// listenUDPAndTCP binds UDP and TCP on the same free port of ip (TCP for
// requests too big for UDP). The UDP port the system picks may be taken
// for TCP: then it tries another.
func listenUDPAndTCP(t *testing.T, ip string) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		conn, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", conn.LocalAddr().String())
		if err == nil {
			return conn, ln
		}
		conn.Close()
	}
	t.Fatalf("no port of %s free for both UDP and TCP", ip)
	return nil, nil
}

// addr is the UA's SIP address as host:port.
func (u *testUA) addr() string { return net.JoinHostPort(u.ip, strconv.Itoa(u.port)) }

// rtpPort is the port of the UA's RTP socket.
func (u *testUA) rtpPort() int { return u.rtp.LocalAddr().(*net.UDPAddr).Port }

// sdp is the UA's session description: its RTP socket, PCMU, an o= line
// naming the UA.
func (u *testUA) sdp(extra ...string) []byte {
	lines := []string{
		"v=0",
		fmt.Sprintf("o=%s-origin 4242 1 IN IP4 %s", u.name, u.ip),
		"s=-",
		"c=IN IP4 " + u.ip,
		"t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP 0 101", u.rtpPort()),
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
	}
	lines = append(lines, extra...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// local is the UA's own address as sipmsg.Local, for requests it builds.
func (u *testUA) local() sipmsg.Local {
	return sipmsg.Local{Transport: "UDP", Host: u.ip, Port: u.port}
}

// inInvite is an initial INVITE the UA received. Its handler goroutine
// waits until the test calls finish (or the test ends).
type inInvite struct {
	u         *testUA
	req       *sip.Request
	tx        sip.ServerTransaction
	tag       string
	cancelled chan struct{} // closed when a CANCEL arrived (sipgo answered 200 and 487)
	finished  chan struct{}
	once      sync.Once
	ok        *sip.Response // the 2xx sent, if any
}

func (u *testUA) handle(req *sip.Request, tx sip.ServerTransaction) {
	switch {
	case req.IsInvite() && !inDialog(req):
		in := &inInvite{u: u, req: req, tx: tx, tag: newTag(), cancelled: make(chan struct{}), finished: make(chan struct{})}
		var once sync.Once
		tx.OnCancel(func(*sip.Request) { once.Do(func() { close(in.cancelled) }) })
		select {
		case u.invites <- in:
		case <-u.done:
			return
		}
		select {
		case <-in.finished:
		case <-u.done:
		}
	case req.IsAck():
		select {
		case u.acks <- req:
		case <-u.done:
		}
	default:
		var res *sip.Response
		switch req.Method {
		case sip.INVITE, sip.UPDATE:
			u.mu.Lock()
			f := u.reinvite
			u.mu.Unlock()
			if f != nil {
				res = f(req)
			} else {
				res = sip.NewResponseFromRequest(req, 200, "OK", u.sdp())
				res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.name + "-contact", Host: u.ip, Port: u.port}})
			}
		default:
			res = sip.NewResponseFromRequest(req, 200, "OK", nil)
		}
		tx.Respond(res)
		select {
		case u.reqs <- req:
		case <-u.done:
		}
	}
}

// respond sends a response to the INVITE, with the UA's To tag and
// Contact, and extra headers.
func (in *inInvite) respond(code int, reason string, body []byte, extra ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(in.req, code, reason, body)
	for _, h := range extra {
		res.AppendHeader(h)
	}
	if code > 100 {
		res.To().Params.Add("tag", in.tag)
	}
	if code > 100 && code < 300 {
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: in.u.name + "-contact", Host: in.u.ip, Port: in.u.port}})
		res.AppendHeader(sip.NewHeader("Record-Route", "<sip:"+in.u.name+"-proxy@"+in.u.addr()+";lr>"))
	}
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if err := in.tx.Respond(res); err != nil {
		in.u.t.Errorf("%s: %d not sent: %v", in.u.name, code, err)
	}
	if code >= 200 && code < 300 {
		in.ok = res
	}
	return res
}

// answer sends 200 OK with the UA's SDP.
func (in *inInvite) answer() *sip.Response { return in.respond(200, "OK", in.u.sdp()) }

// finish lets the INVITE's handler return.
func (in *inInvite) finish() { in.once.Do(func() { close(in.finished) }) }

// dialog is the UA's side of the dialog the INVITE created (its UAS).
func (in *inInvite) dialog() *sipmsg.Dialog {
	from, to := in.req.From(), in.req.To()
	d := &sipmsg.Dialog{
		CallID:       callID(in.req),
		LocalURI:     to.Address,
		LocalTag:     in.tag,
		RemoteURI:    from.Address,
		RemoteTag:    sipmsg.Tag(from.Params),
		RemoteTarget: in.req.Contact().Address,
		RouteSet:     sipmsg.RouteSetUAS(in.req),
		CSeq:         100,
		Local:        in.u.local(),
	}
	return d
}

// nextInvite waits for the UA's next initial INVITE.
func (u *testUA) nextInvite() *inInvite {
	u.t.Helper()
	select {
	case in := <-u.invites:
		u.t.Cleanup(in.finish)
		return in
	case <-time.After(answerWithin):
		u.t.Fatalf("%s: no INVITE within %v", u.name, answerWithin)
		return nil
	}
}

// noInvite asserts that no INVITE reaches the UA within silenceWithin.
func (u *testUA) noInvite() {
	u.t.Helper()
	select {
	case in := <-u.invites:
		u.t.Fatalf("%s: unexpected INVITE:\n%s", u.name, in.req)
	case <-time.After(silenceWithin):
	}
}

// nextAck waits for the next ACK the UA receives.
func (u *testUA) nextAck() *sip.Request {
	u.t.Helper()
	select {
	case r := <-u.acks:
		return r
	case <-time.After(answerWithin):
		u.t.Fatalf("%s: no ACK within %v", u.name, answerWithin)
		return nil
	}
}

// nextRequest waits for the next in-dialog request the UA received.
func (u *testUA) nextRequest(method sip.RequestMethod) *sip.Request {
	u.t.Helper()
	select {
	case r := <-u.reqs:
		if r.Method != method {
			u.t.Fatalf("%s: got %s, want %s:\n%s", u.name, r.Method, method, r)
		}
		return r
	case <-time.After(answerWithin):
		u.t.Fatalf("%s: no %s within %v", u.name, method, answerWithin)
		return nil
	}
}

// outCall is an INVITE the UA sent, with its responses.
type outCall struct {
	u     *testUA
	req   *sip.Request
	tx    sip.ClientTransaction
	resps chan *sip.Response
	ok    *sip.Response
	d     *sipmsg.Dialog // after ack: the dialog, UAC side
}

// invite sends an INVITE from the UA to the server at to, for user
// called, with body as offer (nil: none).
func (u *testUA) invite(to net.Addr, called string, body []byte, headers ...sip.Header) *outCall {
	u.t.Helper()
	host, port, _ := sip.ParseAddr(to.String())
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: called, Host: host, Port: port})
	from := &sip.FromHeader{DisplayName: "Alice Caller", Address: sip.Uri{Scheme: "sip", User: "33123456789", Host: u.ip}, Params: sip.NewParams()}
	from.Params.Add("tag", newTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: called, Host: host}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.name + "-contact", Host: u.ip, Port: u.port}})
	req.AppendHeader(sip.NewHeader("Record-Route", "<sip:"+u.name+"-proxy@"+u.addr()+";lr>"))
	for _, h := range headers {
		req.AppendHeader(h)
	}
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	req.SetTransport("UDP")
	tx, err := u.cli.TransactionRequest(context.Background(), req)
	if err != nil {
		u.t.Fatal(err)
	}
	oc := &outCall{u: u, req: req, tx: tx, resps: make(chan *sip.Response, 32)}
	u.pump(tx, oc.resps)
	return oc
}

// pump copies a client transaction's responses to out until its final one.
func (u *testUA) pump(tx sip.ClientTransaction, out chan<- *sip.Response) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer tx.Terminate()
		for {
			select {
			case r := <-tx.Responses():
				select {
				case out <- r:
				case <-u.done:
					return
				}
				if !r.IsProvisional() {
					return
				}
			case <-tx.Done():
				return
			case <-u.done:
				return
			}
		}
	}()
}

// next waits for the call's next response.
func (oc *outCall) next() *sip.Response {
	oc.u.t.Helper()
	select {
	case r := <-oc.resps:
		return r
	case <-time.After(answerWithin):
		oc.u.t.Fatalf("%s: no response within %v", oc.u.name, answerWithin)
		return nil
	}
}

// final waits for the call's final response, skipping provisional ones.
func (oc *outCall) final() *sip.Response {
	oc.u.t.Helper()
	for {
		r := oc.next()
		if !r.IsProvisional() {
			return r
		}
	}
}

// until waits for a response with the given code, skipping other
// provisional ones (sipgo may reorder responses that arrive together).
func (oc *outCall) until(code int) *sip.Response {
	oc.u.t.Helper()
	for {
		r := oc.next()
		if r.StatusCode == code {
			return r
		}
		if !r.IsProvisional() {
			oc.u.t.Fatalf("%s: got %d %s, want %d", oc.u.name, r.StatusCode, r.Reason, code)
		}
	}
}

// ack acknowledges the call's 2xx and returns the dialog it established.
func (oc *outCall) ack(ok *sip.Response) *sipmsg.Dialog {
	oc.u.t.Helper()
	oc.ok = ok
	d := sipmsg.DialogFromResponse(ok, oc.u.local())
	// The route set leads through the caller's own (pretend) proxy, which
	// the test UA is not: it talks to the server directly.
	d.RouteSet = nil
	oc.d = &d
	oc.u.send(d.Ack(ok.CSeq().SeqNo, nil, ""))
	return oc.d
}

// cancel sends CANCEL for the call's INVITE and returns its response.
func (oc *outCall) cancel() *sip.Response {
	oc.u.t.Helper()
	return oc.u.do(sipmsg.Cancel(oc.req))
}

// send writes a request without a transaction (ACK).
func (u *testUA) send(req *sip.Request) {
	u.t.Helper()
	u.cli.WriteRequest(u.withLaddr(req), prebuilt)
}

func (u *testUA) withLaddr(req *sip.Request) *sip.Request {
	ap := u.conn.LocalAddr().(*net.UDPAddr)
	req.Laddr = sip.Addr{IP: ap.IP, Port: ap.Port, Hostname: ap.IP.String()}
	return req
}

// do sends a request and returns its final response.
func (u *testUA) do(req *sip.Request) *sip.Response {
	u.t.Helper()
	tx, err := u.cli.TransactionRequest(context.Background(), u.withLaddr(req), prebuilt)
	if err != nil {
		u.t.Fatal(err)
	}
	return u.final(tx, req.Method)
}

// final waits for the final response of a client transaction of the UA.
func (u *testUA) final(tx sip.ClientTransaction, method sip.RequestMethod) *sip.Response {
	u.t.Helper()
	resps := make(chan *sip.Response, 8)
	u.pump(tx, resps)
	deadline := time.After(answerWithin)
	for {
		select {
		case r := <-resps:
			if !r.IsProvisional() {
				return r
			}
		case <-deadline:
			u.t.Fatalf("%s: no answer to %s within %v", u.name, method, answerWithin)
			return nil
		}
	}
}

// sdpAddr returns the c= address and m=audio port of a session description.
func sdpAddr(t *testing.T, body []byte) netip.AddrPort {
	t.Helper()
	var ip netip.Addr
	port := 0
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip, _ = netip.ParseAddr(v)
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if !ip.IsValid() || port == 0 {
		t.Fatalf("no c= and m=audio in:\n%s", body)
	}
	return netip.AddrPortFrom(ip, uint16(port))
}

// rtpPacket is an RTP packet (PCMU) with sequence number seq.
func rtpPacket(seq uint16, payload string) []byte {
	b := make([]byte, 12+len(payload))
	b[0], b[1] = 0x80, 0
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(b[8:], 0x5eed)
	copy(b[12:], payload)
	return b
}

// sendRTP sends packets from the UA's RTP socket to to, until one of them
// arrives at the other UA's RTP socket (the relay may still be starting),
// and returns its payload.
func (u *testUA) sendRTP(to netip.AddrPort, dst *testUA, payload string) string {
	u.t.Helper()
	buf := make([]byte, 2048)
	for seq := uint16(1); seq <= 20; seq++ {
		if _, err := u.rtp.WriteToUDPAddrPort(rtpPacket(seq, payload), to); err != nil {
			u.t.Fatal(err)
		}
		dst.rtp.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := dst.rtp.ReadFromUDPAddrPort(buf)
		if err == nil && n > 12 {
			return string(buf[12:n])
		}
	}
	u.t.Fatalf("RTP from %s to %v never reached %s", u.name, to, dst.name)
	return ""
}
