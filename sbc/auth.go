package sbc

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/sbc/digest"
)

// authRealm is the digest realm of every challenge the appliance sends.
// It is fixed rather than sip.advertise: a peer's credentials (and any
// realm it is configured to answer) then stay good across an address
// change, a reload and every node of a cluster; and the realm says nothing
// of the network to whoever is challenged.
const authRealm = "trunkline"

// accessCodeHeader carries a trunk's accessCode on the requests it sends.
const accessCodeHeader = "X-Access-Code"

// authenticator demands digest credentials of the peers of REGISTERED and
// AUTHENTICATED trunks (DESIGN §4.1) and checks them. It lives as long as
// the server: its nonces mean nothing to another one, so it is not rebuilt
// when the configuration is.
type authenticator struct {
	v     *digest.Verifier
	realm string
}

// newAuthenticator returns an authenticator with a fresh nonce secret.
// opts are the Verifier's (the zero value is the default; tests set the
// clock).
func newAuthenticator(opts digest.Options) (*authenticator, error) {
	v, err := digest.NewVerifier(opts)
	if err != nil {
		return nil, fmt.Errorf("sbc: digest verifier: %w", err)
	}
	return &authenticator{v: v, realm: authRealm}, nil
}

// challenge is a request refused with a digest challenge: 401 with
// WWW-Authenticate for REGISTER (RFC 3261 §22.2: the registrar is the
// UAS), 407 with Proxy-Authenticate for anything else (§22.3: the appliance
// stands between its peers as a proxy does), one header per algorithm
// offered. stale marks the answer to right credentials with an expired
// nonce, which the client answers without asking its user.
func (a *authenticator) challenge(req *sip.Request, stale bool) error {
	rej := &rejection{code: sip.StatusProxyAuthRequired, reason: "Proxy Authentication Required"}
	name := "Proxy-Authenticate"
	if req.Method == sip.REGISTER {
		rej.code, rej.reason, name = sip.StatusUnauthorized, "Unauthorized", "WWW-Authenticate"
	}
	for _, v := range a.v.Challenge(a.realm, stale) {
		rej.headers = append(rej.headers, [2]string{name, v})
	}
	return rej
}

// credentials returns the request's digest credentials for our realm: from
// Authorization for REGISTER, Proxy-Authorization otherwise, then the other
// header (a client may answer in the one it likes; the digest covers the
// method and Request-URI either way). ok is false when there are none.
func (a *authenticator) credentials(req *sip.Request) (string, bool) {
	names := [2]string{"Proxy-Authorization", "Authorization"}
	if req.Method == sip.REGISTER {
		names[0], names[1] = names[1], names[0]
	}
	for _, name := range names {
		hs := req.GetHeaders(name)
		if len(hs) == 0 {
			continue
		}
		values := make([]string, len(hs))
		for i, h := range hs {
			values[i] = h.Value()
		}
		if v, ok := digest.ForRealm(values, a.realm); ok {
			return v, true
		}
	}
	return "", false
}

// The refusals of classification. Every one is the same 403 on the wire,
// whatever was wrong (unknown user, wrong password, replayed or forged
// nonce, wrong realm, a source the trunk does not list, a wrong or missing
// access code): a scanner learns nothing. Their texts are for the log.
var (
	errAuthFailed = &rejection{code: sip.StatusForbidden, reason: "Forbidden", why: "credentials refused"}
	errAccessCode = &rejection{code: sip.StatusForbidden, reason: "Forbidden", why: "access code missing or wrong"}
	// errNotRegistrar: a REGISTER from a trunk that does not register (a
	// STATIC or AUTHENTICATED one). 403 rather than 405: REGISTER is
	// among the methods the appliance takes (Allow), only not from this
	// peer, which RFC 3261 §21.4.4 says is 403's case; registrars in
	// production answer it so.
	errNotRegistrar = &rejection{code: sip.StatusForbidden, reason: "Forbidden", why: "not a REGISTERED trunk"}
)

