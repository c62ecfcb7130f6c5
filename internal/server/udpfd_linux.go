package server

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// udpFD is a UDP socket the server opens and owns itself, outside Go's network poller.
//
// Why own it: Go's poller registers every socket for EPOLLIN|EPOLLOUT|EPOLLET for as long
// as it is open, which puts an entry on the socket's wait queue. On loopback the kernel
// frees each reply as it delivers it, which makes the sending socket writable again
// (sock_wfree -> sk_write_space), and with an entry on the queue that is a wake-up call per
// reply: a spin lock taken with interrupts off and the epoll callback run. Under load that
// was about 3 % of the server's time (perf: _raw_spin_unlock_irqrestore, sock_wfree), a
// cost NSD does not pay. An owned socket is on no epoll set while it is busy: every read
// and write is a raw recvmmsg or sendmmsg with MSG_DONTWAIT (mmsgIO). When a read finds
// nothing queued, the reader registers the socket, for input only, with an epoll instance
// of its own (waitFile) and parks on that through Go's poller; it deregisters the socket at
// the first read that finds datagrams already queued. Under load the socket is almost never
// empty, so almost never registered; an idle one stays registered, and waiting costs it no
// extra system calls.
//
// Why not block in recvmmsg instead: a goroutine blocked in a system call keeps its P until
// the runtime's monitor takes it back, 20 µs or more later, and meanwhile no other
// goroutine runs on it. With one P (a server pinned to one core) every goroutine readied
// while the reader slept waited that long: a resolver's cold queries, which wait on
// upstream replies, took 70 % longer (scripts/bench-resolver.sh, 0.071 s against 0.041 s
// for 1,000 names). Parking in the poller hands the P on at once.
//
// Lifetime: the descriptor's number is used by several goroutines (the reader, the worker
// that writes replies). Closing it while one of them may still hand the number to the
// kernel would be a real bug: the number may already belong to another file, which would
// get a reply meant for this socket or lose data to a read. So every system call holds a
// reference (acquire, release), close only marks the socket closed, and the descriptor is
// closed by whichever of close and the last release comes last.
type udpFD struct {
	fd     int
	family int // unix.AF_INET or unix.AF_INET6
	local  *net.UDPAddr

	// waitFile is the reader's epoll instance, non-blocking and so registered with Go's
	// poller: it becomes readable when the socket, while registered with it, has input.
	// wait is its RawConn, through which the reader parks. Closing it, or a past read
	// deadline, wakes the reader.
	waitFile *os.File
	wait     syscall.RawConn

	// refs counts the system calls in progress on fd, plus fdClosed once close is called.
	refs atomic.Int64
	// stopped is set by stopReads: readBatch then reports net.ErrClosed.
	stopped atomic.Bool
}

// fdClosed is the bit of udpFD.refs that marks the socket closed; the bits below it count
// the calls in progress.
const fdClosed = 1 << 40

// openUDPSocket opens, configures and binds a UDP socket to addr ("127.0.0.1:0" picks a
// free port), with SO_REUSEPORT if reusePort. Like Go's ListenPacket("udp", ...), it opens
// a wildcard address (0.0.0.0 or ::) as a dual-stack IPv6 socket, so IPv4 clients arrive as
// IPv4-mapped addresses.
func openUDPSocket(addr string, reusePort bool) (udpConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s, err := newUDPFD(ua, reusePort)
	if err != nil {
		return nil, fmt.Errorf("server: listen udp %s: %w", addr, err)
	}
	return s, nil
}

// newUDPFD makes the socket for ua: socket, options, bind.
func newUDPFD(ua *net.UDPAddr, reusePort bool) (*udpFD, error) {
	family, sa, err := socketAddress(ua)
	if err != nil {
		return nil, err
	}
	// Every call on the socket passes MSG_DONTWAIT, so its own blocking mode does not
	// matter; it stays blocking, the default.
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil && family == unix.AF_INET6 && isWildcard(ua) && (ua.IP == nil || ua.IP.To4() != nil) {
		// No IPv6 here: 0.0.0.0, or no address at all, stays IPv4.
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ua.Port}
		fd, err = unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	}
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	s := &udpFD{fd: fd, family: family}
	if err := s.configure(reusePort); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	s.local = udpAddrOf(bound)
	if err := s.openWait(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

// openWait makes waitFile: an empty epoll instance, non-blocking, which os.NewFile hands to
// Go's poller.
func (s *udpFD) openWait() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return os.NewSyscallError("fcntl", err)
	}
	s.waitFile = os.NewFile(uintptr(epfd), "udp-wait")
	if s.wait, err = s.waitFile.SyscallConn(); err != nil {
		s.waitFile.Close()
		return err
	}
	return nil
}

// configure sets the socket options the server wants before binding: dual stack for IPv6
// (as Go does, whatever net.ipv6.bindv6only says), no path MTU discovery, SO_REUSEPORT if
// asked, and udpSocketBuffer both ways.
func (s *udpFD) configure(reusePort bool) error {
	if s.family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			return os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
		}
	}
	s.omitPathMTU()
	if reusePort {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return os.NewSyscallError("setsockopt SO_REUSEPORT", err)
		}
	}
	// Best effort, as for net.UDPConn: a smaller buffer than asked for only means drops
	// come sooner.
	unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, udpSocketBuffer)
	unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, udpSocketBuffer)
	return nil
}

