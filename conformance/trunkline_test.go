package conformance

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds of the appliance's life in a scenario.
const (
	healthzLimit = 15 * time.Second // from start to GET /healthz answering 200
	drainTimeout = 3 * time.Second  // sip.drainTimeout of the scenario's config
	stopLimit    = drainTimeout + 7*time.Second
	idleLimit    = 5 * time.Second // for trunkline_calls_active to come back to 0
	rtpPortCount = 64              // media.rtpPorts of one appliance
	calledNumber = "1001"          // what every UAC calls (-s), and what the route matches
)

// appliance is one `trunkline serve` of a scenario.
type appliance struct {
	dir      string
	sipPort  int // UDP and TCP
	apiPort  int
	rtpLow   int
	proc     *proc
	client   *http.Client
	exitedOK bool   // SIGTERM ended it with exit 0
	stopNote string // how it ended, for failure messages
	opts     applianceOpts
}

// applianceOpts are the settings of a test that departs from the
// scenarios' configuration (the zero value is theirs).
type applianceOpts struct {
	dnsServers  []string      // dns.servers; none = no dns section
	callers     []callerTrunk // the inbound-only trunks; none = trunk "caller" from callerIP
	routeTo     string        // the route's `to` criterion (a number or regex); "" = calledNumber
	scripts     []luaScript   // scripts (DESIGN §6), inline; global unless routeScript names one
	routeScript string        // the route's scriptId (one of scripts); "" = none
}

// luaScript is one entry of the configuration's scripts, inline.
type luaScript struct{ id, source string }

// callerTrunk is an inbound-only trunk: STATIC, known by its source
// address, unless typ says otherwise.
type callerTrunk struct {
	id       string
	ip       string // sourceHosts [ip/32]; "" = no sourceHosts (a credential trunk)
	cpsLimit int    // 0 = no limit
	trunkAuth
}

// trunkAuth is what a trunk of the auth tests adds to the scenarios'
// configuration (DESIGN §3; the zero value adds nothing).
type trunkAuth struct {
	typ           string       // STATIC (""), AUTHENTICATED, REGISTERED
	inboundAuth   *credentials // digest demanded of the peer
	outboundAuth  *credentials // digest answered when the trunk challenges
	accessCode    string       // required in X-Access-Code of inbound INVITEs
	international *bool        // internationalCallsAllowed; nil = not set (true)
}

// credentials is an inboundAuth or outboundAuth.
type credentials struct{ username, password string }

// typeOr is the trunk's type as configured.
func (a trunkAuth) typeOr() string { return firstNonEmpty(a.typ, "STATIC") }

// writeYAML appends the trunk's auth fields to its entry in sipTrunks.
func (a trunkAuth) writeYAML(b *strings.Builder) {
	for _, c := range []struct {
		key  string
		cred *credentials
	}{{"inboundAuth", a.inboundAuth}, {"outboundAuth", a.outboundAuth}} {
		if c.cred != nil {
			fmt.Fprintf(b, "    %s: {username: %q, password: %q}\n", c.key, c.cred.username, c.cred.password)
		}
	}
	if a.accessCode != "" {
		fmt.Fprintf(b, "    accessCode: %q\n", a.accessCode)
	}
	if a.international != nil {
		fmt.Fprintf(b, "    internationalCallsAllowed: %t\n", *a.international)
	}
}

// trunkSpec is one callee trunk of the configuration.
type trunkSpec struct {
	id             string
	ip             string
	port           int
	transport      string   // "udp" or "tcp"
	connectTimeout int      // seconds; 0 = the default (60)
	host           string   // destinationHosts entry as configured (an FQDN: RFC 3263); "" = ip:port
	sourceHosts    []string // sourceHosts; none = [ip/32]
	sipOptions     string   // sipOptions as a YAML flow mapping; "" = not polled
	trunkAuth               // typ REGISTERED: no destinationHosts (calls go to the registered contact) and no sourceHosts unless given
}

// writeConfig writes the scenario's trunkline.yaml (DESIGN §3): the caller
// trunk (or a.opts.callers), one STATIC trunk per callee, and one route for
// calledNumber that hunts the callees in order (priority 1, 2, ...).
func (a *appliance) writeConfig(t *testing.T, trunks []trunkSpec) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by the conformance runner for one scenario.
node: {id: conformance, dataDir: %q}
sip:
  listen: ["udp://%[2]s:%[3]d", "tcp://%[2]s:%[3]d"]
  advertise: %[2]s
  drainTimeout: %[4]s
media:
  rtpPorts: "%[5]d-%[6]d"
  advertise: %[2]s
api:
  listen: "%[2]s:%[7]d"
