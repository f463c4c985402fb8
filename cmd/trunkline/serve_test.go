package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Bounds of the appliance tests: how long an event (a log line, an answer,
// an exit) may take, and the wait that shows an answer is not coming.
const (
	applianceEventWithin   = 10 * time.Second
	applianceSilenceWithin = 300 * time.Millisecond
)

// applianceYAML is a configuration on free loopback ports whose one trunk
// owns the sources in sourceHosts.
func applianceYAML(dir, sourceHosts string) string {
	return fmt.Sprintf(`node: {id: serve-test, dataDir: %s}
sip:
  listen: ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"]
  drainTimeout: 5s
api: {listen: "127.0.0.1:0"}
sipTrunks:
  - id: pbx-a
    name: PBX A
    sourceHosts: [%s]
    destinationHosts: ["127.0.0.1:5999"]
routes:
  - id: main
    destinations:
      - {type: ENDPOINT, value: {type: SIP, sipTrunkId: pbx-a}}
`, filepath.Join(dir, "data"), sourceHosts)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logLines is a log sink that hands each JSON line written to it, decoded,
// to a channel, and keeps the text for failure reports.
type logLines struct {
	mu      sync.Mutex
	pending []byte
	text    bytes.Buffer
	lines   chan map[string]any
}

func newLogLines() *logLines { return &logLines{lines: make(chan map[string]any, 4096)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		var rec map[string]any
		if json.Unmarshal(l.pending[:i], &rec) != nil {
			rec = map[string]any{"msg": "NOT JSON", "line": string(l.pending[:i])}
		}
		l.pending = l.pending[i+1:]
		select {
		case l.lines <- rec:
		default: // a test not reading lines must not block the logger
		}
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// await returns the next log record whose msg is msg, failing the test when
// none comes within applianceEventWithin, or when a line is not JSON.
func (l *logLines) await(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.After(applianceEventWithin)
	for {
		select {
		case rec := <-l.lines:
			if rec["msg"] == "NOT JSON" {
				t.Fatalf("log line is not JSON: %q", rec["line"])
			}
			if rec["msg"] == msg {
				return rec
			}
		case <-deadline:
			t.Fatalf("no %q log line within %v; log:\n%s", msg, applianceEventWithin, l)
		}
	}
}

// sipOptions sends an OPTIONS over UDP from 127.0.0.1 and returns the status
// line of the answer, "" when none comes within wait.
func sipOptions(t *testing.T, to string, wait time.Duration) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg := "OPTIONS sip:" + to + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-serve" + strings.ReplaceAll(local, ":", "-") + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"To: <sip:" + to + ">\r\n" +
		"From: <sip:test@" + local + ">;tag=serve\r\n" +
		"Call-ID: serve-" + local + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
	raddr, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo([]byte(msg), raddr); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, _, err := c.ReadFrom(buf)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return line
}

// applianceGet GETs an API path and returns the status and body.
func applianceGet(t *testing.T, apiAddr, path string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: applianceEventWithin, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Get("http://" + apiAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestApplianceInProcess runs serveAppliance on a file, with signals sent on
// a channel: it serves SIP and the API, keeps its configuration when a
// reload fails, takes a valid one, and drains to exit 0 on SIGTERM leaving
// no goroutine behind.
func TestApplianceInProcess(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	dir := t.TempDir()
	path := filepath.Join(dir, "trunkline.yaml")
	writeFile(t, path, applianceYAML(dir, "127.0.0.1"))

	logs := newLogLines()
	signals := make(chan os.Signal, 1)
	served := make(chan applianceAddrs, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serveAppliance(applianceArgs{configPath: path}, slog.New(slog.NewJSONHandler(logs, nil)), signals,
			func(a applianceAddrs) { served <- a })
	}()
	var addrs applianceAddrs
	select {
	case addrs = <-served:
	case code := <-exit:
		t.Fatalf("exited %d before serving; log:\n%s", code, logs)
	case <-time.After(applianceEventWithin):
		t.Fatalf("not serving within %v; log:\n%s", applianceEventWithin, logs)
	}
	api := addrs.API.String()
	var sip string
	for _, a := range addrs.SIP {
		if a.Network() == "udp" {
			sip = a.String()
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Errorf("data directory not created: %v", err)
	}

	if code, body := applianceGet(t, api, "/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("GET /healthz = %d %s", code, body)
	}
	if got := sipOptions(t, sip, applianceEventWithin); got != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS from a known source: %q", got)
	}
	for path, want := range map[string]string{
		"/calls/1/sip-trunks":              `"id":"pbx-a"`,
		"/callrouting/1/routes/main":       `"id":"main"`,
		"/calls/1/sip-trunks/pbx-a/status": `"optionsStatus":"UNKNOWN"`,
		"/cluster/1/status":                `"leader":"serve-test"`,
		"/metrics":                         `trunkline_sip_requests_total{method="OPTIONS"} 1`,
	} {
		if code, body := applianceGet(t, api, path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %s, want %s", path, code, body, want)
		}
	}

	// A broken file: logged, and the running configuration answers on.
	writeFile(t, path, "sipTrunks: [{id: pbx-a, sourceHosts: [not-an-ip]}]\n")
	signals <- syscall.SIGHUP
	rec := logs.await(t, "config reload failed: the running configuration stays")
	if !strings.Contains(fmt.Sprint(rec["error"]), "sipTrunks[0].sourceHosts[0]") {
		t.Errorf("reload error does not name the field: %v", rec["error"])
	}
	if got := sipOptions(t, sip, applianceEventWithin); got != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS after a failed reload: %q", got)
	}

	// A valid file that no longer owns 127.0.0.1: taken whole.
	writeFile(t, path, applianceYAML(dir, "192.0.2.1"))
	signals <- syscall.SIGHUP
	logs.await(t, "config reloaded")
	if got := sipOptions(t, sip, applianceEventWithin); got != "SIP/2.0 403 Forbidden" {
		t.Fatalf("OPTIONS from a source the new configuration drops: %q", got)
	}
	if code, body := applianceGet(t, api, "/calls/1/sip-trunks/pbx-a"); code != 200 || !strings.Contains(body, "192.0.2.1") {
		t.Errorf("the API does not show the reloaded trunk: %d %s", code, body)
	}

	signals <- syscall.SIGTERM
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM; log:\n%s", code, logs)
		}
	case <-time.After(applianceEventWithin):
		t.Fatalf("still running %v after SIGTERM; log:\n%s", applianceEventWithin, logs)
	}
	if got := sipOptions(t, sip, applianceSilenceWithin); got != "" {
		t.Errorf("SIP still answers after exit: %q", got)
	}
	if _, err := net.Dial("tcp", api); err == nil {
		t.Error("the API still accepts connections after exit")
	}
	goleak.VerifyNone(t, leaks)
}

func TestApplianceRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "routes: [{id: r, destinations: [{type: ENDPOINT, priority: 0, value: {type: SIP, sipTrunkId: x}}]}]\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := filepath.Join(dir, "taken.yaml")
	writeFile(t, taken, strings.Replace(applianceYAML(dir, "127.0.0.1"), "127.0.0.1:0\"}", busy.Addr().String()+"\"}", 1))
	tls := filepath.Join(dir, "tls.yaml")
	writeFile(t, tls, strings.NewReplacer(
		"sip:\n", "sip:\n  tls: {cert: tls.crt, key: tls.key}\n",
		"tcp://", "tls://",
	).Replace(applianceYAML(dir, "127.0.0.1")))

	cases := []struct {
		name string
		path string
		code int
		want string // in the log
	}{
		{"missing file", filepath.Join(dir, "none.yaml"), exitUsage, "none.yaml"},
		{"invalid file", bad, exitUsage, "routes[0].destinations[0].priority"},
		{"API address taken", taken, exitFail, "cannot start the API"},
		{"tls certificate missing", tls, exitFail, "sip.tls: open tls.crt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs := newLogLines()
			code := serveAppliance(applianceArgs{configPath: c.path}, slog.New(slog.NewJSONHandler(logs, nil)), nil, nil)
			if code != c.code || !strings.Contains(logs.String(), c.want) {
				t.Fatalf("exit %d, want %d with %q in the log:\n%s", code, c.code, c.want, logs)
			}
		})
	}
}