// omitPathMTU makes the socket ignore path MTU information (IP_PMTUDISC_OMIT, and its IPv6
// twin): replies go out without DF, fragmented only where they exceed the interface's
// MTU, whatever ICMP "fragmentation needed" messages claim. A forged one could otherwise
// lower the path MTU to a client below the size of the replies and so make the server
// fragment them, which is what fragmentation-based cache poisoning needs (NSD and
// other servers set the same). It is also less work per reply: the kernel takes the
// device's MTU instead of looking up the route's. Best effort: before Linux 3.15 there is
// no OMIT, and IP_PMTUDISC_DONT, which still sends without DF, is the next best.
func (s *udpFD) omitPathMTU() {
	if unix.SetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_OMIT) != nil {
		unix.SetsockoptInt(s.fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
	}
	if s.family != unix.AF_INET6 {
		return
	}
	if unix.SetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_OMIT) != nil {
		unix.SetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DONT)
	}
}

// socketAddress returns the family and socket address to bind ua to: IPv6 for a wildcard
// (dual stack) or an IPv6 address, IPv4 for an IPv4 address.
func socketAddress(ua *net.UDPAddr) (int, unix.Sockaddr, error) {
	if isWildcard(ua) {
		return unix.AF_INET6, &unix.SockaddrInet6{Port: ua.Port}, nil
	}
	if ip4 := ua.IP.To4(); ip4 != nil {
		return unix.AF_INET, &unix.SockaddrInet4{Port: ua.Port, Addr: [4]byte(ip4)}, nil
	}
	scope, ok := scopeID(ua.Zone)
	if !ok {
		return 0, nil, fmt.Errorf("unknown IPv6 zone %q", ua.Zone)
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: ua.Port, ZoneId: scope, Addr: [16]byte(ua.IP.To16())}, nil
}

// isWildcard reports whether ua binds every address: no IP, 0.0.0.0 or ::.
func isWildcard(ua *net.UDPAddr) bool { return ua.IP == nil || ua.IP.IsUnspecified() }

// udpAddrOf converts a bound socket address to a net.UDPAddr, naming an IPv6 zone by its
// interface where it can, as Go does.
func udpAddrOf(sa unix.Sockaddr) *net.UDPAddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.UDPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		a := &net.UDPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		if sa.ZoneId != 0 {
			a.Zone = strconv.FormatUint(uint64(sa.ZoneId), 10)
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return &net.UDPAddr{}
}

// LocalAddr returns the address the socket is bound to.
func (s *udpFD) LocalAddr() net.Addr { return s.local }

// newIO returns mmsgIO over the socket: one recvmmsg or sendmmsg per batch.
func (s *udpFD) newIO(size int) batchIO { return newMmsgIO(s, size) }

// setReusePort sets SO_REUSEPORT on the bound socket, so that further sockets can join its
// port.
func (s *udpFD) setReusePort() error {
	if !s.acquire() {
		return net.ErrClosed
	}
	defer s.release()
	return os.NewSyscallError("setsockopt SO_REUSEPORT", unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
}

// stopReads ends reading: the read waiting now returns, and every later one, with
// net.ErrClosed. Writes still work, so replies in flight go out.
func (s *udpFD) stopReads() {
	s.stopped.Store(true)
	s.waitFile.SetReadDeadline(time.Now())
}

// close closes the socket: at once if no system call is in progress on it, otherwise when
// the last one ends. Either way no call starts on it afterwards. It is idempotent.
func (s *udpFD) close() error {
	for {
		n := s.refs.Load()
		if n&fdClosed != 0 {
			return nil
		}
		if s.refs.CompareAndSwap(n, n|fdClosed) {
			s.waitFile.Close() // wakes a parked reader, which then releases fd
			if n == 0 {
				return os.NewSyscallError("close", unix.Close(s.fd))
			}
			return nil
		}
	}
}

// closed reports whether close was called.
func (s *udpFD) closed() bool { return s.refs.Load()&fdClosed != 0 }

// acquire reserves the descriptor for one system call; it reports false once the socket
// is closed. Each true must be matched by a release.
func (s *udpFD) acquire() bool {
	for {
		n := s.refs.Load()
		if n&fdClosed != 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release ends a system call's use of the descriptor, closing it if close came meanwhile
// and this was the last call.
func (s *udpFD) release() {
	if s.refs.Add(-1) == fdClosed {
		unix.Close(s.fd)
	}
}

// udpSendWait bounds how long a write waits for room when the socket's send buffer is
// full (sendmmsg with MSG_DONTWAIT reports EAGAIN). A UDP send buffer fills only when the
// interface's queue does (on loopback the kernel frees each datagram as it delivers it),
// that is when the server sends faster than the link drains: waiting briefly rides out a
// burst, as a blocking send would, while waiting long would stall the reader (it writes the
// inline replies) for datagrams the clients will have retried by then. After the wait the
// batch's remaining replies are dropped, which is what a full buffer does to datagrams
// anyway; 20 ms drains 2.5 MB at 1 Gbit/s.
const udpSendWait = 20 * time.Millisecond

// waitWritable waits, at most udpSendWait, for room in the send buffer, and reports
// whether there is. The caller holds a reference.
func (s *udpFD) waitWritable() bool {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
	deadline := time.Now().Add(udpSendWait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		// unix.Poll is a blocking call made through the runtime (Syscall): the runtime's
		// monitor hands the P on after 20 µs or so. The socket is not registered with an
		// epoll set for output here, as the reader's is for input, because this is the
		// rare overload case, not worth a registration per wait.
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return false
		}
		return n > 0 && fds[0].Revents&unix.POLLOUT != 0
	}
}
