package conformance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds of SIPp runs. Every SIPp process also gets -timeout, so that it
// ends by itself even when the runner is gone.
const (
	uacLimit     = 30 * time.Second // -timeout of a UAC; the runner waits a little longer
	uasLimit     = 45 * time.Second // -timeout of a UAS (started before trunkline and the UAC)
	recvTimeout  = "15s"            // -recv_timeout: no <recv> waits longer unless it says so
	sippStopWait = 2 * time.Second  // SIGTERM (SIPp writes its screens and exits) before SIGKILL
)

// sippRun is one SIPp instance of a scenario: a UAC placing one call, or a
// UAS standing for one trunk and taking one call (-m 1); or, with calls,
// as many as that.
type sippRun struct {
	label     string // "uac", "uac2", "uas-a", ...
	scenario  string // file name in scenarios/
	ip        string
	port      int
	transport string // "udp" or "tcp"
	mediaPort int    // -mp; SIPp binds it and +2, the runner's probe +4
	dir       string

	proc   *proc
	probe  *rtpProbe
	rtp    rtpStats // the probe's count, once closed
	msgs   []sipMsg // the message trace, once ended
	killed bool     // the runner had to stop it
	remote string   // where a UAC sends ("" for a UAS)
	pause  time.Duration
	calls  int // -m: the calls after which SIPp ends by itself; 0 = 1
}

func (r *sippRun) file(kind string) string { return filepath.Join(r.dir, r.label+"."+kind) }

// args is the SIPp command line of the run (remote first for a UAC).
func (r *sippRun) args(service string, extra []string) []string {
	var a []string
	if r.remote != "" {
		a = append(a, r.remote)
	}
	t := "u1"
	if r.transport == "tcp" {
		t = "t1"
	}
	limit := uasLimit
	if r.remote != "" {
		limit = uacLimit
	}
	a = append(a,
		"-sf", filepath.Join(suite.scenarios, r.scenario),
		"-t", t,
		"-i", r.ip, "-p", strconv.Itoa(r.port), "-bind_local",
		"-mp", strconv.Itoa(r.mediaPort),
		"-m", strconv.Itoa(max(r.calls, 1)),
		"-d", strconv.FormatInt(r.pause.Milliseconds(), 10),
		"-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(limit.Seconds())), "-timeout_error",
		"-recv_timeout", recvTimeout,
		"-trace_msg", "-message_file", r.file("messages"),
		"-trace_err", "-error_file", r.file("errors"),
		"-trace_screen", "-screen_file", r.file("screen"),
	)
	if service != "" {
		a = append(a, "-s", service)
	}
	return append(a, extra...)
}

// startSIPp starts the run's SIPp process.
func startSIPp(t *testing.T, r *sippRun, service string, extra []string) {
	t.Helper()
	r.proc = startProc(t, r.dir, r.label, suite.sipp, r.args(service, extra)...)
}

// waitListening waits until the UAS holds its SIP port, so that the first
// INVITE is not lost (UDP) or refused (TCP).
func (r *sippRun) waitListening(t *testing.T) {
	t.Helper()
	ok := waitFor(5*time.Second, 10*time.Millisecond, func() bool {
		return r.proc.exited() || portTaken(r.transport, r.ip, r.port)
	})
	if r.proc.exited() {
		t.Fatalf("%s (%s) ended before taking a call: %s\n%s", r.label, r.scenario, r.proc.describe(), tail(r.proc.stderr, 20))
	}
	if !ok {
		t.Fatalf("%s (%s) does not listen on %s %s:%d after 5s", r.label, r.scenario, r.transport, r.ip, r.port)
	}
}

// finish waits up to limit for the process to end by itself, then stops
// it; it closes the probe and reads the message trace.
func (r *sippRun) finish(limit time.Duration) {
	if !r.proc.wait(limit) {
		r.killed = true
		r.proc.stopWithin(syscall.SIGTERM, sippStopWait)
	}
	if r.probe != nil {
		r.rtp = r.probe.close()
	}
	r.msgs = readMessageLog(r.file("messages"))
}