// TestApplianceBinary runs the real binary: `trunkline serve --config FILE`
// serves, survives a broken SIGHUP, and exits 0 on SIGTERM.
func TestApplianceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "trunkline")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "trunkline.yaml")
	writeFile(t, path, applianceYAML(dir, "127.0.0.1"))

	logs := newLogLines()
	cmd := exec.Command(bin, "serve", "--config", path)
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	var serving map[string]any
	for deadline := time.After(applianceEventWithin); serving == nil; {
		select {
		case rec := <-logs.lines:
			if rec["msg"] == "serving" {
				serving = rec
			}
		case err := <-exited:
			t.Fatalf("exited (%v) before serving; output:\n%s", err, logs)
		case <-deadline:
			t.Fatalf("not serving within %v; output:\n%s", applianceEventWithin, logs)
		}
	}
	api, _ := serving["api"].(string)
	var sip string
	for _, l := range serving["sip"].([]any) {
		if s, _ := l.(string); strings.HasPrefix(s, "udp://") {
			sip = strings.TrimPrefix(s, "udp://")
		}
	}

	// Ready is set before "serving" is logged, so the first answer counts;
	// the loop only bounds a slow first connection.
	healthy := false
	for i := 0; i < 50 && !healthy; i++ {
		code, _ := applianceGet(t, api, "/healthz")
		healthy = code == 200
	}
	if !healthy {
		t.Fatalf("GET /healthz never answered 200; output:\n%s", logs)
	}
	if got := sipOptions(t, sip, applianceEventWithin); got != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS: %q", got)
	}
	writeFile(t, path, "not: [valid\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logs.await(t, "config reload failed: the running configuration stays")
	if got := sipOptions(t, sip, applianceEventWithin); got != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS after a failed reload: %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; output:\n%s", err, logs)
		}
	case <-time.After(applianceEventWithin):
		t.Fatalf("still running %v after SIGTERM; output:\n%s", applianceEventWithin, logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("stderr line is not JSON: %q", line)
		}
	}
}
