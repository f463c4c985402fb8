package sbc

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/sipmsg"
)

// Registration intervals (RFC 3261 §10.2.1, §10.3). A REGISTER asking for
// less than minRegisterExpiry gets 423 with Min-Expires; more than
// maxRegisterExpiry is granted that much; none at all, defaultRegisterExpiry.
const (
	defaultRegisterExpiry = 3600 * time.Second
	minRegisterExpiry     = 60 * time.Second
	maxRegisterExpiry     = 7200 * time.Second
)

// maxBindings bounds the contacts one trunk may register: a trunk is one
// peer (a PBX, maybe a redundant pair), not a user directory.
const maxBindings = 16

// The refusals of the registrar.
var (
	// errIntervalTooBrief: a contact asked for less than minRegisterExpiry.
	errIntervalTooBrief = &rejection{code: sip.StatusIntervalToBrief, reason: "Interval Too Brief",
		headers: [][2]string{{"Min-Expires", strconv.Itoa(int(minRegisterExpiry / time.Second))}}}
	// errBadRegister: a REGISTER RFC 3261 §10.3 refuses (a wildcard with
	// other contacts or a non-zero expiry, an Expires that is no number).
	errBadRegister = &rejection{code: sip.StatusBadRequest, reason: "Bad Request", why: "malformed REGISTER"}
	// errOutOfOrder: a REGISTER older (by CSeq, in the same Call-ID) than
	// the one that set a binding: §10.3 step 7 has the update fail.
	errOutOfOrder = &rejection{code: sip.StatusInternalServerError, reason: "Server Internal Error", why: "REGISTER out of order"}
	// errTooManyBindings: the trunk has maxBindings contacts already.
	errTooManyBindings = &rejection{code: sip.StatusServiceUnavailable, reason: "Too Many Registered Contacts"}
)

// binding is one registered contact of a REGISTERED trunk.
type binding struct {
	contact   sip.Uri        // as registered
	key       string         // the contact as a string: the binding's identity
	source    netip.AddrPort // where the REGISTER came from
	transport string         // and over which transport
	callID    string
	cseq      uint32
	expires   time.Time
	updated   time.Time
}

// registrar keeps the bindings of REGISTERED trunks (RFC 3261 §10.3), in
// memory and per node: a peer registers with each node it sends calls to.
// Bindings expire lazily: a lookup skips and drops the expired ones, and
// every REGISTER sweeps them all, so no timer or goroutine runs per binding.
type registrar struct {
	now func() time.Time

	mu      sync.Mutex
	byTrunk map[string][]*binding // by trunk id, most recently updated first
}

func newRegistrar(now func() time.Time) *registrar {
	if now == nil {
		now = time.Now
	}
	return &registrar{now: now, byTrunk: map[string][]*binding{}}
}

// sweep drops the expired bindings. r.mu is held.
func (r *registrar) sweep(now time.Time) {
	for id, bs := range r.byTrunk {
		bs = slices.DeleteFunc(bs, func(b *binding) bool { return !now.Before(b.expires) })
		if len(bs) == 0 {
			delete(r.byTrunk, id)
		} else {
			r.byTrunk[id] = bs
		}
	}
}

// registeredTargets returns where calls to the REGISTERED trunk trunkID go:
// one target per live binding, the most recently refreshed first; none
// when it has not registered.
func (s *Server) registeredTargets(trunkID string) []target {
	return s.registrar.targets(trunkID)
}

// targets is registeredTargets.
func (r *registrar) targets(trunkID string) []target {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	bs := slices.DeleteFunc(r.byTrunk[trunkID], func(b *binding) bool { return !now.Before(b.expires) })
	if len(bs) == 0 {
		delete(r.byTrunk, trunkID)
		return nil
	}
	r.byTrunk[trunkID] = bs
	out := make([]target, len(bs))
	for i, b := range bs {
		out[i] = b.target()
	}
	return out
}

