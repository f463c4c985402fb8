package digest

import (
	"container/heap"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultLifetime  = 5 * time.Minute
	DefaultMaxNonces = 65536
)

// Result is the verdict of Verify.
type Result int

const (
	// Fail: the credentials do not authenticate the request. The zero
	// Result, so that a forgotten assignment never lets a request in.
	Fail Result = iota
	// OK: the credentials authenticate the request.
	OK
	// Stale: the credentials were right but their nonce has expired (or
	// was forgotten under memory pressure); challenge again with
	// stale=true and the client answers without asking its user.
	Stale
)

func (r Result) String() string {
	switch r {
	case OK:
		return "ok"
	case Stale:
		return "stale"
	}
	return "fail"
}

// Why Verify failed, for logs only: every Fail must get the same answer
// from the caller, whatever its reason. Verify wraps them with the detail.
var (
	ErrAlgorithm   = errors.New("digest: algorithm not offered")
	ErrQOP         = errors.New("digest: qop not offered")
	ErrURI         = errors.New("digest: uri does not match the request")
	ErrNonce       = errors.New("digest: nonce not issued here for this realm")
	ErrUnknownUser = errors.New("digest: unknown user")
	ErrResponse    = errors.New("digest: wrong response")
	ErrReplay      = errors.New("digest: nonce count replayed")
	ErrStale       = errors.New("digest: nonce expired")
)

