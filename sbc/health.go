package sbc

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/sipmsg"
	"github.com/trunkline/trunkline/sbc/trunkhealth"
)

// Trunk health: sbc/trunkhealth keeps the OPTIONS polling state; this file
// gives it its SIP side — the addresses of a trunk (RFC 3263, the same
// resolution the hunt uses) and the OPTIONS request itself — and turns its
// state changes into log lines and metrics.

// optionsProber sends the OPTIONS requests of trunk polling.
type optionsProber struct{ s *Server }

var _ trunkhealth.Prober = optionsProber{}

// Probe sends one OPTIONS to t and returns the final response's code, or
// an error when none came before ctx ended or the transaction failed.
func (p optionsProber) Probe(ctx context.Context, t trunkhealth.Target) (int, error) {
	s := p.s
	transport := strings.ToUpper(t.Transport)
	if transport == "" {
		transport = config.TransportUDP
	}
	local, ok := s.local(transport, t.Addr.Addr())
	if !ok {
		if transport == config.TransportTLS {
			return 0, errors.New("no TLS listener to probe from")
		}
		if local, ok = s.local(otherTransport(transport), t.Addr.Addr()); !ok {
			return 0, errors.New("no SIP listener")
		}
		local = s.retransport(local, transport)
	}
	host, port := hostPort(t.Host)
	d := sipmsg.Dialog{
		CallID:    newID(),
		LocalURI:  sip.Uri{Scheme: "sip", User: "trunkline", Host: local.Host},
		LocalTag:  newTag(),
		RemoteURI: sip.Uri{Scheme: "sip", Host: host, Port: port},
		Local:     local,
	}
	d.RemoteTarget = d.RemoteURI
	req := d.Request(sip.OPTIONS, nil, "")
	req.SetDestination(t.Addr.String())
	s.withLaddr(req)
	// Its answer must pass the read filter even with sip.dropUnknown when
	// the trunk is given by name.
	s.peers.add(t.Addr.Addr())
	defer s.peers.remove(t.Addr.Addr())
	tx, err := s.cli.TransactionRequest(ctx, req, prebuilt)
	if err != nil {
		return 0, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res.StatusCode, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return 0, err
			}
			return 0, sip.ErrTransactionTimeout
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// healthTargets resolves a trunk's destination hosts for polling: every
// address the hunt may send an INVITE to.
func (s *Server) healthTargets(ctx context.Context, t config.SIPTrunk) ([]trunkhealth.Target, error) {
	transport := trunkTransport(&t)
	var out []trunkhealth.Target
	var errs []error
	for _, h := range t.DestinationHosts {
		tgs, err := s.resolveTargets(ctx, h, transport)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, tg := range tgs {
			out = append(out, trunkhealth.Target{TrunkID: t.ID, Host: h, Addr: tg.addr, Transport: transport})
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// trunkTransport is a trunk's transport toward its destinations: TLS when
// tls is set, else as configured (UDP by default).
func trunkTransport(t *config.SIPTrunk) string {
	if t.TLS {
		return config.TransportTLS
	}
	if t.Transport == "" {
		return config.TransportUDP
	}
	return strings.ToUpper(t.Transport)
}

// onHealthChange logs a change of polling state. trunkline_trunk_up reads
// the monitor at scrape time.
func (s *Server) onHealthChange(ch trunkhealth.Change) {
	state := StatusInService
	if ch.Down {
		state = StatusOutOfService
	}
	attrs := []any{"sipTrunkId", ch.TrunkID, "state", state, "reason", ch.Reason}
	if ch.Code != 0 {
		attrs = append(attrs, "code", ch.Code)
	}
	if ch.Addr.IsValid() {
		s.log.Info("trunk address "+strings.ToLower(strings.ReplaceAll(state, "_", " ")),
			append(attrs, "host", ch.Host, "addr", ch.Addr.String())...)
		return
	}
	s.metrics.trunkChange(ch.TrunkID, ch.Down)
	s.log.Warn("trunk "+strings.ToLower(strings.ReplaceAll(state, "_", " ")), attrs...)
}

// addressDown reports whether polling marked one address of a trunk out of
// service.
func (s *Server) addressDown(trunkID string, a netip.AddrPort) bool {
	return s.health.AddressDown(trunkID, a)
}

// dnsTargets resolves a host name per RFC 3263 (NAPTR, SRV, A/AAAA).
func (s *Server) dnsTargets(ctx context.Context, host string, port int, transport string) ([]target, error) {
	tgs, err := s.dns.Resolve(ctx, host, port, transport)
	if err != nil {
		return nil, err
	}
	out := make([]target, 0, len(tgs))
	for _, t := range tgs {
		out = append(out, target{host: host, port: port, addr: t.Addr})
	}
	return out, nil
}
