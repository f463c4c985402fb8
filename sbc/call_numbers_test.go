package sbc

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/config"
)

// internationalYAML: the caller trunk pbx (127.0.0.1) and carrier-dom, a
// destination trunk that does not allow international calls, which route
// "any" sends every call to.
const internationalYAML = `
node: {id: test}
sip:
  listen: ["udp://127.0.0.1:0"]
media: {rtpPorts: "26000-26099"}
sipTrunks:
  - {id: pbx, type: STATIC, sourceHosts: ["127.0.0.1/32"], internationalCallsAllowed: %s}
  - {id: carrier-dom, type: STATIC, destinationHosts: [%q], internationalCallsAllowed: false}
routes:
  - id: any
    criteria: [{to: ".*"}]
    destinations:
      - {type: ENDPOINT, value: {type: SIP, sipTrunkId: carrier-dom}}
`

// internationalCallsAllowed: false refuses, with 403, an inbound call whose
// from and to country codes differ; on a destination trunk the attempt is
// skipped (with nothing else to try, the caller gets that 403). Calls
// within one country, or from an extension, go through.
func TestInternationalCallsAllowed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inbound  string // pbx's internationalCallsAllowed
		from, to string
		refused  bool
	}{
		{"inbound refused", "false", "447700900123", "4930123456", true},
		{"outbound skipped", "true", "+447700900123", "+4930123456", true},
		{"domestic passes", "false", "447700900123", "442079460000", false},
		{"extension passes", "false", "1000", "4930123456", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := udpPeer(t, "127.0.0.2") // carrier-dom
			cfg, err := config.Parse("numbers.yaml", []byte(fmt.Sprintf(internationalYAML, tc.inbound, sink.LocalAddr().String())))
			if err != nil {
				t.Fatal(err)
			}
			s := startServerWith(t, cfg, func(s *Server) { s.rerouteDelay = 200 * time.Millisecond })
			caller := udpPeer(t, "127.0.0.1")
			inv := rawRequest("INVITE", caller.LocalAddr(), "UDP",
				"INVITE sip:"+tc.to+"@127.0.0.1 SIP/2.0",
				"From: <sip:"+tc.from+"@127.0.0.1>;tag=intl",
				"To: <sip:"+tc.to+"@127.0.0.1>",
				fmt.Sprintf("Contact: <sip:caller@%s>", caller.LocalAddr()))
			res := udpExchange(t, caller, addr(t, s, "udp"), inv)
			got := readInvite(t, sink)
			switch {
			case tc.refused && res.StatusCode != 403:
				t.Errorf("caller got %d %s, want 403", res.StatusCode, res.Reason)
			case tc.refused && got != nil:
				t.Errorf("carrier-dom got an INVITE for %s → %s", tc.from, tc.to)
			case !tc.refused && got == nil:
				t.Errorf("carrier-dom got no INVITE (caller got %d %s)", res.StatusCode, res.Reason)
			}
		})
	}
}

// readInvite returns the first INVITE a raw peer received, nil when it got
// none. The exchange with the caller is over by then, so whatever the
// server sent is queued.
func readInvite(t *testing.T, c *net.UDPConn) *sip.Request {
	t.Helper()
	buf := make([]byte, 65535)
	c.SetReadDeadline(time.Now().Add(silenceWithin))
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return nil
		}
		if strings.HasPrefix(string(buf[:n]), "INVITE ") {
			msg, err := sip.ParseMessage(buf[:n])
			if err != nil {
				t.Fatal(err)
			}
			return msg.(*sip.Request)
		}
	}
}

// Numbers are held as E.164 digits inside and written per each trunk's
// numberFormat on the way out: a trunk with INTERNATIONAL gets them with a
// '+' in the R-URI, To and From users.
func TestCallNumberFormats(t *testing.T) {
	r := newCallRig(t, "", "")
	cfg := r.s.Config().Clone()
	for i := range cfg.SIPTrunks {
		switch cfg.SIPTrunks[i].ID {
		case "pbx":
			cfg.SIPTrunks[i].NumberFormat = config.FormatInternational
		case "carrier-1":
			cfg.SIPTrunks[i].NumberFormat = config.FormatInternational
		}
	}
	if err := r.s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	oc := r.caller.invite(r.to, "+"+called, r.caller.sdp())
	in := r.c1.nextInvite()
	if got, want := in.req.Recipient.User, "+"+called; got != want {
		t.Errorf("R-URI user %q, want %q", got, want)
	}
	if got, want := in.req.To().Address.User, "+"+called; got != want {
		t.Errorf("To user %q, want %q", got, want)
	}
	if got := in.req.From().Address.User; !strings.HasPrefix(got, "+") {
		t.Errorf("From user %q, want a '+' number", got)
	}
	in.respond(486, "Busy Here", nil)
	if res := oc.final(); res.StatusCode != 486 {
		t.Fatalf("got %d, want 486", res.StatusCode)
	}
}
