package sbc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
)

// Bounds of the socket tests: the longest wait for an answer that must come,
// and the wait that shows an answer is not coming.
const (
	answerWithin  = 3 * time.Second
	silenceWithin = 300 * time.Millisecond
)

// testYAML is the base configuration: SIP on free loopback ports, one STATIC
// trunk owning 127.0.0.1 (and only it: 127.0.0.2 is an unknown source).
const testYAML = `
node: {id: test}
sip:
  listen: ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]
  drainTimeout: 5s
sipTrunks:
  - id: pbx-a
    type: STATIC
    sourceHosts: ["127.0.0.1/32"]
    destinationHosts: ["127.0.0.1:5999", "pbx.example.com"]
  - id: carrier-a
    type: STATIC
    destinationHosts: ["192.0.2.10:5060"]
`

// testConfig parses testYAML, then applies edit (may be nil).
func testConfig(t testing.TB, edit func(*config.Config)) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// syncBuffer is a log sink safe for concurrent writes, shown when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer starts a server on cfg and shuts it down when the test ends,
// printing its log if the test failed.
func startServer(t *testing.T, cfg *config.Config) *Server {
	t.Helper()
	return startServerWith(t, cfg, nil)
}

// startServerWith is startServer with edit (may be nil) applied to the
// server before Start: the place to shorten its timings.
func startServerWith(t *testing.T, cfg *config.Config, edit func(*Server)) *Server {
	t.Helper()
	logs := &syncBuffer{}
	s, err := New(Options{Config: cfg}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(s)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return s
}

// addr returns the server's bound address on network "udp" or "tcp".
func addr(t *testing.T, s *Server, network string) net.Addr {
	t.Helper()
	for _, a := range s.Addrs() {
		if a.Network() == network {
			return a
		}
	}
	t.Fatalf("server has no %s listener: %v", network, s.Addrs())
	return nil
}

var seq atomic.Int64

// rawRequest is a request as a peer at local would send it over transport,
// before edits: each edit "Name" drops the header Name, "Name: value"
// replaces it (or adds it), and a line without ':' replaces the request line.
func rawRequest(method string, local net.Addr, transport string, edits ...string) string {
	n := seq.Add(1)
	lines := []string{
		method + " sip:test@127.0.0.1 SIP/2.0",
		fmt.Sprintf("Via: SIP/2.0/%s %s;branch=z9hG4bK-t%d;rport", transport, local, n),
		"Max-Forwards: 70",
		fmt.Sprintf("From: <sip:peer@%s>;tag=f%d", local, n),
		"To: <sip:test@127.0.0.1>",
		fmt.Sprintf("Call-ID: c%d@test", n),
		fmt.Sprintf("CSeq: 1 %s", method),
		"Content-Length: 0",
	}
	for _, e := range edits {
		name, _, hasValue := strings.Cut(e, ":")
		if !hasValue {
			if strings.Contains(e, " SIP/") {
				lines[0] = e
				continue
			}
			for i, l := range lines {
				if strings.HasPrefix(l, name+":") {
					lines = append(lines[:i], lines[i+1:]...)
					break
				}
			}
			continue
		}
		replaced := false
		for i, l := range lines {
			if strings.HasPrefix(l, name+":") {
				lines[i], replaced = e, true
				break
			}
		}
		if !replaced {
			lines = append(lines, e)
		}
	}
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

// udpPeer is a raw UDP socket on a loopback address (127.0.0.2 is a
// different source from 127.0.0.1 on Linux).
func udpPeer(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readResponse reads one datagram within d and parses it as a response. It
// returns nil when nothing arrives within d.
func readResponse(t *testing.T, c *net.UDPConn, d time.Duration) *sip.Response {
	t.Helper()
	buf := make([]byte, 65535)
	c.SetReadDeadline(time.Now().Add(d))
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		t.Fatal(err)
	}
	return parseResponse(t, buf[:n])
}

func parseResponse(t *testing.T, data []byte) *sip.Response {
	t.Helper()
	msg, err := sip.ParseMessage(data)
	if err != nil {
		t.Fatalf("unparsable answer %q: %v", data, err)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		t.Fatalf("answer is a %T, want a response: %q", msg, data)
	}
	return res
}

// udpExchange sends msg from c to the server and returns the final answer
// (provisional ones skipped); it fails the test when none comes.
func udpExchange(t *testing.T, c *net.UDPConn, to net.Addr, msg string) *sip.Response {
	t.Helper()
	if _, err := c.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	for {
		res := readResponse(t, c, answerWithin)
		if res == nil {
			t.Fatalf("no answer within %v to:\n%s", answerWithin, msg)
		}
		if !res.IsProvisional() {
			return res
		}
	}
}

// udpSilence sends msg from c and asserts that nothing answers it within
// silenceWithin (the read deadline is the event awaited).
func udpSilence(t *testing.T, c *net.UDPConn, to net.Addr, msg string) {
	t.Helper()
	if _, err := c.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	if res := readResponse(t, c, silenceWithin); res != nil {
		t.Fatalf("got %d %s, want no answer", res.StatusCode, res.Reason)
	}
}

// tcpPeer is a TCP connection to the server from a loopback address.
func tcpPeer(t *testing.T, ip string, to net.Addr) *net.TCPConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: answerWithin}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// tcpReadResponse reads one response (headers and Content-Length bytes of
// body) from r within answerWithin; io.EOF when the server closed.
func tcpReadResponse(t *testing.T, c net.Conn, r *bufio.Reader) (*sip.Response, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(answerWithin))
	var head bytes.Buffer
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		head.WriteString(line)
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	head.Write(body)
	return parseResponse(t, head.Bytes()), nil
}

// header returns the value of the named header of res, "" when absent.
func header(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
