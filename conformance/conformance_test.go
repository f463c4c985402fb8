package conformance

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	directFlag = flag.Bool("direct", false,
		"run each scenario's SIPp UAC straight against its SIPp UAS partners, without trunkline, "+
			"to validate the scenarios themselves (also CONFORMANCE_DIRECT=1)")
	ladderFlag = flag.Bool("ladder", false,
		"log every scenario's SIP ladder and RTP counts, not only a failed one's")
	trunklineFlag = flag.String("trunkline", "",
		"run this trunkline binary instead of building ./cmd/trunkline (also CONFORMANCE_TRUNKLINE)")
)

// suite is what TestMain prepares once for every scenario: the binaries
// and where the scenario files are. err says why the suite cannot run; each
// test then fails with it.
var suite struct {
	sipp      string
	trunkline string
	scenarios string
	err       error
}

func TestMain(m *testing.M) {
	flag.Parse()
	tmp, err := os.MkdirTemp("", "trunkline-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	suite.err = prepare(tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	if os.Getenv("CONFORMANCE_PORTS") != "" {
		fmt.Fprintf(os.Stderr, "conformance: ports handed out up to %d (wrapped %d times)\n", ports.next, ports.wraps)
	}
	if code == 0 {
		// Every probe, sink and process watcher must have ended with its
		// test (STYLE: every goroutine has an owner and an end).
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "conformance: goroutines left behind: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// prepare finds SIPp and the scenarios, checks that SIPp can play RTP, and
// builds trunkline into tmp (once for all scenarios).
func prepare(tmp string) error {
	var err error
	if suite.scenarios, err = filepath.Abs("scenarios"); err != nil {
		return err
	}
	if suite.sipp, err = exec.LookPath("sipp"); err != nil {
		return errors.New("sipp is not installed: `make test` installs it (its deps target runs " +
			"apt-get install sip-tester); by hand: apt-get install sip-tester")
	}
	out, _ := exec.Command(suite.sipp, "-v").CombinedOutput()
	if !strings.Contains(string(out), "PCAP") {
		return fmt.Errorf("%s has no PCAP play support (play_pcap_audio), which the media scenarios need; "+
			"Debian's sip-tester has it: `make test` installs it. sipp -v says: %s",
			suite.sipp, strings.TrimSpace(string(out)))
	}
	// play_pcap_audio sends through a raw socket.
	if fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_UDP); err != nil {
		return fmt.Errorf("SIPp's play_pcap_audio needs a raw socket, which this user cannot open (%v): "+
			"run the tests as root, or setcap cap_net_raw+ep %s", err, suite.sipp)
	} else {
		syscall.Close(fd)
	}
	if bin := firstNonEmpty(*trunklineFlag, os.Getenv("CONFORMANCE_TRUNKLINE")); bin != "" {
		suite.trunkline, err = filepath.Abs(bin)
		return err
	}
	return buildTrunkline(tmp)
}

// buildTrunkline runs `go build ./cmd/trunkline` at the module root, with
// the race detector when the tests have it, so that a data race on the call
// path makes trunkline exit non-zero.
func buildTrunkline(tmp string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	gomod, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	suite.trunkline = filepath.Join(tmp, "trunkline")
	args := []string{"build", "-o", suite.trunkline}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, "./cmd/trunkline")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s ./cmd/trunkline: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func requireSuite(t *testing.T) {
	t.Helper()
	if suite.err != nil {
		t.Fatal(suite.err)
	}
}

func directMode() bool { return *directFlag || os.Getenv("CONFORMANCE_DIRECT") == "1" }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// scenarioDir is the directory of the scenario files.
func scenarioDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// workDir is where a scenario run keeps its files (config, logs, SIPp
// traces): t.ArtifactDir(), so that `go test -artifacts -outputdir DIR`
// keeps them.
func workDir(t *testing.T) string {
	t.Helper()
	return t.ArtifactDir()
}

// keepingArtifacts reports whether go test was asked to keep artifacts.
func keepingArtifacts() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

// TestConformance runs every scenario (scenarios_test.go) as a subtest:
// through a fresh `trunkline serve` with its own SIPp callees, or, with
// -direct, as SIPp UAC/UAS pairs without trunkline.
func TestConformance(t *testing.T) {
	requireSuite(t)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			if directMode() {
				runDirect(t, sc)
			} else {
				runThrough(t, sc)
			}
		})
	}
}

