package conformance

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Addresses on the loopback network. Each party has an address of its own,
// so that trunkline can tell the trunks apart by source (DESIGN §4.1) and
// so that an address leaking from one leg to the other is plain to see.
const (
	trunklineIP = "127.0.0.1"  // sip.listen, sip.advertise, media.advertise, api.listen
	callerIP    = "127.0.0.10" // the SIPp UAC: trunk "caller", sourceHosts 127.0.0.10/32
	strangerIP  = "127.0.0.99" // a UAC no trunk owns
)

// calleeIP is the address of the i-th callee (SIPp UAS) of a scenario:
// 127.0.0.2, 127.0.0.3, ...
func calleeIP(i int) string { return fmt.Sprintf("127.0.0.%d", 2+i) }

// ports hands out loopback ports to the parallel scenarios of one test
// process, from 11000-18999: under trunkline's default media.rtpPorts
// (20000-30000, which other tests of the module may bind), under Linux's
// ephemeral range (32768-60999, where every port-0 bind lands), and clear of
// the fixed Via ports of the SIP torture vectors (5060, 5050, 6050, 19823)
// that sbc's torture test must bind while this suite runs. Each port is
// handed out once, checked free on every address (UDP and TCP on the
// wildcard), from a random start so that two test processes rarely meet.
var ports = &portAllocator{next: portLow + 2*rand.IntN((portHigh-portLow)/4)}

type portAllocator struct {
	mu    sync.Mutex
	next  int
	wraps int
}

const (
	portLow  = 11000
	portHigh = 19000
)

// block returns the first of n consecutive free ports; the first is even
// (RTP convention, and SIPp's media ports).
func (a *portAllocator) block(t *testing.T, n int) int {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for tries := 0; tries < (portHigh-portLow)/2; tries++ {
		if a.next%2 == 1 {
			a.next++
		}
		if a.next+n > portHigh {
			a.next = portLow
			a.wraps++
		}
		first := a.next
		a.next += n
		if allFree(first, n) {
			return first
		}
	}
	t.Fatalf("no block of %d free ports in %d-%d", n, portLow, portHigh)
	return 0
}

func (a *portAllocator) one(t *testing.T) int { t.Helper(); return a.block(t, 1) }

func allFree(first, n int) bool {
	for p := first; p < first+n; p++ {
		u, err := net.ListenPacket("udp", fmt.Sprintf(":%d", p))
		if err != nil {
			return false
		}
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		u.Close()
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// portTaken reports whether something is bound to ip:port on the given
// transport ("udp" or "tcp"): a bind there fails.
func portTaken(transport, ip string, port int) bool {
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	if transport == "tcp" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return true
		}
		l.Close()
		return false
	}
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// waitFor polls cond every tick until it holds or limit passes. It is for
// the state of other processes — a port SIPp bound, trunkline's HTTP API —
// which signal nothing this process could await.
func waitFor(limit, tick time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	ticks := time.NewTicker(tick)
	defer ticks.Stop()
	for {
		select {
		case <-ticks.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond()
		}
	}
}

// proc is a child process in its own process group, with its output in
// files. It is killed, group and all, when the test ends.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout string
	stderr string
	start  time.Time
	done   chan struct{}
	state  *os.ProcessState
	err    error
}

// startProc starts bin with args in dir, its stdout and stderr in
// dir/<name>.stdout and dir/<name>.stderr.
func startProc(t *testing.T, dir, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{
		name:   name,
		stdout: filepath.Join(dir, name+".stdout"),
		stderr: filepath.Join(dir, name+".stderr"),
		done:   make(chan struct{}),
	}
	out, err := os.Create(p.stdout)
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(p.stderr)
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdin = nil
	p.cmd.Stdout = out
	p.cmd.Stderr = errf
	// Its own group, so that cleanup can end it with whatever it spawned;
	// SIGKILL when the test process dies, so that nothing outlives a
	// killed `go test`.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		out.Close()
		errf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".cmdline"), []byte(shellQuote(bin, args)+"\n"), 0o644); err != nil {
		t.Log(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		out.Close()
		errf.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to limit for the process to end; it reports whether it did.
func (p *proc) wait(limit time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// exitCode is the exit status once exited: the code, or -1 when a signal
// ended it or it is still running (p.state is written by the waiting
// goroutine and read only after p.done closed).
func (p *proc) exitCode() int {
	if !p.exited() || p.state == nil {
		return -1
	}
	return p.state.ExitCode()
}

// describe renders how the process ended.
func (p *proc) describe() string {
	if !p.exited() {
		return "still running"
	}
	if p.state != nil {
		if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exit %d", p.state.ExitCode())
	}
	return fmt.Sprintf("wait: %v", p.err)
}

// signal sends sig to the process (not its group).
func (p *proc) signal(sig syscall.Signal) {
	if !p.exited() {
		p.cmd.Process.Signal(sig)
	}
}

// kill ends the whole process group at once and waits for the process.
func (p *proc) kill() {
	if !p.exited() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// stopWithin asks the process to end with sig and kills its group when it
// has not ended within limit. It reports whether it ended by itself.
func (p *proc) stopWithin(sig syscall.Signal, limit time.Duration) bool {
	if p.exited() {
		return true
	}
	p.signal(sig)
	if p.wait(limit) {
		return true
	}
	p.kill()
	return false
}

// tail returns the last n lines of a file, or a note that it is missing.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "(no " + filepath.Base(path) + ")"
		}
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// shellQuote renders a command line that can be pasted into a shell.
func shellQuote(bin string, args []string) string {
	q := func(s string) string {
		if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			return s
		}
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	parts := []string{q(bin)}
	for _, a := range args {
		parts = append(parts, q(a))
	}
	return strings.Join(parts, " ")
}

// mediaBlock is how many consecutive ports one SIPp instance gets: its media
// port and the ones SIPp binds beside it (RTCP, video), the RTP probe at +4,
// and a guard above, since SIPp's RTP-stream build may bind past the video
// pair.
const mediaBlock = 16