// classify identifies the trunk req comes from (DESIGN §4.1), or returns
// the error it is refused with: errUnknownSource (nothing identifies it: 403
// or silence), a challenge (401/407), errAuthFailed or errAccessCode (403).
//
// In order:
//
//  1. A STATIC trunk without credentials owning the source is the trunk
//     (bySource: most specific prefix, X-Access-Code choosing between
//     trunks sharing the source).
//  2. Digest credentials for our realm, on any request but ACK and CANCEL,
//     are verified: the username picks the trunk among those that take
//     credentials, and the source must be among its sourceHosts when it
//     lists any. OK: that trunk. Stale: challenged again with stale=true.
//     Anything else: errAuthFailed.
//  3. An X-Access-Code naming a trunk identified by its code alone is that
//     trunk.
//  4. ACK and CANCEL are never challenged (RFC 3261 §22.1): the trunk owning
//     the source, or that of a live registration from it, else unknown.
//  5. OPTIONS from a known source — owned by a credential trunk, or the
//     source of a live registration — is that trunk's without
//     credentials: keepalives get 200 as they do from STATIC peers.
//  6. A source a credential trunk owns, or any source while some REGISTERED
//     or AUTHENTICATED trunk lists none, is challenged.
//  7. Otherwise: errUnknownSource.
//
// An initial INVITE (a new call) must then carry its trunk's accessCode,
// if it has one, in X-Access-Code (errAccessCode). Other requests do not
// need it: OPTIONS keepalives and REGISTER refreshes are not calls, and
// the DESIGN asks the code of inbound INVITEs.
func (s *Server) classify(req *sip.Request, st *state) (*config.SIPTrunk, error) {
	src := sourceOf(req)
	code := ""
	if h := req.GetHeader(accessCodeHeader); h != nil {
		code = h.Value()
	}
	static, credential := st.sources.bySource(src, code)
	trunk, err := func() (*config.SIPTrunk, error) {
		if static != nil {
			return static, nil
		}
		noChallenge := req.IsAck() || req.IsCancel()
		if cred, ok := s.auth.credentials(req); ok && !noChallenge {
			return s.verify(req, st, src, cred)
		}
		if tr := st.sources.byAccessCode(code); tr != nil {
			return tr, nil
		}
		if noChallenge || req.Method == sip.OPTIONS {
			if credential != nil {
				return credential, nil
			}
			if tr := s.registrar.trunkAt(st.cfg, src); tr != nil {
				return tr, nil
			}
			if noChallenge {
				return nil, errUnknownSource
			}
		}
		if credential != nil || st.sources.openCredentials {
			return nil, s.auth.challenge(req, false)
		}
		return nil, errUnknownSource
	}()
	if err != nil {
		return nil, err
	}
	if req.IsInvite() && !inDialog(req) && trunk.AccessCode != "" && !sameCode(trunk.AccessCode, code) {
		return trunk, errAccessCode
	}
	return trunk, nil
}

// verify checks the credentials cred of req from src, and returns the
// trunk they authenticate.
func (s *Server) verify(req *sip.Request, st *state, src netip.Addr, cred string) (*config.SIPTrunk, error) {
	lookup := func(username, realm string) (string, bool) {
		c := st.sources.byUser[username]
		if realm != s.auth.realm || c == nil || !c.admits(src) {
			return "", false
		}
		return c.trunk.InboundAuth.Password, true
	}
	user, res, err := s.auth.v.Verify(string(req.Method), req.Recipient.String(), cred, lookup)
	switch res {
	case digest.OK:
		return st.sources.byUser[user].trunk, nil
	case digest.Stale:
		s.log.Debug("sip credentials stale: challenged again", "method", string(req.Method), "source", req.Source(), "user", user)
		return nil, s.auth.challenge(req, true)
	}
	s.log.Info("sip credentials refused", "method", string(req.Method), "source", req.Source(),
		"callId", callID(req), "error", err.Error())
	return nil, errAuthFailed
}

// isChallenge reports whether err is a digest challenge (401 or 407).
func isChallenge(err error) bool {
	var rej *rejection
	return errors.As(err, &rej) && (rej.code == sip.StatusUnauthorized || rej.code == sip.StatusProxyAuthRequired)
}