// outcome is everything one run of a scenario (or of one direct pair)
// produced, for the assertions.
type outcome struct {
	direct    bool
	calls     []*sippRun
	wants     []call
	callees   []*calleeRun
	appliance *appliance         // nil in direct mode
	metrics   map[string]float64 // GET /metrics once the calls ended; nil in direct mode
	idle      bool               // trunkline_calls_active came back to 0
	metricErr error
}

// calleeRun is one callee trunk of a run: a SIPp UAS, or a sink.
type calleeRun struct {
	spec      callee
	id        string // trunk id
	ip        string
	port      int
	transport string
	sipp      *sippRun
	sink      *sipSink
	sinkGot   []string
}

func (o *outcome) runs() []*sippRun {
	var rs []*sippRun
	rs = append(rs, o.calls...)
	for _, c := range o.callees {
		if c.sipp != nil {
			rs = append(rs, c.sipp)
		}
	}
	return rs
}

// routed reports whether some callee received an INVITE.
func (o *outcome) routed() bool {
	for _, c := range o.callees {
		if c.sipp != nil && len(c.sipp.requestsReceived("INVITE")) > 0 {
			return true
		}
	}
	return false
}

// uac is the run of the i-th call.
func (o *outcome) uac(i int) *sippRun { return o.calls[i] }

// uas is the SIPp run of the i-th callee.
func (o *outcome) uas(i int) *sippRun { return o.callees[i].sipp }

// startCallee starts what stands for callee i: its SIPp UAS with an echoing
// RTP probe, or a sink.
func startCallee(t *testing.T, dir string, i int, ce callee) *calleeRun {
	t.Helper()
	cr := &calleeRun{
		spec:      ce,
		id:        "uas-" + string(rune('a'+i)),
		ip:        calleeIP(i),
		port:      ports.one(t),
		transport: ce.transportOr(),
	}
	if ce.uas == "" {
		cr.sink = newSIPSink(t, cr.ip, cr.port, cr.transport)
		return cr
	}
	r := &sippRun{
		label: cr.id, scenario: ce.uas, ip: cr.ip, port: cr.port, transport: cr.transport,
		mediaPort: ports.block(t, mediaBlock), dir: dir, pause: ce.pause,
	}
	r.probe = newRTPProbe(t, r.ip, r.mediaPort+4, true)
	startSIPp(t, r, "", ce.args)
	cr.sipp = r
	return cr
}

// runCall places one call with a SIPp UAC towards remote and waits for it.
func runCall(t *testing.T, dir, label string, c call, transport, remote string) *sippRun {
	t.Helper()
	r := &sippRun{
		label: label, scenario: c.uac, ip: c.fromOr(), port: ports.one(t), transport: transport,
		mediaPort: ports.block(t, mediaBlock), dir: dir, pause: c.pause, remote: remote,
	}
	r.probe = newRTPProbe(t, r.ip, r.mediaPort+4, false)
	startSIPp(t, r, calledNumber, c.args)
	r.finish(uacLimit + 5*time.Second)
	return r
}

// finishCallees waits for the callees after the calls: SIPp UASes end by
// themselves once their call is over (a little later when the calls
// failed: they are likely stuck), sinks are closed.
func finishCallees(o *outcome) {
	grace := 10 * time.Second
	for i, r := range o.calls {
		if !r.ok() || r.finalCode(o.wants[i].methodOr()) != o.wants[i].want {
			grace = 2 * time.Second
		}
	}
	deadline := time.Now().Add(grace)
	for _, c := range o.callees {
		if c.sipp != nil {
			c.sipp.finish(max(time.Until(deadline), 0))
		}
	}
	for _, c := range o.callees {
		if c.sink != nil {
			c.sinkGot = c.sink.close()
		}
	}
}