// target is where calls to b go: host and port are the contact's (for the
// R-URI and To); the address is the contact's when it is an IP address
// that is the REGISTER's source or a public one, else (a host name, or a
// private address other than the source: the peer is behind NAT) the
// address the REGISTER came from, as RFC 3581 answers to the source.
func (b *binding) target() target {
	t := target{host: b.contact.Host, port: b.contact.Port, addr: b.source}
	ip, err := netip.ParseAddr(strings.Trim(b.contact.Host, "[]"))
	if err != nil {
		return t
	}
	ip = ip.Unmap().WithZone("")
	if ip == b.source.Addr() || !privateAddr(ip) {
		port := b.contact.Port
		if port == 0 {
			port = sip.DefaultPort(b.transport)
		}
		t.addr = netip.AddrPortFrom(ip, uint16(port))
	}
	return t
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// privateAddr reports whether ip cannot be reached from elsewhere: private,
// loopback, link-local, shared (CGNAT) or unspecified.
func privateAddr(ip netip.Addr) bool {
	return ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || cgnat.Contains(ip)
}

// trunkAt returns the REGISTERED trunk of cfg with a live binding
// registered from addr, or nil: its OPTIONS keepalives are answered
// without credentials, as a known source's.
func (r *registrar) trunkAt(cfg *config.Config, addr netip.Addr) *config.SIPTrunk {
	addr = addr.Unmap().WithZone("")
	r.mu.Lock()
	now := r.now()
	id := ""
	for tid, bs := range r.byTrunk {
		for _, b := range bs {
			if b.source.Addr() == addr && now.Before(b.expires) {
				id = tid
				break
			}
		}
		if id != "" {
			break
		}
	}
	r.mu.Unlock()
	if id == "" {
		return nil
	}
	for i := range cfg.SIPTrunks {
		if tr := &cfg.SIPTrunks[i]; tr.ID == id && tr.Type == config.TrunkRegistered {
			return tr
		}
	}
	return nil
}

// regContact is one Contact of a REGISTER with the expiry it asks.
type regContact struct {
	uri    sip.Uri
	expiry time.Duration // 0: remove
}

// register answers a REGISTER from trunk, authenticated already (RFC 3261
// §10.3): a REGISTERED trunk's contacts are bound, refreshed or removed,
// and the 200 lists every binding of the trunk with its remaining expiry.
// A REGISTER without Contact only asks for that list.
func (s *Server) register(req *sip.Request, tx sip.ServerTransaction, trunk *config.SIPTrunk) {
	if err := s.registerErr(req, trunk); err != nil {
		s.reject(req, tx, err, trunk)
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	now := s.registrar.now()
	for _, b := range s.registrar.bindings(trunk.ID, now) {
		secs := int((b.expires.Sub(now) + time.Second - 1) / time.Second)
		ct := &sip.ContactHeader{Address: *b.contact.Clone(), Params: sip.NewParams()}
		ct.Params.Add("expires", strconv.Itoa(secs))
		res.AppendHeader(ct)
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(http.TimeFormat)))
	s.respond(tx, res)
}

// registerErr validates and applies a REGISTER.
func (s *Server) registerErr(req *sip.Request, trunk *config.SIPTrunk) error {
	if err := sipmsg.ValidateRequest(req); err != nil {
		return err
	}
	if trunk.Type != config.TrunkRegistered {
		return errNotRegistrar
	}
	if trunk.AdminStatus == config.Disabled {
		return errTrunkDisabled
	}
	contacts, wildcard, err := registerContacts(req)
	if err != nil {
		return err
	}
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return errBadRegister
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	b := binding{source: src, transport: strings.ToUpper(req.Transport()), callID: callID(req), cseq: req.CSeq().SeqNo}
	return s.registrar.update(trunk.ID, b, contacts, wildcard)
}

// registerContacts reads the Contacts of a REGISTER and the expiry each
// asks for: its expires parameter, else the Expires header, else the
// default; capped to maxRegisterExpiry. wildcard is "Contact: *" (with
// Expires: 0, alone: remove every binding).
func registerContacts(req *sip.Request) (out []regContact, wildcard bool, err error) {
	def := defaultRegisterExpiry
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			return nil, false, errBadRegister
		}
		def = time.Duration(n) * time.Second
	}
	var hs []sip.Header
	hs = append(hs, req.GetHeaders("Contact")...)
	hs = append(hs, req.GetHeaders("m")...)
	for _, h := range hs {
		ct, ok := h.(*sip.ContactHeader)
		if !ok {
			ct = &sip.ContactHeader{}
			if _, err := sip.ParseAddressValue(h.Value(), &ct.Address, &ct.Params); err != nil {
				return nil, false, errBadRegister
			}
		}
		if ct.Address.Wildcard {
			wildcard = true
			continue
		}
		exp := def
		if v, ok := ct.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				return nil, false, errBadRegister
			}
			exp = time.Duration(n) * time.Second
		}
		if exp > 0 && exp < minRegisterExpiry {
			return nil, false, errIntervalTooBrief
		}
		out = append(out, regContact{uri: ct.Address, expiry: min(exp, maxRegisterExpiry)})
	}
	if wildcard && (len(out) > 0 || def != 0 || req.GetHeader("Expires") == nil) {
		return nil, false, errBadRegister // RFC 3261 §10.3 step 6
	}
	return out, wildcard, nil
}

// update applies one REGISTER's contacts to trunk's bindings, all or none.
// b holds what the contacts share: source, transport, Call-ID and CSeq.
func (r *registrar) update(trunkID string, b binding, contacts []regContact, wildcard bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.sweep(now)
	bs := r.byTrunk[trunkID]
	if wildcard {
		delete(r.byTrunk, trunkID)
		return nil
	}
	// Step 7: a REGISTER older than what set a binding changes nothing.
	for _, c := range contacts {
		key := c.uri.String()
		for _, old := range bs {
			if old.key == key && old.callID == b.callID && b.cseq <= old.cseq {
				return errOutOfOrder
			}
		}
	}
	next := slices.Clone(bs)
	for _, c := range contacts {
		key := c.uri.String()
		next = slices.DeleteFunc(next, func(old *binding) bool { return old.key == key })
		if c.expiry == 0 {
			continue
		}
		nb := b
		nb.contact, nb.key = *c.uri.Clone(), key
		nb.updated, nb.expires = now, now.Add(c.expiry)
		next = slices.Insert(next, 0, &nb)
	}
	if len(next) > maxBindings && len(next) > len(bs) {
		return errTooManyBindings
	}
	if len(next) == 0 {
		delete(r.byTrunk, trunkID)
	} else {
		r.byTrunk[trunkID] = next
	}
	return nil
}

// bindings returns trunk's live bindings, most recently updated first.
func (r *registrar) bindings(trunkID string, now time.Time) []binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []binding
	for _, b := range r.byTrunk[trunkID] {
		if now.Before(b.expires) {
			out = append(out, *b)
		}
	}
	return out
}
