package sbc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/internal/sipvectors"
)

// The SIP torture vectors (RFC 4475, RFC 5118) are the project's shared test
// data, beside the repository: <repo>/../shared/testdata/sip-torture. The
// sipmsg package holds them to the parser and ValidateRequest; here they go
// to a running server over real sockets (DESIGN §7: malformed SIP never
// crashes or wedges the process).
// tortureVector is one file of the manifest.
type tortureVector struct {
	file, validity, expected, policy, section string
	data                                      []byte
}

// loadTortureVectors reads the shared manifest and every file it names (see
// sipvectors.Load): their absence fails the test, it never skips.
func loadTortureVectors(t *testing.T) []tortureVector {
	t.Helper()
	vs, err := sipvectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tortureVector, len(vs))
	for i, v := range vs {
		out[i] = tortureVector{file: v.File, validity: v.Validity, expected: v.Expected,
			policy: v.Policy, section: v.Section, data: v.Data}
	}
	return out
}

// wireWant is what the server answers a torture message: a final response
// with code, or any final response but 400 (code answerAny), or nothing
// (code silent), or either (code anything: the manifest leaves it open).
// gap, when set, says where that falls short of the manifest and what
// server change closes it; the test asserts the behaviour as it is, so that
// the fix shows.
type wireWant struct {
	code int
	gap  string
}

const (
	answerAny = -1
	silent    = 0
	anything  = -2
)

// tortureWire is the server's answer to each vector sent as one UDP
// datagram from the trunk's address (an INVITE matches no route: 404; a
// REGISTER: 403, the trunk is STATIC, not REGISTERED; an unknown method:
// 501).
var tortureWire = map[string]wireWant{
	"wsinv.dat":                    {code: 400, gap: "want any answer but 400: sipgo parses the From tag of \"tag = 98asjd8\" as a parameter named \"tag \", so the RFC 2543 branch (no z9hG4bK) needs a From tag it cannot find and sipgo's transaction layer answers a stateless 400 before any handler"},
	"intmeth.dat":                  {code: 501},
	"esc01.dat":                    {code: answerAny},
	"escnull.dat":                  {code: answerAny},
	"esc02.dat":                    {code: 501},
	"lwsdisp.dat":                  {code: answerAny},
	"longreq.dat":                  {code: answerAny},
	"dblreq.dat":                   {code: 403},
	"semiuri.dat":                  {code: answerAny},
	"transports.dat":               {code: answerAny},
	"mpart01.dat":                  {code: answerAny},
	"unreason.dat":                 {code: silent},
	"noreason.dat":                 {code: silent},
	"badinv01.dat":                 {code: silent},
	"clerr.dat":                    {code: silent},
	"ncl.dat":                      {code: silent},
	"scalar02.dat":                 {code: silent, gap: "want 400: sipgo's parser refuses the 2**65 CSeq and sipgo drops what does not parse (server change: answer unparsable requests 400, see the report)"},
	"scalarlg.dat":                 {code: silent},
	"quotbal.dat":                  {code: silent},
	"ltgtruri.dat":                 {code: silent},
	"lwsruri.dat":                  {code: silent},
	"lwsstart.dat":                 {code: silent},
	"trws.dat":                     {code: silent},
	"escruri.dat":                  {code: 400},
	"baddate.dat":                  {code: anything},
	"regbadct.dat":                 {code: anything},
	"badaspec.dat":                 {code: silent},
	"baddn.dat":                    {code: silent},
	"badvers.dat":                  {code: 505},
	"mismatch01.dat":               {code: 400},
	"mismatch02.dat":               {code: 400},
	"bigcode.dat":                  {code: silent},
	"badbranch.dat":                {code: answerAny},
	"insuf.dat":                    {code: 400},
	"unkscm.dat":                   {code: 416},
	"novelsc.dat":                  {code: silent, gap: "want 416: sipgo's parser takes only sip, sips and tel URIs and sipgo drops what does not parse"},
	"unksm2.dat":                   {code: answerAny},
	"bext01.dat":                   {code: 420},
	"invut.dat":                    {code: 415},
	"regaut01.dat":                 {code: answerAny},
	"multi01.dat":                  {code: 400},
	"mcl01.dat":                    {code: 400},
	"bcast.dat":                    {code: silent},
	"zeromf.dat":                   {code: 200},
	"cparam01.dat":                 {code: answerAny},
	"cparam02.dat":                 {code: answerAny},
	"regescrt.dat":                 {code: answerAny},
	"sdp01.dat":                    {code: answerAny},
	"inv2543.dat":                  {code: 400, gap: "want any answer but 400: RFC 2543 requests carry no branch and no From tag, and sipgo's transaction layer keys such a request by its From tag, so it answers a stateless 400 before any handler (ValidateRequest itself accepts the request)"},
	"rfc5118/ipv6-good.dat":        {code: answerAny},
	"rfc5118/ipv6-bad.dat":         {code: silent, gap: "want 400: sipgo's parser refuses the unbracketed IPv6 Request-URI and sipgo drops what does not parse"},
	"rfc5118/port-ambiguous.dat":   {code: answerAny},
	"rfc5118/port-unambiguous.dat": {code: answerAny},
	"rfc5118/via-received-param-with-delim.dat": {code: 481},
	"rfc5118/via-received-param-no-delim.dat":   {code: answerAny},
	"rfc5118/ipv6-in-sdp.dat":                   {code: answerAny},
	"rfc5118/mult-ip-in-header.dat":             {code: 481},
	"rfc5118/mult-ip-in-sdp.dat":                {code: answerAny},
	"rfc5118/ipv4-mapped-ipv6.dat":              {code: answerAny},
	"rfc5118/ipv6-bug-abnf-3-colons.dat":        {code: answerAny},
	"rfc5118/ipv6-correct-abnf-2-colons.dat":    {code: answerAny},
}