// runThrough runs a scenario through trunkline: its callees as trunks, its
// calls from the caller trunk (or elsewhere), then the common assertions
// and the scenario's own.
func runThrough(t *testing.T, sc scenario) {
	dir := workDir(t)
	o := &outcome{wants: sc.calls}
	defer reportOnFailure(t, sc.about, dir, o)

	for i, ce := range sc.callees {
		o.callees = append(o.callees, startCallee(t, dir, i, ce))
	}
	for _, c := range o.callees {
		if c.sipp != nil {
			c.sipp.waitListening(t)
		}
	}
	o.appliance = startAppliance(t, dir, func(a *appliance) []trunkSpec {
		var trunks []trunkSpec
		for _, c := range o.callees {
			trunks = append(trunks, trunkSpec{id: c.id, ip: c.ip, port: c.port, transport: c.transport,
				connectTimeout: c.spec.connectTimeout})
		}
		return trunks
	})
	remote := fmt.Sprintf("%s:%d", trunklineIP, o.appliance.sipPort)
	for i, c := range sc.calls {
		o.calls = append(o.calls, runCall(t, dir, callLabel(i), c, c.transportOr(), remote))
	}
	finishCallees(o)
	o.metrics, o.idle, o.metricErr = o.appliance.waitIdle()
	o.appliance.stop()

	checkCommon(t, o)
	if sc.check != nil {
		sc.check(t, o)
	}
}

// runDirect runs the scenario's direct pairs, one after the other: each
// SIPp UAC straight against its SIPp UAS, no trunkline. A pass means the
// scenario files do what they say; a failure through trunkline then points
// at trunkline.
func runDirect(t *testing.T, sc scenario) {
	if len(sc.direct) == 0 {
		t.Fatalf("scenario %s has no direct pair", sc.name)
	}
	for _, p := range sc.direct {
		t.Run(p.name, func(t *testing.T) {
			dir := workDir(t)
			o := &outcome{direct: true, wants: []call{p.call}}
			defer reportOnFailure(t, sc.about+" — direct pair "+p.name, dir, o)
			ce := p.callee
			cr := startCallee(t, dir, 0, ce)
			o.callees = []*calleeRun{cr}
			cr.sipp.waitListening(t)
			remote := fmt.Sprintf("%s:%d", cr.ip, cr.port)
			o.calls = []*sippRun{runCall(t, dir, "uac", p.call, cr.transport, remote)}
			finishCallees(o)
			checkCommon(t, o)
			if p.check != nil {
				p.check(t, o)
			}
		})
	}
}

func callLabel(i int) string {
	if i == 0 {
		return "uac"
	}
	return fmt.Sprintf("uac%d", i+1)
}

