package digest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	realm = "trunkline.test"
	ruri  = "sip:+4930123@sbc.trunkline.test;transport=udp"
)

var users = map[string]string{"alice": "wonderland", "bob": "b0b!"}

func lookup(username, r string) (string, bool) {
	if r != realm {
		return "", false
	}
	p, ok := users[username]
	return p, ok
}

func newVerifier(t testing.TB, opts Options) (*Verifier, *clock) {
	t.Helper()
	clk := newClock()
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v, clk
}

// pick returns the challenge for alg among values.
func pick(t testing.TB, values []string, alg Algorithm) Challenge {
	t.Helper()
	for _, s := range values {
		c, err := ParseChallenge(s)
		if err != nil {
			t.Fatalf("our challenge %q: %v", s, err)
		}
		if c.Algorithm == alg {
			return c
		}
	}
	t.Fatalf("no %s challenge in %q", alg, values)
	return Challenge{}
}

func answer(t testing.TB, cl *Client, c Challenge, method, uri, user, pass string) string {
	t.Helper()
	cred, err := cl.Answer(c.String(), method, uri, user, pass, nil)
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	return cred
}

func TestChallenge(t *testing.T) {
	v, _ := newVerifier(t, Options{})
	values := v.Challenge(`a "realm"`, false)
	if len(values) != 2 {
		t.Fatalf("%d challenges, want 2: %q", len(values), values)
	}
	var nonce string
	for i, want := range []Algorithm{SHA256, MD5} {
		c, err := ParseChallenge(values[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.Algorithm != want || c.Realm != `a "realm"` || c.Stale || len(c.QOP) != 1 || c.QOP[0] != "auth" {
			t.Errorf("challenge %d: %+v", i, c)
		}
		if i == 0 {
			nonce = c.Nonce
		} else if c.Nonce != nonce {
			t.Errorf("nonces differ: %q, %q", nonce, c.Nonce)
		}
	}
	if c, _ := ParseChallenge(v.Challenge(realm, true)[0]); !c.Stale {
		t.Errorf("stale challenge without stale=true: %+v", c)
	}
	if a, b := pick(t, v.Challenge(realm, false), MD5).Nonce, pick(t, v.Challenge(realm, false), MD5).Nonce; a == b {
		t.Errorf("two challenges share nonce %q", a)
	}
	v2, _ := newVerifier(t, Options{Algorithms: []Algorithm{MD5}})
	if got := v2.Challenge(realm, false); len(got) != 1 || !strings.Contains(got[0], "algorithm=MD5") {
		t.Errorf("MD5-only challenge: %q", got)
	}
}

func TestNewVerifierOptions(t *testing.T) {
	for _, opts := range []Options{
		{Lifetime: -time.Second},
		{MaxNonces: -1},
		{Algorithms: []Algorithm{}},
		{Algorithms: []Algorithm{MD5Sess}},
		{Algorithms: []Algorithm{"SHA-1"}},
	} {
		if _, err := NewVerifier(opts); err == nil {
			t.Errorf("NewVerifier(%+v) succeeded", opts)
		}
	}
	v, err := NewVerifier(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.lifetime != DefaultLifetime || v.max != DefaultMaxNonces || len(v.algorithms) != 2 {
		t.Errorf("defaults: lifetime %v, max %d, algorithms %v", v.lifetime, v.max, v.algorithms)
	}
}

// TestVerifyRoundTrip: what Client answers to our challenges verifies, for
// each algorithm, with qop and without (RFC 2069).
func TestVerifyRoundTrip(t *testing.T) {
	for _, alg := range []Algorithm{SHA256, MD5} {
		for _, qop := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/qop=%v", alg, qop), func(t *testing.T) {
				v, _ := newVerifier(t, Options{})
				var cl Client
				c := pick(t, v.Challenge(realm, false), alg)
				if !qop {
					c.QOP = nil
				}
				cred := answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")
				if strings.Contains(cred, "qop=") != qop || strings.Contains(cred, "nc=") != qop {
					t.Fatalf("credentials %q", cred)
				}
				user, res, err := v.Verify("INVITE", ruri, cred, lookup)
				if user != "alice" || res != OK || err != nil {
					t.Fatalf("Verify = %q, %v, %v; want alice, ok", user, res, err)
				}
				if !qop {
					return
				}
				// The same nonce again, as a client reusing it does: nc 2.
				cred = answer(t, &cl, c, "BYE", ruri, "alice", "wonderland")
				if !strings.Contains(cred, "nc=00000002") {
					t.Fatalf("second answer %q", cred)
				}
				if user, res, err := v.Verify("BYE", ruri, cred, lookup); user != "alice" || res != OK {
					t.Fatalf("second Verify = %q, %v, %v", user, res, err)
				}
			})
		}
	}
}