// checkAgainstManifest holds a wire expectation without a gap to the
// manifest's policy for the vector.
func checkAgainstManifest(t *testing.T, v tortureVector, w wireWant) {
	t.Helper()
	if w.gap != "" {
		return
	}
	drop := strings.Contains(v.expected, "drop")
	ok := true
	switch v.policy {
	case "must-answer":
		ok = w.code == answerAny || (w.code > 0 && w.code != 400)
	case "must-reject":
		ok = w.code == 400 || (w.code > 0 && strings.Contains(v.expected, fmt.Sprint(w.code))) || (w.code == silent && drop)
	case "reject-or-lenient":
		// 400, an answer, or (what does not parse) nothing: all allowed.
	case "response":
		ok = w.code == silent
	default:
		ok = false
	}
	if !ok {
		t.Fatalf("tortureWire says %d, but the manifest (%s) says %q", w.code, v.policy, v.expected)
	}
}

// readFinal reads datagrams on c until a final response to the request
// with Call-ID callID ("": any), or nothing within d (nil). Provisional
// responses, and retransmitted answers to earlier requests, are skipped.
func readFinal(t *testing.T, c *net.UDPConn, callID string, d time.Duration) *sip.Response {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		res := readResponse(t, c, left)
		if res == nil {
			return nil
		}
		if res.IsProvisional() || (callID != "" && res.CallID() != nil && res.CallID().Value() != callID) {
			continue
		}
		return res
	}
}