// checkCommon asserts what every scenario must show: each SIPp UAC and UAS
// ran its scenario to the end with exit code 0; each call got the final
// response it wants; no sink was reached; and, through trunkline, the
// caller saw 100 Trying first, no call stayed up, and SIGTERM ended
// trunkline with exit 0.
func checkCommon(t *testing.T, o *outcome) {
	t.Helper()
	for i, r := range o.calls {
		want := o.wants[i]
		if !r.ok() {
			t.Errorf("%s (%s) %s", r.label, r.scenario, r.status())
		}
		method := want.methodOr()
		got := r.finalCode(method)
		if got != want.want {
			t.Errorf("%s: final response to %s = %d, want %d (responses received: %v)",
				r.label, method, got, want.want, r.responseCodes(method))
		}
		// DESIGN §4.5: the caller sees 100 Trying at once, for a call that
		// is routed (one that is refused at once needs none).
		if !o.direct && method == "INVITE" && o.routed() {
			if codes := r.responseCodes("INVITE"); len(codes) > 0 && codes[0] != 100 {
				t.Errorf("%s: first response to INVITE = %d, want 100 Trying at once (DESIGN §4.5); responses: %v",
					r.label, codes[0], codes)
			}
		}
	}
	for _, c := range o.callees {
		if c.sipp != nil && !c.sipp.ok() {
			what := c.sipp.status()
			if len(c.sipp.received()) == 0 {
				what = "was never called: no SIP message reached it"
			}
			t.Errorf("%s (%s, trunk %s) %s", c.sipp.label, c.sipp.scenario, c.id, what)
		}
		if c.sink != nil && len(c.sinkGot) > 0 {
			t.Errorf("trunk %s must not be tried, but %s:%d received: %q", c.id, c.ip, c.port, c.sinkGot)
		}
	}
	if o.direct {
		return
	}
	if o.metricErr != nil {
		t.Errorf("GET /metrics: %v", o.metricErr)
	} else if !o.idle {
		t.Errorf("trunkline_calls_active = %v %s after every SIPp ended, want 0",
			o.metrics["trunkline_calls_active"], idleLimit)
	}
	a := o.appliance
	if !a.exitedOK {
		t.Errorf("trunkline serve %s, want exit 0 after a drain (DESIGN §2)", a.stopNote)
	}
	if b, err := os.ReadFile(a.proc.stderr); err == nil && strings.Contains(string(b), "WARNING: DATA RACE") {
		t.Errorf("trunkline (built with -race) reported a data race; see %s", a.proc.stderr)
	}
}

// reportOnFailure logs, when the test failed, what a person needs to see
// why: the merged SIP ladder of every SIPp, each SIPp's status and error
// log, and the end of trunkline's log.
func reportOnFailure(t *testing.T, about, dir string, o *outcome) {
	if !t.Failed() && !*ladderFlag {
		if keepingArtifacts() {
			t.Logf("files: %s", dir)
		}
		return
	}
	for _, r := range o.runs() {
		if r.msgs == nil {
			r.msgs = readMessageLog(r.file("messages"))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scenario: %s\n", about)
	fmt.Fprintf(&b, "SIP ladder (-> sent, <- received, by each SIPp):\n%s", ladder(o.runs()))
	for _, r := range o.runs() {
		if r.proc != nil {
			b.WriteString(r.report())
		}
		if r.probe != nil && (r.rtp.Packets+r.rtp.Other > 0 || *ladderFlag) {
			fmt.Fprintf(&b, "  %s RTP probe: %d RTP packets received (%d echoed), from %v\n", r.label, r.rtp.Packets, r.rtp.Echoed, r.rtp.Sources)
		}
	}
	for _, c := range o.callees {
		if c.sink != nil {
			fmt.Fprintf(&b, "%s (sink, must not be tried): received %q\n", c.id, c.sinkGot)
		}
	}
	if a := o.appliance; a != nil && a.proc != nil {
		fmt.Fprintf(&b, "trunkline log (end):\n%s\n", indent(tail(a.proc.stderr, 40), "  "))
	}
	if keepingArtifacts() {
		fmt.Fprintf(&b, "files: %s\n", dir)
	}
	t.Log("\n" + b.String())
}

// sdpMedia returns the audio address of the SDP in m (c= and m=audio).
func sdpMedia(m sipMsg) (netip.AddrPort, bool) {
	var ip netip.Addr
	port := -1
	for _, line := range strings.Split(m.Body(), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			if a, err := netip.ParseAddr(strings.TrimSpace(rest)); err == nil {
				ip = a
			}
		}
		if rest, ok := strings.CutPrefix(line, "m=audio "); ok {
			fmt.Sscanf(rest, "%d", &port)
		}
	}
	if !ip.IsValid() || port < 0 || port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, uint16(port)), true
}
