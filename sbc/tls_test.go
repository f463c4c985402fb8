package sbc

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/internal/dnstest"
	"github.com/trunkline/trunkline/media/srtp"
	"github.com/trunkline/trunkline/sbc/resolve"
)

// testCA is a certificate authority of the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial = struct {
	sync.Mutex
	n int64
}{n: 1}

func nextSerial() *big.Int {
	serial.Lock()
	defer serial.Unlock()
	serial.n++
	return big.NewInt(serial.n)
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a server certificate for names (DNS names or IPs), and its
// PEM certificate and key.
func (ca *testCA) issue(t *testing.T, names ...string) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsCallee is a SIP UAS over TLS only (sipgo, 127.0.0.2): it answers
// INVITE with 200 and SDP, and BYE with 200, and notes the SNI of each
// handshake.
type tlsCallee struct {
	port    int
	snis    chan string
	invites chan *sip.Request
	byes    chan *sip.Request
}

func newTLSCallee(t *testing.T, cert tls.Certificate) *tlsCallee {
	t.Helper()
	c := &tlsCallee{snis: make(chan string, 8), invites: make(chan *sip.Request, 8), byes: make(chan *sip.Request, 8)}
	ln, err := tls.Listen("tcp", "127.0.0.2:0", &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c.snis <- h.ServerName
			return &cert, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("carrier"), sipgo.WithUserAgentHostname("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		c.invites <- req
		profile, crypto := "RTP/AVP", ""
		if offered := cryptoLines(req.Body()); len(offered) > 0 {
			// An SRTP offer: answer with keys of our own.
			_, local, err := srtp.Negotiate(offered, srtp.AllSuites, nil)
			if err != nil {
				tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
				return
			}
			profile, crypto = "RTP/SAVP", "a=crypto:"+local.String()+"\r\n"
		}
		body := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\n%s",
			rtp.LocalAddr().(*net.UDPAddr).Port, profile, crypto)
		res := sip.NewResponseFromRequest(req, 200, "OK", body)
		res.To().Params.Add("tag", "tlscallee")
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		contact := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "carrier", Host: "127.0.0.2", Port: c.port, UriParams: sip.NewParams()}}
		contact.Address.UriParams.Add("transport", "tls")
		res.AppendHeader(contact)
		tx.Respond(res)
		select {
		case <-tx.Acks():
		case <-tx.Done():
		case <-time.After(answerWithin):
		}
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		c.byes <- req
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeTLS(ln)
	}()
	t.Cleanup(func() {
		ua.Close() // first: see newTestUA
		ln.Close()
		<-done
		rtp.Close()
	})
	return c
}

// tlsRig is a caller (UDP), the appliance, and a carrier reached over TLS
// by name (carrier.test, an A record of an in-process DNS server).
type tlsRig struct {
	s      *Server
	caller *testUA
	callee *tlsCallee
	to     net.Addr
}

func newTLSRig(t *testing.T, trustedCA []byte, trunk string) *tlsRig {
	t.Helper()
	ca := newTestCA(t, "carrier CA")
	cert, _, _ := ca.issue(t, "carrier.test")
	if trustedCA == nil {
		trustedCA = ca.pem
	}
	r := &tlsRig{caller: newTestUA(t, "alice", "127.0.0.1"), callee: newTLSCallee(t, cert)}
	zone := dnstest.Start(t, "carrier.test. 60 IN A 127.0.0.2")
	caFile := writeFile(t, t.TempDir(), "ca.pem", trustedCA)
	cfg, err := config.Parse("tls.yaml", fmt.Appendf(nil, `
node: {id: test}
sip:
  listen: ["udp://127.0.0.1:0"]
  tls: {ca: %q}
media: {rtpPorts: "26100-26199"}
sipTrunks:
  - {id: pbx, type: STATIC, sourceHosts: ["127.0.0.1/32"]}
  - {id: carrier, type: STATIC, %s, destinationHosts: ["carrier.test:%d"]}
routes:
  - id: main
    criteria: [{to: ".*"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: carrier}}]
`, caFile, trunk, r.callee.port))
	if err != nil {
		t.Fatal(err)
	}
	r.s = startServerWith(t, cfg, func(s *Server) {
		s.dns = resolve.New([]string{zone.Addr})
		s.rerouteDelay = 500 * time.Millisecond
	})
	r.to = addr(t, r.s, "udp")
	return r
}

// A trunk with transport TLS is reached over TLS 1.2+, with SNI and the
// certificate check on its host name; the whole call — INVITE, ACK, BYE —
// goes over that connection.
func TestCallOverTLS(t *testing.T) {
	r := newTLSRig(t, nil, "transport: TLS")
	oc := r.caller.invite(r.to, called, r.caller.sdp())
	var inv *sip.Request
	select {
	case inv = <-r.callee.invites:
	case <-time.After(answerWithin):
		t.Fatal("the TLS callee got no INVITE")
	}
	if sni := <-r.callee.snis; sni != "carrier.test" {
		t.Errorf("SNI %q, want carrier.test", sni)
	}
	if v := inv.Via(); v == nil || v.Transport != "TLS" {
		t.Errorf("INVITE Via %v, want transport TLS", inv.Via())
	}
	if inv.Recipient.Host != "carrier.test" || inv.Recipient.Port != r.callee.port {
		t.Errorf("R-URI %s, want carrier.test:%d", inv.Recipient.String(), r.callee.port)
	}
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", ok.StatusCode)
	}
	oc.ack(ok)
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	select {
	case <-r.callee.byes:
	case <-time.After(answerWithin):
		t.Fatal("the BYE did not reach the TLS callee")
	}
	select {
	case sni := <-r.callee.snis:
		t.Errorf("a second TLS handshake (SNI %q): the call's requests did not share the connection", sni)
	default:
	}
}