// ok reports whether SIPp ran its call to the end successfully: it ended by
// itself with exit code 0 ("all calls successful").
func (r *sippRun) ok() bool { return !r.killed && r.proc.exitCode() == 0 }

// status describes how the run ended, for failure messages.
func (r *sippRun) status() string {
	s := r.proc.describe()
	if r.killed {
		s = "did not finish in time (stopped by the runner; " + s + ")"
	}
	switch code := r.proc.exitCode(); {
	case r.killed:
	case code == 0:
		s += ": all calls successful"
	case code == 1:
		s += ": the call failed"
	case code == 97:
		s += ": exit on internal command"
	case code == 99:
		s += ": no call processed"
	case code == 255 || code == 254:
		s += ": fatal error"
	}
	return s
}

// report is what a failure message shows of the run: its status, SIPp's
// own error log and stderr.
func (r *sippRun) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %s %s:%d): %s\n", r.label, r.scenario, r.transport, r.ip, r.port, r.status())
	errs := strings.TrimSpace(tail(r.file("errors"), 25))
	if errs != "" && !strings.HasPrefix(errs, "(no ") {
		fmt.Fprintf(&b, "  SIPp error log:\n%s\n", indent(errs, "    "))
	} else if se := strings.TrimSpace(tail(r.proc.stderr, 10)); se != "" {
		fmt.Fprintf(&b, "  stderr:\n%s\n", indent(se, "    "))
	}
	return b.String()
}

// sipMsg is one message of a SIPp message trace (-trace_msg).
type sipMsg struct {
	At        time.Time
	Sent      bool   // sent by this SIPp, else received
	Transport string // "UDP", "TCP"
	Text      string // the whole message, LF line ends
}

// First is the start line.
func (m sipMsg) First() string {
	first, _, _ := strings.Cut(m.Text, "\n")
	return first
}

// Code is the status code of a response, 0 for a request.
func (m sipMsg) Code() int {
	f := m.First()
	if !strings.HasPrefix(f, "SIP/2.0 ") {
		return 0
	}
	code, _ := strconv.Atoi(strings.Fields(f)[1])
	return code
}

// Method is the method of a request, or the CSeq method of a response.
func (m sipMsg) Method() string {
	if m.Code() == 0 {
		method, _, _ := strings.Cut(m.First(), " ")
		return method
	}
	f := strings.Fields(m.Header("CSeq"))
	if len(f) == 2 {
		return f[1]
	}
	return ""
}

// compactHeaders maps the compact forms of RFC 3261 §7.3.3 to full names.
var compactHeaders = map[string]string{
	"i": "call-id", "v": "via", "f": "from", "t": "to", "m": "contact",
	"l": "content-length", "c": "content-type", "k": "supported", "s": "subject",
}