`, filepath.Join(a.dir, "data"), trunklineIP, a.sipPort, drainTimeout, a.rtpLow, a.rtpLow+rtpPortCount-1, a.apiPort)
	if len(a.opts.dnsServers) > 0 {
		fmt.Fprintf(&b, "dns:\n  servers: [%s]\n", quoteList(a.opts.dnsServers))
	}
	b.WriteString("sipTrunks:\n")
	callers := a.opts.callers
	if len(callers) == 0 {
		callers = []callerTrunk{{id: "caller", ip: callerIP}}
	}
	for _, c := range callers {
		name := "SIPp UAC"
		if c.id != "caller" {
			name += " " + c.id
		}
		fmt.Fprintf(&b, "  - id: %s\n    name: %s\n    type: %s\n", c.id, name, c.typeOr())
		if c.ip != "" {
			fmt.Fprintf(&b, "    sourceHosts: [\"%s/32\"]\n", c.ip)
		}
		if c.cpsLimit > 0 {
			fmt.Fprintf(&b, "    cpsLimit: %d\n", c.cpsLimit)
		}
		c.writeYAML(&b)
	}
	for _, tr := range trunks {
		dest := fmt.Sprintf("%s:%d", tr.ip, tr.port)
		if tr.host != "" {
			dest = tr.host
		}
		sources := tr.sourceHosts
		if len(sources) == 0 && tr.typ != "REGISTERED" {
			sources = []string{tr.ip + "/32"}
		}
		fmt.Fprintf(&b, "  - id: %s\n    name: SIPp UAS %s\n    type: %s\n", tr.id, tr.id, tr.typeOr())
		if len(sources) > 0 {
			fmt.Fprintf(&b, "    sourceHosts: [%s]\n", quoteList(sources))
		}
		if tr.typ != "REGISTERED" {
			fmt.Fprintf(&b, "    destinationHosts: [%q]\n", dest)
		}
		fmt.Fprintf(&b, "    transport: %s\n", strings.ToUpper(tr.transport))
		tr.writeYAML(&b)
		if tr.sipOptions != "" {
			fmt.Fprintf(&b, "    sipOptions: %s\n", tr.sipOptions)
		}
	}
	if len(trunks) > 0 {
		fmt.Fprintf(&b, `routes:
  - id: conformance
    name: every callee in order
    criteria: [{to: %q}]
`, firstNonEmpty(a.opts.routeTo, calledNumber))
		if a.opts.routeScript != "" {
			fmt.Fprintf(&b, "    scriptId: %s\n", a.opts.routeScript)
		}
		b.WriteString("    destinations:\n")
		for i, tr := range trunks {
			fmt.Fprintf(&b, "      - type: ENDPOINT\n        priority: %d\n", i+1)
			if tr.connectTimeout > 0 {
				fmt.Fprintf(&b, "        connectTimeout: %d\n", tr.connectTimeout)
			}
			fmt.Fprintf(&b, "        value: {type: SIP, sipTrunkId: %s}\n", tr.id)
		}
	}
	if len(a.opts.scripts) > 0 {
		b.WriteString("scripts:\n")
		for _, sc := range a.opts.scripts {
			fmt.Fprintf(&b, "  - id: %s\n    source: |\n", sc.id)
			for _, line := range strings.Split(strings.TrimRight(sc.source, "\n"), "\n") {
				b.WriteString(strings.TrimRight("      "+line, " ") + "\n")
			}
		}
	}
	path := filepath.Join(a.dir, "trunkline.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// quoteList renders strings as the items of a YAML flow sequence.
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// startAppliance allocates the appliance's ports, writes its config with
// the callee trunks, starts `trunkline serve` and waits for /healthz.
func startAppliance(t *testing.T, dir string, trunks func(*appliance) []trunkSpec) *appliance {
	t.Helper()
	return startApplianceWith(t, dir, applianceOpts{}, trunks)
}

// startApplianceWith is startAppliance with settings of the test's own.
func startApplianceWith(t *testing.T, dir string, opts applianceOpts, trunks func(*appliance) []trunkSpec) *appliance {
	t.Helper()
	a := &appliance{
		opts:    opts,
		dir:     dir,
		sipPort: ports.one(t),
		apiPort: ports.one(t),
		rtpLow:  ports.block(t, rtpPortCount),
		client:  &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	cfg := a.writeConfig(t, trunks(a))
	a.proc = startProc(t, dir, "trunkline", suite.trunkline, "serve", "--config", cfg)
	healthy := waitFor(healthzLimit, 20*time.Millisecond, func() bool {
		if a.proc.exited() {
			return true
		}
		code, _, err := a.get("/healthz")
		return err == nil && code == http.StatusOK
	})
	if a.proc.exited() {
		t.Fatalf("trunkline serve ended before it was ready (%s):\n%s\nconfig:\n%s",
			a.proc.describe(), tail(a.proc.stderr, 30), tail(cfg, 80))
	}
	if !healthy {
		t.Fatalf("GET /healthz did not answer 200 within %s:\n%s", healthzLimit, tail(a.proc.stderr, 30))
	}
	return a
}

// get fetches a path of the API.
func (a *appliance) get(path string) (int, string, error) {
	res, err := a.client.Get(fmt.Sprintf("http://%s:%d%s", trunklineIP, a.apiPort, path))
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res.StatusCode, string(body), err
}

// metrics reads GET /metrics as series name (with labels) -> value; the
// last read is kept in metrics.txt.
func (a *appliance) metrics() (map[string]float64, error) {
	code, body, err := a.get("/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", code)
	}
	os.WriteFile(filepath.Join(a.dir, "metrics.txt"), []byte(body), 0o644)
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, nil
}

// waitIdle polls /metrics until trunkline_calls_active is 0 and returns the
// last metrics read; idle is false when calls stayed up past idleLimit.
func (a *appliance) waitIdle() (m map[string]float64, idle bool, err error) {
	idle = waitFor(idleLimit, 50*time.Millisecond, func() bool {
		m, err = a.metrics()
		return err == nil && m["trunkline_calls_active"] == 0
	})
	return m, idle, err
}

// stop sends SIGTERM (DESIGN §2: drain, exit 0) and waits; past stopLimit
// the process group is killed.
func (a *appliance) stop() {
	if a.proc.exited() {
		a.stopNote = "had ended before SIGTERM: " + a.proc.describe()
		return
	}
	byItself := a.proc.stopWithin(syscall.SIGTERM, stopLimit)
	a.exitedOK = byItself && a.proc.exitCode() == 0
	switch {
	case !byItself:
		a.stopNote = fmt.Sprintf("did not exit within %s of SIGTERM (killed)", stopLimit)
	default:
		a.stopNote = "SIGTERM: " + a.proc.describe()
	}
}