// A peer whose certificate the configured CA did not sign gets no INVITE:
// the handshake fails and the call fails over (here, to nothing).
func TestCallTLSUntrustedPeer(t *testing.T) {
	other := newTestCA(t, "some other CA")
	r := newTLSRig(t, other.pem, "transport: TLS")
	oc := r.caller.invite(r.to, called, r.caller.sdp())
	if res := oc.final(); res.StatusCode == 200 {
		t.Fatal("the call went through to an untrusted peer")
	}
	select {
	case <-r.callee.invites:
		t.Fatal("the untrusted peer got the INVITE")
	default:
	}
}

// A tls:// listener presents sip.tls.cert, serves SIP, and a configuration
// reload picks up a new certificate for new connections.
func TestTLSListenerAndReload(t *testing.T) {
	ca := newTestCA(t, "appliance CA")
	dir := t.TempDir()
	_, certPEM, keyPEM := ca.issue(t, "127.0.0.1")
	certFile, keyFile := writeFile(t, dir, "tls.crt", certPEM), writeFile(t, dir, "tls.key", keyPEM)
	cfg := testConfig(t, func(c *config.Config) {
		c.SIP.Listen = append(c.SIP.Listen, "tls://127.0.0.1:0")
		c.SIP.TLS = config.TLSFiles{Cert: certFile, Key: keyFile}
	})
	s := startServer(t, cfg)
	to := addr(t, s, "tls")
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	options := func() (serial string) {
		t.Helper()
		d := tls.Dialer{NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}},
			Config: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
		ctx, cancel := context.WithTimeout(context.Background(), answerWithin)
		defer cancel()
		conn, err := d.DialContext(ctx, "tcp", to.String())
		if err != nil {
			t.Fatalf("TLS handshake with the listener: %v", err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(answerWithin))
		if _, err := conn.Write([]byte(rawRequest("OPTIONS", conn.LocalAddr(), "TLS"))); err != nil {
			t.Fatal(err)
		}
		res, err := tcpReadResponse(t, conn, bufio.NewReader(conn))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			t.Errorf("OPTIONS over TLS: %d, want 200", res.StatusCode)
		}
		return conn.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	first := options()

	// New files at the same paths, then a reload (what SIGHUP does).
	_, certPEM, keyPEM = ca.issue(t, "127.0.0.1")
	writeFile(t, dir, "tls.crt", certPEM)
	writeFile(t, dir, "tls.key", keyPEM)
	if err := s.SetConfig(cfg.Clone()); err != nil {
		t.Fatal(err)
	}
	if second := options(); second == first {
		t.Errorf("still certificate %s after the reload", first)
	}

	// A reload with unreadable files keeps the certificate in force.
	writeFile(t, dir, "tls.key", []byte("garbage"))
	if err := s.SetConfig(cfg.Clone()); err != nil {
		t.Fatal(err)
	}
	options()
}

// A trunk with tls: true is reached over TLS with sips: URIs (Request-URI,
// To, Contact: TLS on every hop) and SRTP, which tls: true requires.
func TestCallOverTLSSecure(t *testing.T) {
	r := newTLSRig(t, nil, "tls: true")
	oc := r.caller.invite(r.to, called, r.caller.sdp())
	var inv *sip.Request
	select {
	case inv = <-r.callee.invites:
	case <-time.After(answerWithin):
		t.Fatal("the TLS callee got no INVITE")
	}
	if inv.Recipient.Scheme != "sips" || inv.To().Address.Scheme != "sips" {
		t.Errorf("R-URI %s, To %s: want sips:", inv.Recipient.String(), inv.To().Value())
	}
	if ct := inv.Contact(); ct == nil || ct.Address.Scheme != "sips" {
		t.Errorf("Contact %v: want a sips: URI", inv.Contact())
	}
	if !strings.Contains(string(inv.Body()), " RTP/SAVP ") || len(cryptoLines(inv.Body())) == 0 {
		t.Errorf("tls: true without SRTP in the offer:\n%s", inv.Body())
	}
	ok := oc.final()
	if ok.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", ok.StatusCode)
	}
	if strings.Contains(string(ok.Body()), "RTP/SAVP") {
		t.Errorf("the plain caller's answer carries SRTP:\n%s", ok.Body())
	}
	oc.ack(ok)
	r.caller.do(oc.d.Request(sip.BYE, nil, ""))
	select {
	case <-r.callee.byes:
	case <-time.After(answerWithin):
		t.Fatal("the BYE did not reach the TLS callee")
	}
}