// Options configure a Verifier. The zero value is the default.
type Options struct {
	// Lifetime is how long a nonce is good for; 0 means DefaultLifetime.
	// Credentials with an older nonce but the right response are Stale.
	Lifetime time.Duration
	// Algorithms are offered in this order and the only ones accepted;
	// nil means SHA-256 then MD5 (RFC 8760 §2.4). The -sess variants are
	// not offered.
	Algorithms []Algorithm
	// RequireQOP refuses credentials without qop (RFC 2069 clients).
	RequireQOP bool
	// MaxNonces bounds the replay table; 0 means DefaultMaxNonces. When it
	// is full the oldest nonce is forgotten and every nonce issued no later
	// than it becomes Stale, so that a forgotten nonce cannot be replayed.
	MaxNonces int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Lookup returns the password of username in realm, or false when there is
// no such user.
type Lookup func(username, realm string) (password string, ok bool)

// Verifier issues Digest challenges and verifies the credentials that answer
// them, as a SIP server or proxy (RFC 3261 §22, RFC 7616, RFC 8760).
//
// Its nonces are self-validating: the time of issue, random bytes, and an
// HMAC of both and the realm under a key drawn at construction. Nothing is
// stored per challenge; what it remembers is the nonce counts of the nonces
// answered correctly, for replay protection, until they expire. A Verifier
// is safe for concurrent use, and is meant to live as long as the server:
// the nonces of one Verifier mean nothing to another, so one built afresh
// at a configuration reload would fail every outstanding challenge.
type Verifier struct {
	lifetime   time.Duration
	algorithms []Algorithm
	requireQOP bool
	max        int
	now        func() time.Time
	macs       sync.Pool // of hash.Hash: HMAC-SHA-256 keyed with the secret

	mu     sync.Mutex
	seen   map[nonceID]*seenNonce
	byAge  nonceHeap // the entries of seen, oldest issue first
	floor  int64     // nonces issued at or before it and not in seen are Stale
	latest int64     // the latest clock reading, so time never runs back
}

// NewVerifier returns a Verifier with a fresh random secret. It fails on
// options it cannot honour.
func NewVerifier(opts Options) (*Verifier, error) {
	v := &Verifier{
		lifetime:   opts.Lifetime,
		algorithms: []Algorithm{SHA256, MD5},
		requireQOP: opts.RequireQOP,
		max:        opts.MaxNonces,
		now:        opts.Now,
		seen:       make(map[nonceID]*seenNonce),
		floor:      -1 << 63,
	}
	if v.lifetime < 0 {
		return nil, fmt.Errorf("digest: negative nonce lifetime %v", v.lifetime)
	}
	if v.lifetime == 0 {
		v.lifetime = DefaultLifetime
	}
	if v.max < 0 {
		return nil, fmt.Errorf("digest: negative MaxNonces %d", v.max)
	}
	if v.max == 0 {
		v.max = DefaultMaxNonces
	}
	if v.now == nil {
		v.now = time.Now
	}
	if opts.Algorithms != nil {
		if len(opts.Algorithms) == 0 {
			return nil, errors.New("digest: no algorithm to offer")
		}
		v.algorithms = nil
		for _, a := range opts.Algorithms {
			if a.base() != a {
				return nil, fmt.Errorf("digest: cannot offer algorithm %q", a)
			}
			v.algorithms = append(v.algorithms, a)
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand, Go 1.24)
	v.macs.New = func() any { return hmac.New(sha256.New, secret) }
	return v, nil
}

// Challenge returns the challenges for realm, one header value per
// algorithm offered, strongest first (RFC 8760 §2.4), all with the same
// fresh nonce and qop="auth". stale marks them as the answer to Stale
// credentials. They go in WWW-Authenticate (401) or Proxy-Authenticate
// (407) headers, one header per value.
func (v *Verifier) Challenge(realm string, stale bool) []string {
	c := Challenge{Realm: realm, Nonce: v.nonce(realm), Stale: stale, QOP: []string{"auth"}}
	out := make([]string, len(v.algorithms))
	for i, a := range v.algorithms {
		c.Algorithm = a
		out[i] = c.String()
	}
	return out
}

// Verify checks credentials, an Authorization or Proxy-Authorization value,
// against the request they came with: its method and Request-URI. lookup
// gives the password of the claimed user in the claimed realm; the realm
// is also checked through the nonce, which is good only for the realm it
// was issued for.
//
// It returns the authenticated username with OK, the username with Stale
// (right password, expired nonce: challenge again with stale=true), and ""
// with Fail. err is nil with OK and otherwise says why, wrapping one of the
// Err values, for logs; the caller must answer every Fail alike.
func (v *Verifier) Verify(method, requestURI, credentials string, lookup Lookup) (username string, res Result, err error) {
	c, err := ParseCredentials(credentials)
	if err != nil {
		return "", Fail, err
	}
	alg := c.Algorithm
	if alg == "" {
		alg = MD5
	}
	if !v.offers(alg) {
		return "", Fail, fmt.Errorf("%w: %q (user %q)", ErrAlgorithm, c.Algorithm, c.Username)
	}
	var nc uint32
	switch c.QOP {
	case "auth":
		nc, _ = parseNC(c.NC) // checked by ParseCredentials
		if nc == 0 {
			return "", Fail, fmt.Errorf("%w: nc 0 (user %q)", ErrReplay, c.Username)
		}
	case "":
		if v.requireQOP {
			return "", Fail, fmt.Errorf("%w: none, and qop is required (user %q)", ErrQOP, c.Username)
		}
	default:
		return "", Fail, fmt.Errorf("%w: %q (user %q)", ErrQOP, c.QOP, c.Username)
	}
	if !sameURI(c.URI, requestURI) {
		return "", Fail, fmt.Errorf("%w: %q for %q (user %q)", ErrURI, c.URI, requestURI, c.Username)
	}
	id, issued, ok := v.check(c.Nonce, c.Realm)
	if !ok {
		return "", Fail, fmt.Errorf("%w: realm %q (user %q)", ErrNonce, c.Realm, c.Username)
	}

	password, known := lookup(c.Username, c.Realm)
	r := request{
		alg: alg, username: c.Username, realm: c.Realm, password: password,
		method: method, uri: c.URI, nonce: c.Nonce, nc: c.NC, cnonce: c.CNonce, qop: c.QOP,
	}
	var want hexBuf
	expected := response(&r, &want) // computed for unknown users too: no timing oracle
	var gotBuf hexBuf
	got := lowerHex(&gotBuf, c.Response)
	if subtle.ConstantTimeCompare(expected, got) != 1 || !known {
		if !known {
			return "", Fail, fmt.Errorf("%w: %q in realm %q", ErrUnknownUser, c.Username, c.Realm)
		}
		return "", Fail, fmt.Errorf("%w (user %q, realm %q)", ErrResponse, c.Username, c.Realm)
	}
	// The password is right; now the nonce's age and use.
	if err := v.use(id, issued, c.QOP != "", nc); err != nil {
		if errors.Is(err, ErrStale) {
			return c.Username, Stale, fmt.Errorf("%w (user %q)", err, c.Username)
		}
		return "", Fail, fmt.Errorf("%w (user %q)", err, c.Username)
	}
	return c.Username, OK, nil
}

func (v *Verifier) offers(a Algorithm) bool {
	for _, o := range v.algorithms {
		if o == a {
			return true
		}
	}
	return false
}

// lowerHex copies a hex digest, lower-cased, into dst; nil when it cannot
// be one of ours.
func lowerHex(dst *hexBuf, s string) []byte {
	if len(s) > len(dst) {
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst[:len(s)]
}

// A nonce is base64url (no padding) of: issue time (Unix nanoseconds, 8
// bytes big-endian), 12 random bytes, and the first 16 bytes of
// HMAC-SHA-256(secret, time || random || realm).
const (
	nonceRand = 12
	nonceMAC  = 16
	nonceRaw  = 8 + nonceRand + nonceMAC
)

var nonceLen = base64.RawURLEncoding.EncodedLen(nonceRaw)

// nonceID identifies a nonce in the replay table: its time and random part.
type nonceID [8 + nonceRand]byte

func (v *Verifier) nonce(realm string) string {
	var raw [nonceRaw]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(v.now().UnixNano()))
	rand.Read(raw[8 : 8+nonceRand])
	v.mac(raw[8+nonceRand:], raw[:8+nonceRand], realm)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// mac writes the truncated HMAC of id and realm into dst.
func (v *Verifier) mac(dst, id []byte, realm string) {
	h := v.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(id)
	h.Write([]byte(realm))
	var sum [sha256.Size]byte
	copy(dst, h.Sum(sum[:0]))
	v.macs.Put(h)
}

// check reports whether nonce is one of ours, issued for realm, and when.
func (v *Verifier) check(nonce, realm string) (nonceID, int64, bool) {
	var id nonceID
	var raw [nonceRaw]byte
	if len(nonce) != nonceLen {
		return id, 0, false
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(nonce)); err != nil || n != nonceRaw {
		return id, 0, false
	}
	var want [nonceMAC]byte
	v.mac(want[:], raw[:8+nonceRand], realm)
	if !hmac.Equal(want[:], raw[8+nonceRand:]) {
		return id, 0, false
	}
	copy(id[:], raw[:])
	return id, int64(binary.BigEndian.Uint64(raw[:8])), true
}

// seenNonce is what the replay table keeps of a nonce answered correctly.
type seenNonce struct {
	id     nonceID
	issued int64
	noQOP  bool   // used once without qop: used up
	maxNC  uint32 // the highest nc seen
	window uint64 // bit i: nc maxNC-i seen
}

// replayWindow is how far below the highest nc seen a late nc is still
// taken, once: requests sent in one order may arrive in another.
const replayWindow = 64

// use records a correct answer with nonce id, issued at issued: Stale when
// the nonce has expired or was forgotten, ErrReplay when its nc (or, with
// no qop, the nonce itself) was used already.
func (v *Verifier) use(id nonceID, issued int64, qop bool, nc uint32) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now().UnixNano()
	if now < v.latest {
		now = v.latest
	}
	v.latest = now
	v.expire(now)

	if now-issued > int64(v.lifetime) {
		return ErrStale
	}
	e, ok := v.seen[id]
	if !ok {
		if issued <= v.floor {
			return fmt.Errorf("%w: forgotten under load", ErrStale)
		}
		for len(v.seen) >= v.max {
			old := heap.Pop(&v.byAge).(*seenNonce)
			delete(v.seen, old.id)
			v.floor = max(v.floor, old.issued)
		}
		if issued <= v.floor {
			return fmt.Errorf("%w: forgotten under load", ErrStale)
		}
		e = &seenNonce{id: id, issued: issued, noQOP: !qop, maxNC: nc, window: 1}
		v.seen[id] = e
		heap.Push(&v.byAge, e)
		return nil
	}
	switch {
	case e.noQOP:
		return fmt.Errorf("%w: nonce used already", ErrReplay)
	case !qop:
		return fmt.Errorf("%w: nonce used with qop, now without", ErrReplay)
	case nc > e.maxNC:
		if shift := nc - e.maxNC; shift >= replayWindow {
			e.window = 1
		} else {
			e.window = e.window<<shift | 1
		}
		e.maxNC = nc
	default:
		d := e.maxNC - nc
		if d >= replayWindow {
			return fmt.Errorf("%w: nc %08x too far below %08x", ErrReplay, nc, e.maxNC)
		}
		if e.window&(1<<d) != 0 {
			return fmt.Errorf("%w: nc %08x", ErrReplay, nc)
		}
		e.window |= 1 << d
	}
	return nil
}

// expire forgets the nonces older than the lifetime: they are Stale by
// their age alone. v.mu is held.
func (v *Verifier) expire(now int64) {
	for len(v.byAge) > 0 && now-v.byAge[0].issued > int64(v.lifetime) {
		old := heap.Pop(&v.byAge).(*seenNonce)
		delete(v.seen, old.id)
	}
}

// nonceHeap orders the replay table by issue time, oldest first.
type nonceHeap []*seenNonce

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].issued < h[j].issued }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(*seenNonce)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// sameURI reports whether the uri of credentials names the Request-URI.
// RFC 3261 §22.4 has the client copy the Request-URI; the comparison still
// forgives what a re-serialisation changes: the case of the scheme and
// host, and the order and case of URI parameters. The user part and the
// headers compare exactly.
func sameURI(a, b string) bool {
	if a == b {
		return true
	}
	sa, ra, oka := strings.Cut(a, ":")
	sb, rb, okb := strings.Cut(b, ":")
	if !oka || !okb || !strings.EqualFold(sa, sb) {
		return false
	}
	ra, ha, _ := strings.Cut(ra, "?")
	rb, hb, _ := strings.Cut(rb, "?")
	if ha != hb {
		return false
	}
	ra, pa, _ := strings.Cut(ra, ";")
	rb, pb, _ := strings.Cut(rb, ";")
	ua, hpa := splitUser(ra)
	ub, hpb := splitUser(rb)
	if ua != ub || !strings.EqualFold(hpa, hpb) {
		return false
	}
	return sameParams(pa, pb)
}

// splitUser splits userinfo@hostport; the userinfo is "" when absent.
func splitUser(s string) (user, hostport string) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i+1], s[i+1:]
	}
	return "", s
}

// sameParams compares two ;-separated parameter lists as sets, without
// regard to case. The lists are short; quadratic is fine, and a bound keeps
// a hostile one cheap.
func sameParams(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	pa, pb := strings.Split(a, ";"), strings.Split(b, ";")
	if len(pa) != len(pb) || len(pa) > 32 {
		return false
	}
	for _, x := range pa {
		if !containsFold(pb, x) {
			return false
		}
	}
	for _, y := range pb {
		if !containsFold(pa, y) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
