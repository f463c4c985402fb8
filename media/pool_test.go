package media

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var loopback = netip.MustParseAddr("127.0.0.1")

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"20000-30000", 20000, 30000, true},
		{"10001-10002", 10001, 10002, false}, // 10002's neighbour 10003 is outside
		{"10000-10001", 10000, 10001, true},
		{"10001-10003", 10001, 10003, true},
		{"1-65535", 1, 65535, true},
		{"30000-20000", 0, 0, false},
		{"20000", 0, 0, false},
		{"20000-", 0, 0, false},
		{"-20000", 0, 0, false},
		{"0-100", 0, 0, false},
		{"100-65536", 0, 0, false},
		{"+100-200", 0, 0, false},
		{" 100-200", 0, 0, false},
		{"100-200-300", 0, 0, false},
		{"abc-def", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		lo, hi, err := ParsePortRange(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParsePortRange(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (lo != tt.lo || hi != tt.hi) {
			t.Errorf("ParsePortRange(%q) = %d, %d, want %d, %d", tt.in, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestNewPool(t *testing.T) {
	tests := []struct {
		lo, hi int
		pairs  int
	}{
		{20000, 30000, 5000},
		{20000, 20001, 1},
		{20001, 20004, 1},
		{20001, 20005, 2},
		{20000, 20002, 1},
	}
	for _, tt := range tests {
		p, err := NewPool(loopback, tt.lo, tt.hi)
		if err != nil {
			t.Fatalf("NewPool(%d, %d): %v", tt.lo, tt.hi, err)
		}
		if p.Available() != tt.pairs || p.Size() != tt.pairs {
			t.Errorf("NewPool(%d, %d): Available = %d, Size = %d, want %d", tt.lo, tt.hi, p.Available(), p.Size(), tt.pairs)
		}
	}
	for _, bad := range []struct {
		bind   netip.Addr
		lo, hi int
	}{
		{netip.Addr{}, 20000, 30000},
		{loopback, 20001, 20002},
		{loopback, 30000, 20000},
		{loopback, 0, 10},
		{loopback, 65534, 65536},
	} {
		if _, err := NewPool(bad.bind, bad.lo, bad.hi); err == nil {
			t.Errorf("NewPool(%v, %d, %d) succeeded", bad.bind, bad.lo, bad.hi)
		}
	}
}

// testPool returns a pool of n pairs on 127.0.0.1 whose ports were free a
// moment ago. The range is below Linux's ephemeral ports (32768-60999), so
// that sockets bound to port 0 elsewhere do not take them meanwhile.
func testPool(t testing.TB, n int) *Pool {
	t.Helper()
	for try := range 200 {
		base := 20000 + 2*((try*7919+int(time.Now().UnixNano()/1000))%5000)
		if base+2*n-1 > 32767 {
			continue
		}
		var conns []*net.UDPConn
		free := true
		for port := base; port < base+2*n; port++ {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(port))))
			if err != nil {
				free = false
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if free {
			p, err := NewPool(loopback, base, base+2*n-1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			return p
		}
	}
	t.Fatal("no free port range for the test pool")
	return nil
}

func relayPorts(r *Relay) []int {
	ps := []int{r.Leg(A).Port(), r.Leg(B).Port()}
	slices.Sort(ps)
	return ps
}

func TestPoolExhaustedAndClose(t *testing.T) {
	p := testPool(t, 2)
	r1, err := p.NewRelay(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Available(); got != 0 {
		t.Errorf("Available = %d with the pool taken, want 0", got)
	}
	for _, s := range []Side{A, B} {
		if port := r1.Leg(s).Port(); port%2 != 0 || port < p.first || port+1 > p.hi {
			t.Errorf("leg %v port %d: not an even port of the pool", s, port)
		}
	}
	if r1.Leg(A).Port() == r1.Leg(B).Port() {
		t.Errorf("both legs on port %d", r1.Leg(A).Port())
	}
	if _, err := p.NewRelay(nil); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("NewRelay on an empty pool: %v, want ErrPoolExhausted", err)
	}
	want := relayPorts(r1)
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := p.Available(); got != 2 {
		t.Errorf("Available = %d after Close, want 2", got)
	}
	// The ports are free again: a new relay takes the very same ones.
	r2, err := p.NewRelay(nil)
	if err != nil {
		t.Fatalf("NewRelay after Close: %v", err)
	}
	defer r2.Close()
	if got := relayPorts(r2); !slices.Equal(got, want) {
		t.Errorf("new relay on ports %v, want %v", got, want)
	}
}

func TestPoolSkipsBusyPorts(t *testing.T) {
	p := testPool(t, 3)
	// Someone else holds the RTCP port of the first pair.
	busy, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(p.first+1))))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r, err := p.NewRelay(nil)
	if err != nil {
		t.Fatalf("NewRelay with one pair busy: %v", err)
	}
	defer r.Close()
	if got, want := relayPorts(r), []int{p.first + 2, p.first + 4}; !slices.Equal(got, want) {
		t.Errorf("relay on ports %v, want %v", got, want)
	}
	// The busy pair went back to the pool: it may be free again later.
	if got := p.Available(); got != 1 {
		t.Errorf("Available = %d, want 1", got)
	}
	_, err = p.NewRelay(nil)
	if !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("NewRelay with only a busy pair left: %v, want ErrPoolExhausted", err)
	}
	if got := p.Available(); got != 1 {
		t.Errorf("Available = %d after a failed NewRelay, want 1", got)
	}
	// Once the other process lets go, the pair serves again.
	busy.Close()
	r.Close()
	r2, err := p.NewRelay(nil)
	if err != nil {
		t.Fatalf("NewRelay with the pool free again: %v", err)
	}
	defer r2.Close()
	if got := p.Available(); got != 1 {
		t.Errorf("Available = %d, want 1", got)
	}
}
