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

// newBatchIO returns the batch I/O for conn, moving up to size datagrams a call: mmsgIO,
// or portableIO if conn's descriptor cannot be reached.
func newBatchIO(conn *net.UDPConn, size int) batchIO {
	if m, err := newMmsgIO(conn, size); err == nil {
		return m
	}
	return newPortableIO(conn, size)
}

// mmsgIO moves a batch of datagrams with one recvmmsg or sendmmsg system call. Its message
// headers, iovecs and socket addresses are allocated once, for size datagrams, and reused
// by every call, so a batch allocates nothing.
//
// It calls the kernel with unix.RawSyscall6, not unix.Syscall6: Go's sockets are
// non-blocking, so neither call can block, and a raw call skips the runtime's system call
// bookkeeping. That bookkeeping is what made batches expensive: a sendmmsg of 32 replies
// takes on the order of 100 µs, and the runtime's monitor, seeing a P in a system call for
// longer than 20 µs, hands the P to another thread, which spins, finds nothing to do and
// sleeps; with one core that is two context switches a batch. Waiting, when the socket has
// nothing to read or no room to write, still goes through the runtime's poller
// (syscall.RawConn's Read and Write), so read deadlines and Close work as for any
// net.UDPConn.
type mmsgIO struct {
	raw    syscall.RawConn
	family int // the socket's: unix.AF_INET or unix.AF_INET6
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrInet6 // room for either family's address

	// The callbacks handed to raw.Read and raw.Write, made once (a method value made per
	// call would allocate), and the state they share with readBatch and writeBatch.
	recvFn, sendFn func(fd uintptr) bool
	count          int           // in: messages in hdrs; out: messages moved
	errno          syscall.Errno // the call's error, 0 if none
}

func newMmsgIO(conn *net.UDPConn, size int) (*mmsgIO, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mmsgIO{
		raw:   raw,
		hdrs:  make([]unix.Mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrInet6, size),
	}
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		m.family, sockErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	})
	if err == nil {
		err = sockErr
	}
	if err != nil {
		return nil, err
	}
	for i := range m.hdrs {
		h := &m.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&m.names[i]))
		h.Iov = &m.iovs[i]
		h.SetIovlen(1)
	}
	m.recvFn, m.sendFn = m.recv, m.send
	return m, nil
}

// readBatch reads up to len(ds) datagrams with one recvmmsg, waiting for the first.
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
	m.count = k
	if err := m.raw.Read(m.recvFn); err != nil {
		return 0, err
	}
	if m.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", m.errno)
	}
	for i := range m.count {
		ds[i].buf = ds[i].buf[:m.hdrs[i].Len]
		ds[i].addr = m.source(i)
	}
	return m.count, nil
}

// writeBatch sends ds with one sendmmsg. The kernel stops at the first datagram it
// refuses; writeBatch reports that datagram's error if it is the first of the batch.
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
	m.count = k
	if err := m.raw.Write(m.sendFn); err != nil {
		return 0, err
	}
	if m.errno != 0 {
		return 0, os.NewSyscallError("sendmmsg", m.errno)
	}
	return m.count, nil
}

// recv is the recvmmsg callback of raw.Read: it reports false, to wait for the socket to
// become readable, when nothing is queued.
func (m *mmsgIO) recv(fd uintptr) bool {
	return m.call(unix.SYS_RECVMMSG, fd)
}

// send is the sendmmsg callback of raw.Write: it reports false, to wait for room in the
// socket's buffer, when the kernel takes nothing.
func (m *mmsgIO) send(fd uintptr) bool {
	return m.call(unix.SYS_SENDMMSG, fd)
}

// call makes the system call trap (recvmmsg or sendmmsg) on fd with the first m.count
// headers, retrying when a signal interrupts it, and leaves the result in m.count and
// m.errno. It reports false if the call would block.
func (m *mmsgIO) call(trap, fd uintptr) bool {
	for {
		n, _, errno := unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), uintptr(m.count), 0, 0, 0)
		switch errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		m.count, m.errno = int(n), errno
		if errno != 0 {
			m.count = 0
		}
		return true
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
	case m.family == unix.AF_INET:
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
