package sbc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/trunkline/trunkline/config"
)

// TLS (RFC 3261 §26, RFC 5922): tls:// listeners present sip.tls.cert/key,
// reloaded with the configuration (SIGHUP); toward trunks with transport
// TLS (or tls: true) the appliance dials TLS 1.2+ itself, verifying the
// peer against sip.tls.ca (else the system roots) with SNI and the
// certificate check on the trunk's host name — the domain, not the SRV
// target — and hands the connection to sipgo, which then reads it and
// sends the call's requests over it like any connection it accepted.

// tlsAddr is the address of a tls:// listener: a TCP address whose network
// says "tls".
type tlsAddr struct{ *net.TCPAddr }

func (tlsAddr) Network() string { return "tls" }

// tlsFiles is what the appliance presents and trusts, loaded from
// sip.tls; replaced whole on reload.
type tlsFiles struct {
	files config.TLSFiles
	cert  *tls.Certificate // nil when sip.tls names no certificate
	roots *x509.CertPool   // nil: the system roots
}

// loadTLS reads sip.tls. A certificate is required only when need (a
// tls:// listener) is set; a CA bundle, when named, must hold a PEM
// certificate.
func loadTLS(f config.TLSFiles, need bool) (*tlsFiles, error) {
	out := &tlsFiles{files: f}
	if need && (f.Cert == "" || f.Key == "") {
		return nil, errors.New("sip.tls: a tls:// listener needs sip.tls.cert and sip.tls.key")
	}
	if f.Cert != "" || f.Key != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("sip.tls: %w", err)
		}
		out.cert = &cert
	}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("sip.tls.ca: %w", err)
		}
		out.roots = x509.NewCertPool()
		if !out.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sip.tls.ca: %s holds no PEM certificate", f.CA)
		}
	}
	return out, nil
}

// serverTLS is the configuration of tls:// listeners: the certificate in
// force at each handshake, so that a reload applies to new connections.
func (s *Server) serverTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := s.tls.Load().cert; c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate (sip.tls)")
		},
	}
}

// reloadTLS re-reads sip.tls after a configuration change; on an error the
// files in force stay (and the error is logged).
func (s *Server) reloadTLS(f config.TLSFiles) {
	need := false
	for _, l := range s.listens {
		need = need || l.network == "tls"
	}
	t, err := loadTLS(f, need)
	if err != nil {
		s.log.Error("sip.tls not reloaded: keeping the certificate in force", "error", err.Error())
		return
	}
	s.tls.Store(t)
}

// tlsDialTimeout bounds the TCP connect and handshake toward a trunk.
const tlsDialTimeout = 4 * time.Second

// dialTLS makes sure sipgo holds a TLS connection to addr, dialling one
// when it has none: SNI and verification on name (the trunk's host name),
// or on the address itself when name is empty.
func (s *Server) dialTLS(ctx context.Context, addr netip.AddrPort, name string) error {
	tl := s.ua.TransportLayer()
	if c, err := tl.GetConnection("tls", addr.String()); err == nil && c != nil {
		return nil
	}
	// One dial per address at a time: calls to a trunk share it.
	s.tlsDialMu.Lock()
	if d, ok := s.tlsDials[addr]; ok {
		s.tlsDialMu.Unlock()
		select {
		case <-d.done:
			return d.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	d := &dialing{done: make(chan struct{})}
	if s.tlsDials == nil {
		s.tlsDials = map[netip.AddrPort]*dialing{}
	}
	s.tlsDials[addr] = d
	s.tlsDialMu.Unlock()
	d.err = s.dialTLSOnce(ctx, addr, name)
	s.tlsDialMu.Lock()
	delete(s.tlsDials, addr)
	s.tlsDialMu.Unlock()
	close(d.done)
	return d.err
}

// dialing is a TLS dial in progress, which other calls wait for.
type dialing struct {
	done chan struct{}
	err  error
}

// dialTLSOnce dials addr and hands the connection to sipgo.
func (s *Server) dialTLSOnce(ctx context.Context, addr netip.AddrPort, name string) error {
	files := s.tls.Load()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: files.roots, ServerName: name}
	if name == "" {
		cfg.ServerName = addr.Addr().String()
	}
	if files.cert != nil {
		cfg.Certificates = []tls.Certificate{*files.cert} // for peers that ask (mutual TLS)
	}
	ctx, cancel := context.WithTimeout(ctx, tlsDialTimeout)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return err
	}
	if err := s.tlsOut.hand(ctx, conn); err != nil {
		conn.Close()
		return err
	}
	return nil
}

// connFeed is a net.Listener whose connections are the ones the appliance
// dialled: sipgo serves it like a tls:// listener, so that it reads the
// connections and sends requests over them. sipgo's serving loop files each
// accepted connection in its pool before it calls Accept again, so the next
// Accept tells hand that the connection is usable.
type connFeed struct {
	addr  net.Addr
	conns chan handoff
	done  chan struct{}
	once  sync.Once
	filed chan struct{} // of the connection Accept returned last; serving loop only
}

// handoff is one dialled connection and what is closed once sipgo has it.
type handoff struct {
	conn  net.Conn
	filed chan struct{}
}

func newConnFeed() *connFeed {
	return &connFeed{
		addr:  tlsAddr{&net.TCPAddr{IP: net.IPv4zero}},
		conns: make(chan handoff),
		done:  make(chan struct{}),
	}
}

// hand gives c to sipgo and returns once sipgo holds it.
func (f *connFeed) hand(ctx context.Context, c net.Conn) error {
	h := handoff{conn: c, filed: make(chan struct{})}
	select {
	case f.conns <- h:
	case <-f.done:
		return net.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-h.filed:
		return nil
	case <-f.done:
		return net.ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("TLS connection not taken up: %w", ctx.Err())
	}
}

// Accept is called by sipgo's serving loop alone.
func (f *connFeed) Accept() (net.Conn, error) {
	if f.filed != nil {
		close(f.filed)
		f.filed = nil
	}
	select {
	case h := <-f.conns:
		f.filed = h.filed
		return h.conn, nil
	case <-f.done:
		return nil, net.ErrClosed
	}
}

func (f *connFeed) Close() error {
	f.once.Do(func() { close(f.done) })
	return nil
}

func (f *connFeed) Addr() net.Addr { return f.addr }