// Headers returns every value of the header name (case-insensitive,
// compact forms included), in order.
func (m sipMsg) Headers(name string) []string {
	want := strings.ToLower(name)
	head, _, _ := strings.Cut(m.Text, "\n\n")
	var vals []string
	for _, line := range strings.Split(head, "\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if full, ok := compactHeaders[k]; ok {
			k = full
		}
		if k == want {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// Header returns the first value of the header name, "" when absent.
func (m sipMsg) Header(name string) string {
	if v := m.Headers(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Body is the message body.
func (m sipMsg) Body() string {
	_, body, _ := strings.Cut(m.Text, "\n\n")
	return body
}

// Summary is a one-line rendering for ladders: start line and CSeq.
func (m sipMsg) Summary() string {
	s := m.First()
	if m.Code() != 0 {
		s += "  (" + m.Header("CSeq") + ")"
	}
	if strings.Contains(m.Body(), "m=audio") {
		s += "  +SDP"
	}
	return s
}

const traceSeparator = "-----------------------------------------------"

// readMessageLog parses a SIPp -trace_msg file. A missing file is an empty
// trace (SIPp writes it on the first message).
func readMessageLog(path string) []sipMsg {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var (
		msgs  []sipMsg
		cur   *sipMsg
		lines []string
		stamp time.Time
	)
	flush := func() {
		if cur != nil {
			for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
				lines = lines[:len(lines)-1]
			}
			for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
				lines = lines[1:]
			}
			cur.Text = strings.Join(lines, "\n")
			msgs = append(msgs, *cur)
		}
		cur, lines = nil, nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	expectKind := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, traceSeparator) {
			flush()
			stamp = time.Time{}
			if ts := strings.TrimSpace(strings.TrimLeft(line, "-")); ts != "" {
				stamp, _ = time.ParseInLocation("2006-01-02 15:04:05.000000", ts, time.Local)
			}
			expectKind = true
			continue
		}
		if expectKind {
			expectKind = false
			// "UDP message received [517] bytes :" / "TCP message sent (473 bytes):"
			f := strings.Fields(line)
			if len(f) >= 3 && f[1] == "message" && (f[2] == "received" || f[2] == "sent") {
				cur = &sipMsg{At: stamp, Sent: f[2] == "sent", Transport: f[0]}
			}
			continue
		}
		if cur != nil {
			lines = append(lines, line)
		}
	}
	flush()
	return msgs
}

// received returns the messages the run received.
func (r *sippRun) received() []sipMsg {
	var out []sipMsg
	for _, m := range r.msgs {
		if !m.Sent {
			out = append(out, m)
		}
	}
	return out
}

// sent returns the messages the run sent.
func (r *sippRun) sent() []sipMsg {
	var out []sipMsg
	for _, m := range r.msgs {
		if m.Sent {
			out = append(out, m)
		}
	}
	return out
}

// requestsReceived returns the requests of a method the run received.
func (r *sippRun) requestsReceived(method string) []sipMsg {
	var out []sipMsg
	for _, m := range r.received() {
		if m.Code() == 0 && m.Method() == method {
			out = append(out, m)
		}
	}
	return out
}

// responseCodes returns the status codes the run received for a method,
// in order, retransmissions included.
func (r *sippRun) responseCodes(method string) []int {
	var out []int
	for _, m := range r.received() {
		if c := m.Code(); c != 0 && m.Method() == method {
			out = append(out, c)
		}
	}
	return out
}

// finalCode is the first final (>= 200) status code the run received for
// method, 0 when none came.
func (r *sippRun) finalCode(method string) int {
	for _, c := range r.responseCodes(method) {
		if c >= 200 {
			return c
		}
	}
	return 0
}

// firstSent returns the first message the run sent whose start line begins
// with prefix.
func (r *sippRun) firstSent(prefix string) (sipMsg, bool) {
	for _, m := range r.sent() {
		if strings.HasPrefix(m.First(), prefix) {
			return m, true
		}
	}
	return sipMsg{}, false
}

// ladderLine is one message in a merged, time-ordered trace of a scenario.
type ladderLine struct {
	at    time.Time
	label string
	m     sipMsg
}

// ladder renders the messages of all runs, merged by time, relative to the
// first one: the sequence diagram of what happened.
func ladder(runs []*sippRun) string {
	var all []ladderLine
	for _, r := range runs {
		if r == nil {
			continue
		}
		for _, m := range r.msgs {
			all = append(all, ladderLine{m.At, r.label, m})
		}
	}
	if len(all) == 0 {
		return "  (no SIP message was traced)\n"
	}
	slices.SortStableFunc(all, func(a, b ladderLine) int { return a.at.Compare(b.at) })
	t0 := all[0].at
	var b strings.Builder
	for _, l := range all {
		dir := "<-"
		if l.m.Sent {
			dir = "->"
		}
		fmt.Fprintf(&b, "  %7.3fs  %-6s %s %s %s\n", l.at.Sub(t0).Seconds(), l.label, dir, l.m.Transport, l.m.Summary())
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
