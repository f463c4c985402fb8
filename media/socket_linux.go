package media

import (
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The relay's sockets are plain non-blocking file descriptors served by the
// pool's epoll workers rather than net.UDPConns: a UDPConn needs a goroutine
// parked in a read per socket (four per call, each with its stack and
// buffer), and is closed and bound again per call. These helpers do the few
// system calls the relay needs without allocating.

// openUDP binds a non-blocking UDP socket to ap with buffers of size bytes
// both ways (best effort: the kernel caps them at rmem_max / wmem_max).
func openUDP(ap netip.AddrPort, size int) (int, error) {
	family := unix.AF_INET
	if ap.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		// One family per socket, as the pool's bind address says.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, size)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind udp %v: %w", ap, err)
	}
	return fd, nil
}

// errAgain is what a read of an empty socket returns.
var errAgain = unix.EAGAIN

// recvFrom reads one datagram into buf. rsa is the caller's scratch space
// for the source address, so that nothing escapes to the heap.
func recvFrom(fd int, buf []byte, rsa *unix.RawSockaddrAny) (int, netip.AddrPort, error) {
	n := uint32(unix.SizeofSockaddrAny)
	r, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0,
		uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	return int(r), sockaddrAddrPort(rsa), nil
}

// sockaddrAddrPort decodes an AF_INET or AF_INET6 address, unmapping an
// IPv4-mapped IPv6 one; anything else is the zero AddrPort.
func sockaddrAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), netPort(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), netPort(sa.Port))
	}
	return netip.AddrPort{}
}

// netPort converts a port in network byte order, as a sockaddr holds it.
func netPort(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// errFamily is returned for a destination the socket's family cannot reach.
var errFamily = errors.New("address family not supported by the socket")

// sendTo sends pkt from fd to dst. v6 tells the socket's family: an IPv4
// destination is sent IPv4-mapped from an IPv6 socket, and an IPv6 one
// cannot be sent from an IPv4 socket.
func sendTo(fd int, v6 bool, pkt []byte, dst netip.AddrPort) error {
	var (
		ptr  unsafe.Pointer
		size uintptr
		sa4  unix.RawSockaddrInet4
		sa6  unix.RawSockaddrInet6
	)
	port := netPort(dst.Port()) // the swap is its own inverse
	if v6 {
		sa6.Family = unix.AF_INET6
		sa6.Port = port
		sa6.Addr = dst.Addr().As16()
		ptr, size = unsafe.Pointer(&sa6), unix.SizeofSockaddrInet6
	} else {
		if !dst.Addr().Is4() {
			return errFamily
		}
		sa4.Family = unix.AF_INET
		sa4.Port = port
		sa4.Addr = dst.Addr().As4()
		ptr, size = unsafe.Pointer(&sa4), unix.SizeofSockaddrInet4
	}
	var p unsafe.Pointer
	if len(pkt) > 0 {
		p = unsafe.Pointer(&pkt[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(pkt)), 0, uintptr(ptr), size)
	if e != 0 {
		return e
	}
	return nil
}
