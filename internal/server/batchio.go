package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// udpConn is one bound UDP socket as a udpSocket serves it. On Linux it is udpFD
// (udpfd_linux.go), a descriptor the server owns outside Go's poller; elsewhere, and in
// tests of the portable path, netUDPConn, a net.UDPConn.
type udpConn interface {
	// LocalAddr returns the address the socket is bound to.
	LocalAddr() net.Addr
	// newIO returns the socket's batch I/O, moving up to size datagrams a call. Each
	// goroutine that moves datagrams has its own.
	newIO(size int) batchIO
	// setReusePort sets SO_REUSEPORT on the bound socket, so that more sockets can join its
	// port. Only called where reusePortSupported.
	setReusePort() error
	// stopReads makes the read in progress, and every later one, return an error (the
	// reader then sees that the Server is stopping); writes still work, so replies in
	// flight go out.
	stopReads()
	// close closes the socket. Nothing is read or written through it afterwards; a call
	// that has already begun may finish.
	close() error
}

// datagram is one UDP datagram of a batch: its octets and the address at the other end.
type datagram struct {
	// buf holds the datagram. To read, the reader fills buf's whole capacity and reslices
	// buf to what arrived; to write, buf is the payload.
	buf []byte
	// addr is the datagram's source (read) or destination (write).
	addr netip.AddrPort
}

// errSendBufferFull is what writeBatch reports when the socket's send buffer stayed full:
// the caller drops the batch's remaining replies, as the kernel drops datagrams that find a
// full buffer.
var errSendBufferFull = errors.New("server: socket send buffer full")

// batchIO moves UDP datagrams in batches through one socket. Each implementation keeps
// the buffers its system calls need, allocated once and reused, so one batchIO belongs to
// one goroutine at a time: a socket's reader has one, its reply writer another.
//
// On Linux it is mmsgIO (batchio_linux.go): one recvmmsg or sendmmsg per batch on a udpFD.
// Elsewhere it is portableIO: one datagram per call, through net.UDPConn.
type batchIO interface {
	// readBatch waits for at least one datagram and reads as many as are queued, up to
	// len(ds), into ds[0], ds[1], ... It returns how many it read. Every buf must have a
	// capacity of at least one octet.
	readBatch(ds []datagram) (int, error)
	// writeBatch sends ds[0], ds[1], ... in order and returns how many were sent. When it
	// returns an error, ds[n] is the datagram that failed; the caller decides whether to
	// skip it and carry on.
	writeBatch(ds []datagram) (int, error)
}

// errBadDestination is what writeBatch reports for a datagram whose address the socket
// cannot send to (an invalid address, or IPv6 on an IPv4 socket).
var errBadDestination = errors.New("server: reply address does not suit the socket")

// netUDPConn is the udpConn of any platform: a net.UDPConn, served through portableIO.
type netUDPConn struct{ *net.UDPConn }

// openNetUDP binds a net.UDPConn to addr, with SO_REUSEPORT if reusePort.
func openNetUDP(addr string, reusePort bool) (udpConn, error) {
	var lc net.ListenConfig
	if reusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error { return setReusePort(c) }
	}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	c := pc.(*net.UDPConn)
	// Best effort: a smaller buffer than asked for only means drops come sooner.
	c.SetReadBuffer(udpSocketBuffer)
	c.SetWriteBuffer(udpSocketBuffer)
	return netUDPConn{c}, nil
}

func (c netUDPConn) newIO(int) batchIO { return portableIO{conn: c.UDPConn} }

func (c netUDPConn) setReusePort() error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	return setReusePort(raw)
}

// stopReads cuts reads short with a past deadline.
func (c netUDPConn) stopReads() { c.SetReadDeadline(time.Now()) }

func (c netUDPConn) close() error { return c.Close() }

// portableIO is the batchIO of any platform: each call moves one datagram through the
// net.UDPConn, and allocates nothing.
type portableIO struct {
	conn *net.UDPConn
}

// readBatch reads one datagram into ds[0].
func (p portableIO) readBatch(ds []datagram) (int, error) {
	n, from, err := p.conn.ReadFromUDPAddrPort(ds[0].buf[:cap(ds[0].buf)])
	if err != nil {
		return 0, err
	}
	ds[0].buf, ds[0].addr = ds[0].buf[:n], from
	return 1, nil
}

// writeBatch writes the datagrams one by one.
func (p portableIO) writeBatch(ds []datagram) (int, error) {
	for i := range ds {
		if !ds[i].addr.IsValid() {
			return i, errBadDestination
		}
		if _, err := p.conn.WriteToUDPAddrPort(ds[i].buf, ds[i].addr); err != nil {
			return i, err
		}
	}
	return len(ds), nil
}