// TestVerifyFail: every way to get it wrong is Fail, with "" for the
// username and an error naming the reason.
func TestVerifyFail(t *testing.T) {
	v, _ := newVerifier(t, Options{})
	other, _ := newVerifier(t, Options{})
	sha := func() Challenge { return pick(t, v.Challenge(realm, false), SHA256) }
	tests := []struct {
		name   string
		method string // "" is INVITE
		uri    string // "" is ruri
		cred   func(cl *Client) string
		want   error
	}{
		{name: "wrong password", want: ErrResponse,
			cred: func(cl *Client) string { return answer(t, cl, sha(), "INVITE", ruri, "alice", "alice") }},
		{name: "wrong user", want: ErrUnknownUser,
			cred: func(cl *Client) string { return answer(t, cl, sha(), "INVITE", ruri, "mallory", "wonderland") }},
		{name: "another user's password", want: ErrResponse,
			cred: func(cl *Client) string { return answer(t, cl, sha(), "INVITE", ruri, "bob", "wonderland") }},
		{name: "wrong realm", want: ErrNonce,
			cred: func(cl *Client) string {
				c := sha()
				c.Realm = "elsewhere"
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "nonce issued for another realm", want: ErrNonce,
			cred: func(cl *Client) string {
				c := pick(t, v.Challenge("elsewhere", false), SHA256)
				c.Realm = realm
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "wrong uri", uri: "sip:+4930999@sbc.trunkline.test;transport=udp", want: ErrURI,
			cred: func(cl *Client) string { return answer(t, cl, sha(), "INVITE", ruri, "alice", "wonderland") }},
		{name: "wrong method", method: "BYE", want: ErrResponse,
			cred: func(cl *Client) string { return answer(t, cl, sha(), "INVITE", ruri, "alice", "wonderland") }},
		{name: "tampered nonce", want: ErrNonce,
			cred: func(cl *Client) string {
				c := sha()
				b := []byte(c.Nonce)
				b[3] ^= 1
				c.Nonce = string(b)
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "truncated nonce", want: ErrNonce,
			cred: func(cl *Client) string {
				c := sha()
				c.Nonce = c.Nonce[:len(c.Nonce)-1]
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "nonce of another verifier", want: ErrNonce,
			cred: func(cl *Client) string {
				return answer(t, cl, pick(t, other.Challenge(realm, false), SHA256), "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "unknown algorithm", want: ErrAlgorithm,
			cred: func(cl *Client) string {
				c := sha()
				c.Algorithm = SHA512256
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "sess algorithm not offered", want: ErrAlgorithm,
			cred: func(cl *Client) string {
				c := sha()
				c.Algorithm = SHA256Sess
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "algorithm nobody knows", want: ErrAlgorithm,
			cred: func(cl *Client) string {
				cr, _ := ParseCredentials(answer(t, cl, sha(), "INVITE", ruri, "alice", "wonderland"))
				cr.Algorithm = "SHA-1"
				return cr.String()
			}},
		{name: "qop auth-int", want: ErrQOP,
			cred: func(cl *Client) string {
				c := sha()
				c.QOP = []string{"auth-int"}
				return answer(t, cl, c, "INVITE", ruri, "alice", "wonderland")
			}},
		{name: "nc zero", want: ErrReplay,
			cred: func(cl *Client) string {
				cr, _ := ParseCredentials(answer(t, cl, sha(), "INVITE", ruri, "alice", "wonderland"))
				cr.NC = "00000000"
				return cr.String()
			}},
		{name: "response truncated", want: ErrResponse,
			cred: func(cl *Client) string {
				cr, _ := ParseCredentials(answer(t, cl, sha(), "INVITE", ruri, "alice", "wonderland"))
				cr.Response = cr.Response[:32]
				return cr.String()
			}},
		{name: "response too long", want: ErrResponse,
			cred: func(cl *Client) string {
				cr, _ := ParseCredentials(answer(t, cl, sha(), "INVITE", ruri, "alice", "wonderland"))
				cr.Response += "00"
				return cr.String()
			}},
		{name: "basic", want: ErrMalformed, cred: func(*Client) string { return "Basic YWxpY2U6d29uZGVybGFuZA==" }},
		{name: "empty", want: ErrMalformed, cred: func(*Client) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, uri := tt.method, tt.uri
			if method == "" {
				method = "INVITE"
			}
			if uri == "" {
				uri = ruri
			}
			var cl Client
			user, res, err := v.Verify(method, uri, tt.cred(&cl), lookup)
			if user != "" || res != Fail || !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %q, %v, %v; want fail with %v", user, res, err, tt.want)
			}
		})
	}

	t.Run("no qop when required", func(t *testing.T) {
		v, _ := newVerifier(t, Options{RequireQOP: true})
		c := pick(t, v.Challenge(realm, false), SHA256)
		c.QOP = nil
		var cl Client
		if user, res, err := v.Verify("INVITE", ruri, answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland"), lookup); res != Fail || !errors.Is(err, ErrQOP) {
			t.Fatalf("Verify = %q, %v, %v", user, res, err)
		}
	})
	t.Run("MD5 when only SHA-256 offered", func(t *testing.T) {
		v, _ := newVerifier(t, Options{Algorithms: []Algorithm{SHA256}})
		c := pick(t, v.Challenge(realm, false), SHA256)
		c.Algorithm = ""
		var cl Client
		if user, res, err := v.Verify("INVITE", ruri, answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland"), lookup); res != Fail || !errors.Is(err, ErrAlgorithm) {
			t.Fatalf("Verify = %q, %v, %v", user, res, err)
		}
	})
}

// TestVerifyLenient: what a re-serialisation of the URI changes, an
// upper-case response and an absent algorithm (MD5) are taken.
func TestVerifyLenient(t *testing.T) {
	v, _ := newVerifier(t, Options{})
	var cl Client
	tests := []struct {
		name     string
		cred     func() string
		reqURI   string
		wantUser string
	}{
		{"uri re-serialised", func() string {
			return answer(t, &cl, pick(t, v.Challenge(realm, false), SHA256), "INVITE", "SIP:+4930123@SBC.trunkline.test;Transport=UDP", "alice", "wonderland")
		}, ruri, "alice"},
		{"upper-case response", func() string {
			cr, _ := ParseCredentials(answer(t, &cl, pick(t, v.Challenge(realm, false), SHA256), "INVITE", ruri, "alice", "wonderland"))
			cr.Response = strings.ToUpper(cr.Response)
			return cr.String()
		}, ruri, "alice"},
		{"no algorithm is MD5", func() string {
			c := pick(t, v.Challenge(realm, false), MD5)
			c.Algorithm = ""
			return answer(t, &cl, c, "INVITE", ruri, "bob", "b0b!")
		}, ruri, "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if user, res, err := v.Verify("INVITE", tt.reqURI, tt.cred(), lookup); user != tt.wantUser || res != OK {
				t.Fatalf("Verify = %q, %v, %v", user, res, err)
			}
		})
	}
}

func TestSameURI(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"sip:a@b", "sip:a@b", true},
		{"SIP:a@B", "sip:a@b", true},
		{"sip:a@b;x=1;Y=2", "sip:a@b;y=2;x=1", true},
		{"sip:a@b:5060", "sip:a@b:5060", true},
		{"sip:A@b", "sip:a@b", false},
		{"sip:a@b", "sips:a@b", false},
		{"sip:a@b", "sip:a@b:5060", false},
		{"sip:a@b;x=1", "sip:a@b", false},
		{"sip:a@b;x=1;x=1", "sip:a@b;x=1;y=1", false},
		{"sip:a@b?h=1", "sip:a@b?h=2", false},
		{"sip:b", "sip:a@b", false},
		{"/dir", "sip:a@b", false},
		{"", "sip:a@b", false},
		{manyParams(false), manyParams(true), false}, // past the bound
	}
	for _, tt := range tests {
		if got := sameURI(tt.a, tt.b); got != tt.want {
			t.Errorf("sameURI(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

// manyParams returns a URI with 40 parameters, in reverse when asked.
func manyParams(reverse bool) string {
	uri := "sip:a@b"
	for i := range 40 {
		if reverse {
			i = 39 - i
		}
		uri += fmt.Sprintf(";p%02d", i)
	}
	return uri
}

func TestVerifyStale(t *testing.T) {
	v, clk := newVerifier(t, Options{Lifetime: time.Minute})
	var cl Client
	c := pick(t, v.Challenge(realm, false), SHA256)
	clk.Add(time.Minute)
	if user, res, err := v.Verify("INVITE", ruri, answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland"), lookup); res != OK {
		t.Fatalf("at the lifetime: %q, %v, %v", user, res, err)
	}
	clk.Add(time.Nanosecond)
	user, res, err := v.Verify("INVITE", ruri, answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland"), lookup)
	if user != "alice" || res != Stale || !errors.Is(err, ErrStale) {
		t.Fatalf("past the lifetime: %q, %v, %v; want alice, stale", user, res, err)
	}
	// Stale only with the right password: otherwise Fail.
	if user, res, err := v.Verify("INVITE", ruri, answer(t, &cl, c, "INVITE", ruri, "alice", "guess"), lookup); user != "" || res != Fail {
		t.Fatalf("past the lifetime, wrong password: %q, %v, %v", user, res, err)
	}
	// The expired nonce left the replay table.
	v.mu.Lock()
	n := len(v.seen)
	v.mu.Unlock()
	if n != 0 {
		t.Errorf("%d nonces remembered after expiry", n)
	}
	// A stale challenge and its answer: OK.
	c = pick(t, v.Challenge(realm, true), SHA256)
	if user, res, err := v.Verify("INVITE", ruri, answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland"), lookup); res != OK {
		t.Fatalf("after re-challenge: %q, %v, %v", user, res, err)
	}
}

// TestVerifyClockBack: a clock stepping back does not bring expired
// nonces back to life.
func TestVerifyClockBack(t *testing.T) {
	v, clk := newVerifier(t, Options{Lifetime: time.Minute})
	var cl Client
	c := pick(t, v.Challenge(realm, false), SHA256)
	first := answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")
	if _, res, err := v.Verify("INVITE", ruri, first, lookup); res != OK {
		t.Fatal(res, err)
	}
	clk.Add(2 * time.Minute)
	if _, res, _ := v.Verify("INVITE", ruri, first, lookup); res != Stale {
		t.Fatalf("replay after expiry: %v, want stale", res)
	}
	clk.Add(-2 * time.Minute)
	if _, res, _ := v.Verify("INVITE", ruri, first, lookup); res == OK {
		t.Fatalf("replay after the clock stepped back: %v", res)
	}
}

func TestVerifyReplay(t *testing.T) {
	v, _ := newVerifier(t, Options{})
	verify := func(cred string) (Result, error) {
		_, res, err := v.Verify("INVITE", ruri, cred, lookup)
		return res, err
	}
	t.Run("same nc twice", func(t *testing.T) {
		var cl Client
		cred := answer(t, &cl, pick(t, v.Challenge(realm, false), SHA256), "INVITE", ruri, "alice", "wonderland")
		if res, err := verify(cred); res != OK {
			t.Fatal(res, err)
		}
		if res, err := verify(cred); res != Fail || !errors.Is(err, ErrReplay) {
			t.Fatalf("replay: %v, %v", res, err)
		}
	})
	t.Run("nc out of order within the window", func(t *testing.T) {
		var cl Client
		c := pick(t, v.Challenge(realm, false), SHA256)
		var creds []string
		for range 70 {
			creds = append(creds, answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland"))
		}
		steps := []struct {
			nc   int // 1-based
			want Result
		}{
			{3, OK}, {1, OK}, {2, OK}, {2, Fail}, {3, Fail}, {1, Fail},
			{66, OK}, {4, OK}, {3, Fail}, {2, Fail}, // 4 is 62 below 66: in; 2, 64 below: out
			{70, OK}, {66, Fail}, {69, OK}, {69, Fail}, {7, OK}, {6, Fail},
		}
		for _, s := range steps {
			if res, err := verify(creds[s.nc-1]); res != s.want {
				t.Fatalf("nc %d: %v, %v; want %v", s.nc, res, err, s.want)
			}
		}
	})
	t.Run("no qop: nonce single use", func(t *testing.T) {
		var cl Client
		c := pick(t, v.Challenge(realm, false), MD5)
		c.QOP = nil
		if res, err := verify(answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")); res != OK {
			t.Fatal(res, err)
		}
		if res, err := verify(answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")); res != Fail || !errors.Is(err, ErrReplay) {
			t.Fatalf("second use: %v, %v", res, err)
		}
		// Nor with qop after.
		c.QOP = []string{"auth"}
		if res, err := verify(answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")); res != Fail || !errors.Is(err, ErrReplay) {
			t.Fatalf("qop after no qop: %v, %v", res, err)
		}
	})
	t.Run("qop then no qop", func(t *testing.T) {
		var cl Client
		c := pick(t, v.Challenge(realm, false), MD5)
		if res, err := verify(answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")); res != OK {
			t.Fatal(res, err)
		}
		c.QOP = nil
		if res, err := verify(answer(t, &cl, c, "INVITE", ruri, "alice", "wonderland")); res != Fail || !errors.Is(err, ErrReplay) {
			t.Fatalf("no qop after qop: %v, %v", res, err)
		}
	})
}

// TestVerifyTableBound: the replay table never holds more than MaxNonces;
// a nonce it had to forget, and any nonce issued before it, is Stale, never
// OK again.
func TestVerifyTableBound(t *testing.T) {
	v, clk := newVerifier(t, Options{MaxNonces: 3})
	var cl Client
	var first []string
	unused := pick(t, v.Challenge(realm, false), SHA256) // issued first, answered last
	for i := range 10 {
		clk.Add(time.Second)
		cred := answer(t, &cl, pick(t, v.Challenge(realm, false), SHA256), "INVITE", ruri, "alice", "wonderland")
		if _, res, err := v.Verify("INVITE", ruri, cred, lookup); res != OK {
			t.Fatalf("nonce %d: %v, %v", i, res, err)
		}
		first = append(first, cred)
		v.mu.Lock()
		n, h := len(v.seen), len(v.byAge)
		v.mu.Unlock()
		if n > 3 || n != h {
			t.Fatalf("after %d nonces: table %d, heap %d", i+1, n, h)
		}
	}
	for i, cred := range first[:7] {
		if _, res, err := v.Verify("INVITE", ruri, cred, lookup); res != Stale {
			t.Errorf("replay of forgotten nonce %d: %v, %v; want stale", i, res, err)
		}
	}
	for i, cred := range first[7:] {
		if _, res, err := v.Verify("INVITE", ruri, cred, lookup); res != Fail || !errors.Is(err, ErrReplay) {
			t.Errorf("replay of remembered nonce %d: %v, %v; want fail", i+7, res, err)
		}
	}
	if _, res, err := v.Verify("INVITE", ruri, answer(t, &cl, unused, "INVITE", ruri, "alice", "wonderland"), lookup); res != Stale {
		t.Errorf("unused nonce issued before the floor: %v, %v; want stale", res, err)
	}
}

// TestVerifyConcurrent: run under -race. Each goroutine answers its own
// nonce many times; all goroutines also race to use one credential, which
// exactly one of them may.
func TestVerifyConcurrent(t *testing.T) {
	v, _ := newVerifier(t, Options{})
	var cl Client // shared: its counts are concurrent too
	shared := answer(t, &cl, pick(t, v.Challenge(realm, false), SHA256), "INVITE", ruri, "alice", "wonderland")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			alg, user, pass := SHA256, "alice", "wonderland"
			if g%2 == 1 {
				alg, user, pass = MD5, "bob", "b0b!"
			}
			c := pick(t, v.Challenge(realm, false), alg)
			for i := range 50 {
				cred, err := cl.Answer(c.String(), "INVITE", ruri, user, pass, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if got, res, err := v.Verify("INVITE", ruri, cred, lookup); got != user || res != OK {
					t.Errorf("goroutine %d, request %d: %q, %v, %v", g, i, got, res, err)
					return
				}
				if _, res, _ := v.Verify("INVITE", ruri, cred, lookup); res != Fail {
					t.Errorf("goroutine %d, replay %d: %v", g, i, res)
					return
				}
			}
			if _, res, _ := v.Verify("INVITE", ruri, shared, lookup); res == OK {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("the shared credential was taken %d times, want once", n)
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []Algorithm{SHA256, MD5} {
		b.Run(string(alg), func(b *testing.B) {
			v, _ := newVerifier(b, Options{})
			var cl Client
			// A batch of distinct credentials, verified in turn; between
			// batches the replay table is emptied, off the clock.
			creds := make([]string, 1024)
			for i := range creds {
				creds[i] = answer(b, &cl, pick(b, v.Challenge(realm, false), alg), "INVITE", ruri, "alice", "wonderland")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % len(creds)
				if j == 0 && i > 0 {
					b.StopTimer()
					v.mu.Lock()
					clear(v.seen)
					v.byAge = v.byAge[:0]
					v.mu.Unlock()
					b.StartTimer()
				}
				if _, res, err := v.Verify("INVITE", ruri, creds[j], lookup); res != OK {
					b.Fatal(res, err)
				}
			}
		})
	}
	b.Run("fail", func(b *testing.B) {
		v, _ := newVerifier(b, Options{})
		var cl Client
		cred := answer(b, &cl, pick(b, v.Challenge(realm, false), SHA256), "INVITE", ruri, "alice", "guess")
		b.ReportAllocs()
		for b.Loop() {
			if _, res, _ := v.Verify("INVITE", ruri, cred, lookup); res != Fail {
				b.Fatal(res)
			}
		}
	})
}

func BenchmarkChallenge(b *testing.B) {
	v, _ := newVerifier(b, Options{})
	b.ReportAllocs()
	for b.Loop() {
		v.Challenge(realm, false)
	}
}

func BenchmarkParseCredentials(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCredentials(credentialSeeds[1]); err != nil {
			b.Fatal(err)
		}
	}
}
