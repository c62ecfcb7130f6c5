package server

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgIO moves a batch of datagrams through a udpFD with one recvmmsg or sendmmsg system
// call. Its message headers, iovecs and socket addresses are allocated once, for size
// datagrams, and reused by every call, so a batch allocates nothing.
//
// It calls the kernel with unix.RawSyscall6, not unix.Syscall6, and every call passes
// MSG_DONTWAIT, so none blocks. A raw call skips the runtime's system call bookkeeping,
// which made batches expensive: a sendmmsg of 32 replies takes on the order of 100 µs, and
// the runtime's monitor, seeing a P in a system call for longer than 20 µs, hands the P to
// another thread, which spins, finds nothing to do and sleeps; with one core that was two
// context switches a batch. When nothing is queued, the reader waits through Go's poller
// (see udpFD); when the send buffer is full, the writer waits a bounded time (udpSendWait).
type mmsgIO struct {
	sock  *udpFD
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // room for either family's address

	// recvFn is tryRecv and watchFn epollCtl, made once (a method value made per call
	// would allocate); the fields after each are its argument and results. event is what
	// registers the socket with the reader's epoll instance.
	recvFn   func(uintptr) bool
	k, n     int
	errno    syscall.Errno
	watchFn  func(uintptr)
	watchOp  int
	watchErr syscall.Errno
	event    unix.EpollEvent
	watching bool // the socket is registered with the reader's epoll instance
}

func newMmsgIO(sock *udpFD, size int) *mmsgIO {
	m := &mmsgIO{
		sock:  sock,
		hdrs:  make([]unix.Mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrInet6, size),
	}
	for i := range m.hdrs {
		h := &m.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&m.names[i]))
		h.Iov = &m.iovs[i]
		h.SetIovlen(1)
	}
	m.recvFn, m.watchFn = m.tryRecv, m.epollCtl
	m.event = unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(sock.fd)}
	return m
}

// readBatch reads up to len(ds) datagrams with one recvmmsg, waiting for the first. Once
// the socket's reads are stopped or it is closed, it reports net.ErrClosed.
func (m *mmsgIO) readBatch(ds []datagram) (int, error) {
	k := min(len(ds), len(m.hdrs))
	for i := range k {
		b := ds[i].buf[:cap(ds[i].buf)]
		m.iovs[i].Base = &b[0]
		m.iovs[i].SetLen(len(b))
		m.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		m.hdrs[i].Hdr.Flags = 0
		m.hdrs[i].Len = 0
	}
	if m.sock.stopped.Load() || !m.sock.acquire() {
		return 0, net.ErrClosed
	}
	n, errno := m.recv(k)
	m.sock.release()
	// stopReads or close may have come while the call ran; what it read is not served.
	if m.sock.stopped.Load() || m.sock.closed() {
		return 0, net.ErrClosed
	}
	if errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", errno)
	}
	for i := range n {
		ds[i].buf = ds[i].buf[:m.hdrs[i].Len]
		ds[i].addr = m.source(i)
	}
	return n, nil
}

// recv reads into the first k headers what is queued. If nothing is, it parks in Go's
// poller until there is (or stopReads or close wakes it), the socket registered for input
// with the reader's epoll instance. The registration stays while the reader keeps finding
// the socket empty, so an idle server pays no system calls for it, and ends at the first
// read that finds datagrams already queued: a busy socket is on no epoll set. The caller
// holds a reference.
func (m *mmsgIO) recv(k int) (int, syscall.Errno) {
	n, errno := m.call(unix.SYS_RECVMMSG, k, unix.MSG_DONTWAIT)
	if errno != unix.EAGAIN {
		if m.watching && errno == 0 {
			m.watching = m.watch(unix.EPOLL_CTL_DEL) != 0
		}
		return n, errno
	}
	if !m.watching {
		if errno := m.watch(unix.EPOLL_CTL_ADD); errno != 0 {
			return 0, errno
		}
		m.watching = true
	}
	m.k = k
	if err := m.sock.wait.Read(m.recvFn); err != nil { // tryRecv runs once before parking
		return 0, unix.EBADF // woken by stopReads or close: readBatch reports net.ErrClosed
	}
	return m.n, m.errno
}

// tryRecv is recv's callback for the poller: it reports false, to park until the socket
// has input, while nothing is queued.
func (m *mmsgIO) tryRecv(uintptr) bool {
	m.n, m.errno = m.call(unix.SYS_RECVMMSG, m.k, unix.MSG_DONTWAIT)
	return m.errno != unix.EAGAIN
}