// replyPeer returns the socket to send a torture message from: the port
// the server answers a UDP request on is its top Via's (5060 without one;
// RFC 3261 §18.2.2), unless the Via asks for rport, so the message leaves
// from that port on the trunk's address, and all its answers come back to
// the socket. It also returns the message's Call-ID ("" when it does not
// parse: nothing can answer it).
func replyPeer(t *testing.T, data []byte) (*net.UDPConn, string) {
	t.Helper()
	msg, err := sip.NewParser().ParseSIP(data)
	req, ok := msg.(*sip.Request)
	if err != nil || !ok || req.Via() == nil {
		return udpPeer(t, "127.0.0.1"), ""
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	via := req.Via()
	if rport, ok := via.Params.Get("rport"); ok && rport == "" {
		return udpPeer(t, "127.0.0.1"), callID
	}
	port := via.Port
	if port <= 0 {
		port = 5060
	}
	// The previous vector's socket on this port was closed by its subtest's
	// cleanup (subtests run one at a time), so the port is free unless
	// another process holds it.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatalf("the server answers this message on 127.0.0.1:%d (its Via), and that port cannot be bound: %v", port, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, callID
}

// stillAnswers asserts that the server answers a plain OPTIONS from its
// trunk at once, over UDP and over TCP: it neither crashed nor wedged.
func stillAnswers(t *testing.T, s *Server) {
	t.Helper()
	c := udpPeer(t, "127.0.0.1")
	if res := udpExchange(t, c, addr(t, s, "udp"), rawRequest("OPTIONS", c.LocalAddr(), "UDP")); res.StatusCode != 200 {
		t.Fatalf("OPTIONS over UDP after the message: %d %s, want 200", res.StatusCode, res.Reason)
	}
	tc := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
	defer tc.Close()
	if _, err := tc.Write([]byte(rawRequest("OPTIONS", tc.LocalAddr(), "TCP"))); err != nil {
		t.Fatal(err)
	}
	res, err := tcpReadResponse(t, tc, bufio.NewReader(tc))
	if err != nil {
		t.Fatalf("OPTIONS over TCP after the message: %v", err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("OPTIONS over TCP after the message: %d %s, want 200", res.StatusCode, res.Reason)
	}
}

// TestTortureUDP sends every torture message as one datagram from the
// trunk's address and checks the answer against tortureWire (itself held to
// the manifest); after each, the server still answers OPTIONS.
//
// Each vector gets a server of its own: several share a branch, sent-by and
// method, so one server would rightly take them for retransmissions.
func TestTortureUDP(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range loadTortureVectors(t) {
		seen[v.file] = true
		t.Run(v.file, func(t *testing.T) {
			want, ok := tortureWire[v.file]
			if !ok {
				t.Fatalf("%s (%s, %s) has no expectation in tortureWire", v.file, v.section, v.policy)
			}
			checkAgainstManifest(t, v, want)
			s := startServer(t, testConfig(t, nil))
			to := addr(t, s, "udp")
			c, callID := replyPeer(t, v.data)
			if _, err := c.WriteTo(v.data, to); err != nil {
				t.Fatal(err)
			}
			wait := answerWithin
			if want.code == silent || want.code == anything {
				wait = silenceWithin
			}
			res := readFinal(t, c, callID, wait)
			got := silent
			if res != nil {
				got = res.StatusCode
			}
			t.Logf("%s %s: manifest %q; got %d", v.section, v.policy, v.expected, got)
			if want.gap != "" {
				t.Logf("known gap: %s", want.gap)
			}
			switch {
			case want.code == anything:
			case want.code == answerAny:
				if res == nil || res.StatusCode == 400 {
					t.Fatalf("got %d, want a final response other than 400", got)
				}
			case got != want.code:
				t.Fatalf("got %d, want %d", got, want.code)
			}
			if res != nil && res.StatusCode >= 200 && res.StatusCode < 300 && v.policy == "must-reject" && want.gap == "" {
				t.Fatalf("a %d to a message to reject", res.StatusCode)
			}
			stillAnswers(t, s)
		})
	}
	for file := range tortureWire {
		if !seen[file] {
			t.Errorf("tortureWire has %s, which the manifest does not list", file)
		}
	}
}

// tcpOutcome sends data on a new TCP connection from the trunk's address
// and returns the first response within d (nil if none) and whether the
// server closed the connection within d.
func tcpOutcome(t *testing.T, s *Server, data []byte, d time.Duration) (*sip.Response, bool) {
	t.Helper()
	c := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		return nil, true // the server closed already
	}
	return tcpAwait(t, c, bufio.NewReader(c), d)
}

// tcpAwait reads one response from c within d, and then whether the server
// closes c within d.
func tcpAwait(t *testing.T, c *net.TCPConn, r *bufio.Reader, d time.Duration) (*sip.Response, bool) {
	t.Helper()
	closedErr := func(err error) bool {
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	c.SetReadDeadline(time.Now().Add(d))
	if _, err := r.Peek(1); err != nil {
		return nil, closedErr(err)
	}
	res, err := tcpReadResponse(t, c, r)
	if err != nil {
		return nil, closedErr(err)
	}
	for res.IsProvisional() {
		if res, err = tcpReadResponse(t, c, r); err != nil {
			return nil, closedErr(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(d))
	_, err = r.Peek(1)
	return res, closedErr(err)
}

// TestTortureTCP sends the messages whose framing matters on a stream over
// TCP: a negative Content-Length and two Content-Lengths (the connection
// closes, as the manifest asks), a Content-Length beyond the message (the
// server waits for the rest, and answers nothing).
func TestTortureTCP(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	vectors := map[string]tortureVector{}
	for _, v := range loadTortureVectors(t) {
		vectors[v.file] = v
	}
	cases := []struct {
		file   string
		code   int  // silent: no response
		or400  bool // a 400 before the close is as good (the manifest allows either)
		closes bool // the server closes the connection
		gap    string
		wait   time.Duration // bound on the answer, and on the close
	}{
		{file: "ncl.dat", code: silent, closes: true, wait: answerWithin},
		// sipgo's stream parser refuses the second Content-Length: the
		// framing is lost, so the connection closes, as the manifest asks —
		// after a 400 when the request reached validation first.
		{file: "mcl01.dat", code: silent, or400: true, closes: true, wait: answerWithin},
		// The body never comes: the server waits for it, and says nothing.
		{file: "clerr.dat", code: silent, closes: false, wait: silenceWithin},
		// A well-framed vector answers over TCP as over UDP (no route: 404).
		{file: "esc01.dat", code: 404, closes: false, wait: silenceWithin},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			v, ok := vectors[c.file]
			if !ok {
				t.Fatalf("the manifest has no %s", c.file)
			}
			d := answerWithin
			if c.code == silent {
				d = c.wait
			}
			c0 := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
			defer c0.Close()
			if _, err := c0.Write(v.data); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c0)
			c0.SetReadDeadline(time.Now().Add(d))
			res, closed := tcpAwait(t, c0, r, min(d, c.wait))
			got := silent
			if res != nil {
				got = res.StatusCode
			}
			t.Logf("%s over TCP: manifest %q; got %d, closed %v", v.file, v.expected, got, closed)
			if c.gap != "" {
				t.Logf("known gap: %s", c.gap)
			}
			if (got != c.code && !(c.or400 && got == 400)) || closed != c.closes {
				t.Fatalf("got %d (closed %v), want %d (closed %v)", got, closed, c.code, c.closes)
			}
			stillAnswers(t, s)
		})
	}
}

// TestMalformedPackets: truncated and oversized packets on both transports
// never crash or wedge the server, and a stream that announces or sends
// more than a message may hold is closed.
func TestMalformedPackets(t *testing.T) {
	s := startServer(t, testConfig(t, nil))
	udpTo := addr(t, s, "udp")

	t.Run("UDP cut mid-header", func(t *testing.T) {
		c := udpPeer(t, "127.0.0.1")
		msg := rawRequest("OPTIONS", c.LocalAddr(), "UDP")
		cut := msg[:strings.Index(msg, "Call-ID:")+4]
		if _, err := c.WriteTo([]byte(cut), udpTo); err != nil {
			t.Fatal(err)
		}
		if res := readFinal(t, c, "", silenceWithin); res != nil {
			t.Fatalf("got %d to a truncated datagram, want nothing", res.StatusCode)
		}
		stillAnswers(t, s)
	})
	t.Run("UDP cut mid-start-line", func(t *testing.T) {
		c := udpPeer(t, "127.0.0.1")
		if _, err := c.WriteTo([]byte("OPTIONS sip:te"), udpTo); err != nil {
			t.Fatal(err)
		}
		if res := readFinal(t, c, "", silenceWithin); res != nil {
			t.Fatalf("got %d to a truncated datagram, want nothing", res.StatusCode)
		}
		stillAnswers(t, s)
	})
	t.Run("UDP 64 KiB datagram", func(t *testing.T) {
		const maxUDP = 65507 // the largest IPv4 UDP payload
		c := udpPeer(t, "127.0.0.1")
		msg := rawRequest("OPTIONS", c.LocalAddr(), "UDP")
		head, _ := strings.CutSuffix(msg, "\r\n\r\n")
		pad := maxUDP - len(head) - len("\r\nX-Pad: \r\n\r\n")
		big := head + "\r\nX-Pad: " + strings.Repeat("a", pad) + "\r\n\r\n"
		if len(big) != maxUDP {
			t.Fatalf("built %d bytes", len(big))
		}
		if _, err := c.WriteTo([]byte(big), udpTo); err != nil {
			t.Fatal(err)
		}
		// Answered (the response is small) or dropped: either is fine.
		if res := readFinal(t, c, "", silenceWithin); res != nil && res.StatusCode != 200 && res.StatusCode != 400 && res.StatusCode != 513 {
			t.Fatalf("got %d to a 64 KiB OPTIONS", res.StatusCode)
		}
		stillAnswers(t, s)
	})
	t.Run("UDP garbage", func(t *testing.T) {
		c := udpPeer(t, "127.0.0.1")
		for _, g := range [][]byte{{0}, []byte("\r\n\r\n\r\n"), []byte("SIP/2.0 \r\n\r\n"), []byte(" \r\n:\r\n\r\n"), make([]byte, 1500)} {
			if _, err := c.WriteTo(g, udpTo); err != nil {
				t.Fatal(err)
			}
		}
		if res := readFinal(t, c, "", silenceWithin); res != nil {
			t.Fatalf("got %d to garbage, want nothing", res.StatusCode)
		}
		stillAnswers(t, s)
	})
	t.Run("TCP cut mid-header, then closed", func(t *testing.T) {
		c := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
		msg := rawRequest("OPTIONS", c.LocalAddr(), "TCP")
		if _, err := c.Write([]byte(msg[:strings.Index(msg, "Call-ID:")+4])); err != nil {
			t.Fatal(err)
		}
		res, _ := tcpAwait(t, c, bufio.NewReader(c), silenceWithin)
		if res != nil {
			t.Fatalf("got %d to half a message, want nothing", res.StatusCode)
		}
		c.Close()
		stillAnswers(t, s)
	})
	t.Run("TCP Content-Length 10^9", func(t *testing.T) {
		c := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
		msg := rawRequest("MESSAGE", c.LocalAddr(), "TCP", "Content-Type: text/plain", "Content-Length: 1000000000")
		if _, err := c.Write([]byte(msg + strings.Repeat("x", 4096))); err != nil {
			t.Fatal(err)
		}
		res, closed := tcpAwait(t, c, bufio.NewReader(c), answerWithin)
		if res != nil {
			t.Fatalf("got %d, want the connection closed", res.StatusCode)
		}
		if !closed {
			t.Fatal("the connection announcing a 1 GB body is still open")
		}
		stillAnswers(t, s)
	})
	t.Run("TCP header section past 64 KiB", func(t *testing.T) {
		c := tcpPeer(t, "127.0.0.1", addr(t, s, "tcp"))
		msg := rawRequest("OPTIONS", c.LocalAddr(), "TCP")
		head, _ := strings.CutSuffix(msg, "\r\n\r\n")
		// Headers that never end: the server must stop reading and close.
		go func() {
			c.Write([]byte(head + "\r\n"))
			line := []byte("X-Pad: " + strings.Repeat("a", 1000) + "\r\n")
			for range 200 {
				if _, err := c.Write(line); err != nil {
					return
				}
			}
		}()
		r := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(answerWithin))
		_, err := io.Copy(io.Discard, r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the connection sending 200 KB of headers is still open")
		}
		stillAnswers(t, s)
	})
}
