package sbc

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/trunkline/trunkline/config"
)

// trunks builds a configuration from "id:TYPE:host,host" entries.
func trunks(entries ...string) *config.Config {
	cfg := &config.Config{}
	for _, e := range entries {
		parts := strings.SplitN(e, ":", 3)
		tr := config.SIPTrunk{ID: parts[0], Type: parts[1]}
		if len(parts) == 3 && parts[2] != "" {
			tr.SourceHosts = strings.Split(parts[2], ",")
		}
		cfg.SIPTrunks = append(cfg.SIPTrunks, tr)
	}
	return cfg
}

func TestSourceTableIdentify(t *testing.T) {
	cfg := trunks(
		"wide:STATIC:198.51.100.0/24",
		"narrow:STATIC:198.51.100.7",
		"dup:STATIC:198.51.100.0/24", // same prefix as wide: wide is first
		"odd:STATIC:203.0.113.77/28", // not masked as written
		"v6:STATIC:2001:db8::/32,::ffff:192.0.2.0/120",
		"reg:REGISTERED:192.0.2.128/25",
	)
	tab, err := newSourceTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr string
		want string // trunk id; "" = unknown
	}{
		{"198.51.100.1", "wide"},
		{"198.51.100.7", "narrow"}, // most specific wins over config order
		{"198.51.100.255", "wide"},
		{"198.51.101.1", ""},
		{"203.0.113.64", "odd"},
		{"203.0.113.79", "odd"},
		{"203.0.113.80", ""},
		{"2001:db8::1", "v6"},
		{"2001:db9::1", ""},
		{"::ffff:198.51.100.7", "narrow"}, // mapped source is its IPv4 form
		{"192.0.2.9", "v6"},               // mapped prefix is its IPv4 form
		{"192.0.2.200", ""},               // a REGISTERED trunk is not identified by source
		{"127.0.0.1", ""},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			got := ""
			if tr := tab.identify(netip.MustParseAddr(c.addr)); tr != nil {
				got = tr.ID
			}
			if got != c.want {
				t.Fatalf("identify(%s) = %q, want %q", c.addr, got, c.want)
			}
		})
	}
	if tr := tab.identify(netip.Addr{}); tr != nil {
		t.Fatalf("identify(zero Addr) = %q, want nil", tr.ID)
	}
}

func TestSourceTableUnknownSource(t *testing.T) {
	cases := []struct {
		name string
		cfg  *config.Config
		addr string
		want bool
	}{
		{"no trunks", trunks(), "192.0.2.1", true},
		{"static owner", trunks("a:STATIC:192.0.2.0/24"), "192.0.2.1", false},
		{"no owner", trunks("a:STATIC:192.0.2.0/24"), "198.51.100.1", true},
		// A credential trunk's sources are not unknown: the peer may
		// authenticate.
		{"credential trunk sources", trunks("r:AUTHENTICATED:198.51.100.0/24"), "198.51.100.1", false},
		// A credential trunk without sources lets any address authenticate.
		{"open credentials", trunks("a:STATIC:192.0.2.0/24", "r:REGISTERED"), "198.51.100.1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := newSourceTable(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := tab.unknownSource(netip.MustParseAddr(c.addr)); got != c.want {
				t.Fatalf("unknownSource(%s) = %v, want %v", c.addr, got, c.want)
			}
		})
	}
}

func TestSourceTableRefusesBadHost(t *testing.T) {
	for _, h := range []string{"pbx.example.com", "192.0.2.0/33", "::ffff:192.0.2.0/90"} {
		_, err := newSourceTable(trunks("a:STATIC:" + h))
		if err == nil || !strings.Contains(err.Error(), "sipTrunks[0].sourceHosts[0]") {
			t.Errorf("newSourceTable(%q) error = %v, want one naming sipTrunks[0].sourceHosts[0]", h, err)
		}
	}
}

func BenchmarkSourceTableIdentify(b *testing.B) {
	var entries []string
	for i := range 1000 {
		entries = append(entries, fmt.Sprintf("t%d:STATIC:10.%d.%d.0/28", i, i/250, i%250))
	}
	entries = append(entries, "host:STATIC:10.0.0.5", "wide:STATIC:10.0.0.0/8")
	tab, err := newSourceTable(trunks(entries...))
	if err != nil {
		b.Fatal(err)
	}
	addr := netip.MustParseAddr("10.3.17.9")
	b.ReportAllocs()
	for b.Loop() {
		if tab.identify(addr) == nil {
			b.Fatal("not identified")
		}
	}
}