// watch adds the socket to, or removes it from (op: EPOLL_CTL_ADD or EPOLL_CTL_DEL), the
// reader's epoll instance. close may close that instance meanwhile, so the call goes
// through its RawConn, which keeps the descriptor valid while the call runs.
func (m *mmsgIO) watch(op int) syscall.Errno {
	m.watchOp = op
	if err := m.sock.wait.Control(m.watchFn); err != nil {
		return unix.EBADF
	}
	return m.watchErr
}

// epollCtl is watch's callback: epoll_ctl on epfd, the instance's descriptor.
func (m *mmsgIO) epollCtl(epfd uintptr) {
	_, _, m.watchErr = unix.RawSyscall6(unix.SYS_EPOLL_CTL, epfd, uintptr(m.watchOp), uintptr(m.sock.fd), uintptr(unsafe.Pointer(&m.event)), 0, 0)
}

// writeBatch sends ds with one sendmmsg. The kernel stops at the first datagram it
// refuses; writeBatch reports that datagram's error if it is the first of the batch. If the
// send buffer is full and stays full for udpSendWait, it reports errSendBufferFull, nothing
// of ds having been sent.
func (m *mmsgIO) writeBatch(ds []datagram) (int, error) {
	k := min(len(ds), len(m.hdrs))
	for i := range k {
		namelen, ok := m.setDestination(i, ds[i].addr)
		if !ok || len(ds[i].buf) == 0 {
			if i == 0 {
				return 0, errBadDestination
			}
			k = i // send those before it; the next call reports it
			break
		}
		m.hdrs[i].Hdr.Namelen = namelen
		m.iovs[i].Base = &ds[i].buf[0]
		m.iovs[i].SetLen(len(ds[i].buf))
	}
	if !m.sock.acquire() {
		return 0, net.ErrClosed
	}
	defer m.sock.release()
	n, errno := m.call(unix.SYS_SENDMMSG, k, unix.MSG_DONTWAIT)
	if errno == unix.EAGAIN && m.sock.waitWritable() {
		n, errno = m.call(unix.SYS_SENDMMSG, k, unix.MSG_DONTWAIT)
	}
	switch errno {
	case 0:
		return n, nil
	case unix.EAGAIN:
		return 0, errSendBufferFull
	}
	return 0, os.NewSyscallError("sendmmsg", errno)
}

// call makes the non-blocking system call trap (recvmmsg or sendmmsg) with the first k
// headers and flags, retrying when a signal interrupts it. It returns the messages moved,
// or the error (unix.EAGAIN if the call would have blocked). The caller holds a reference.
func (m *mmsgIO) call(trap uintptr, k, flags int) (int, syscall.Errno) {
	for {
		n, _, errno := unix.RawSyscall6(trap, uintptr(m.sock.fd), uintptr(unsafe.Pointer(&m.hdrs[0])), uintptr(k), uintptr(flags), 0, 0)
		switch errno {
		case 0:
			return int(n), 0
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}

// source returns the address of the datagram read into slot i.
func (m *mmsgIO) source(i int) netip.AddrPort {
	sa := &m.names[i]
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), portOf(&sa4.Port))
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, portOf(&sa.Port))
	}
	return netip.AddrPort{} // not an IP socket: no reply can be addressed to it
}

// setDestination writes ap into slot i's socket address in the socket's family and
// returns its length, or false if the socket cannot send to ap.
func (m *mmsgIO) setDestination(i int, ap netip.AddrPort) (uint32, bool) {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return 0, false
	case m.sock.family == unix.AF_INET:
		a = a.Unmap()
		if !a.Is4() {
			return 0, false
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&m.names[i]))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		putPort(&sa4.Port, ap.Port())
		return unix.SizeofSockaddrInet4, true
	}
	scope, ok := scopeID(a.Zone())
	if !ok {
		return 0, false
	}
	sa := &m.names[i]
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16(), Scope_id: scope}
	putPort(&sa.Port, ap.Port())
	return unix.SizeofSockaddrInet6, true
}

// scopeID returns the interface index an IPv6 zone names: source writes zones as numbers;
// a name is looked up.
func scopeID(zone string) (uint32, bool) {
	if zone == "" {
		return 0, true
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), true
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, false
	}
	return uint32(ifi.Index), true
}

// portOf reads a port stored in network byte order.
func portOf(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// putPort stores port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}