func TestSourceTableBySource(t *testing.T) {
	cfg := trunks(
		"wide:STATIC:198.51.100.0/24",
		"tenant-a:STATIC:198.51.100.7",
		"tenant-b:STATIC:198.51.100.7",
		"auth:AUTHENTICATED:198.51.100.9",
		"both:STATIC:198.51.100.10",
		"code-only:STATIC",
		"open:REGISTERED",
	)
	cfg.SIPTrunks[1].AccessCode = "code-a"
	cfg.SIPTrunks[2].AccessCode = "code-b"
	cfg.SIPTrunks[3].InboundAuth = &config.Credentials{Username: "auth", Password: "p"}
	cfg.SIPTrunks[4].InboundAuth = &config.Credentials{Username: "both", Password: "p"} // STATIC with sources and credentials: both
	cfg.SIPTrunks[5].AccessCode = "only"
	cfg.SIPTrunks[6].InboundAuth = &config.Credentials{Username: "open", Password: "p"}
	tab, err := newSourceTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := func(tr *config.SIPTrunk) string {
		if tr == nil {
			return ""
		}
		return tr.ID
	}
	cases := []struct {
		addr, code         string
		static, credential string
	}{
		{"198.51.100.1", "", "wide", ""},
		{"198.51.100.7", "", "tenant-a", ""},       // the first listed; the call path then wants its code
		{"198.51.100.7", "code-b", "tenant-b", ""}, // the code picks between trunks sharing the source
		{"198.51.100.7", "code-x", "tenant-a", ""},
		{"198.51.100.1", "code-b", "wide", ""}, // a code does not take another source's trunk
		{"198.51.100.9", "", "", "auth"},       // more specific than wide: must authenticate
		{"198.51.100.10", "", "", "both"},
		{"203.0.113.1", "", "", ""},
	}
	for _, c := range cases {
		static, credential := tab.bySource(netip.MustParseAddr(c.addr), c.code)
		if id(static) != c.static || id(credential) != c.credential {
			t.Errorf("bySource(%s, %q) = %q, %q; want %q, %q", c.addr, c.code, id(static), id(credential), c.static, c.credential)
		}
	}
	if tr := tab.byAccessCode("only"); id(tr) != "code-only" {
		t.Errorf("byAccessCode(only) = %q", id(tr))
	}
	for _, code := range []string{"", "onl", "only ", "code-a"} {
		if tr := tab.byAccessCode(code); tr != nil {
			t.Errorf("byAccessCode(%q) = %q, want nil", code, tr.ID)
		}
	}
	for user, want := range map[string]string{"auth": "auth", "both": "both", "open": "open"} {
		c := tab.byUser[user]
		if c == nil || c.trunk.ID != want {
			t.Errorf("byUser[%q] = %v, want %s", user, c, want)
		}
	}
	if c := tab.byUser["both"]; c.admits(netip.MustParseAddr("198.51.100.11")) || !c.admits(netip.MustParseAddr("198.51.100.10")) {
		t.Error("trunk both admits credentials from the wrong sources")
	}
	if c := tab.byUser["open"]; !c.admits(netip.MustParseAddr("203.0.113.1")) {
		t.Error("trunk open refuses credentials from an unlisted source")
	}
	if !tab.openCredentials {
		t.Error("a REGISTERED trunk without sourceHosts does not open credentials")
	}
}

func TestSourceTableDuplicateUsername(t *testing.T) {
	cfg := trunks("first:AUTHENTICATED", "second:REGISTERED")
	cfg.SIPTrunks[0].InboundAuth = &config.Credentials{Username: "pbx", Password: "a"}
	cfg.SIPTrunks[1].InboundAuth = &config.Credentials{Username: "pbx", Password: "b"}
	tab, err := newSourceTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c := tab.byUser["pbx"]; c == nil || c.trunk.ID != "first" {
		t.Fatalf("byUser[pbx] = %v, want the first in config order", c)
	}
}

func TestSourceTableUnknownWithAccessCodes(t *testing.T) {
	cfg := trunks("a:STATIC:192.0.2.0/24", "coded:STATIC")
	cfg.SIPTrunks[1].AccessCode = "c"
	tab, err := newSourceTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A trunk known by its code alone may send from any address.
	if tab.unknownSource(netip.MustParseAddr("198.51.100.1")) {
		t.Error("an address is unknown although an access code may identify it")
	}
}
