package server

import (
	"errors"
	"net"
	"net/netip"
)

// datagram is one UDP datagram of a batch: its octets and the address at the other end.
type datagram struct {
	// buf holds the datagram. To read, the reader fills buf's whole capacity and reslices
	// buf to what arrived; to write, buf is the payload.
	buf []byte
	// addr is the datagram's source (read) or destination (write).
	addr netip.AddrPort
}

// batchIO moves UDP datagrams in batches through one socket. Each implementation keeps
// the buffers its system calls need, allocated once and reused, so one batchIO belongs to
// one goroutine at a time: a socket's reader has one, its reply writer another.
//
// On Linux it is mmsgIO (batchio_linux.go): one recvmmsg or sendmmsg per batch. Elsewhere,
// or where that is not available, it is portableIO: one datagram per call, through
// net.UDPConn.
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

// portableIO is the batchIO of any platform: each call moves one datagram through the
// net.UDPConn, and allocates nothing.
type portableIO struct {
	conn *net.UDPConn
}

// newPortableIO returns a portableIO for conn; it has no batch size.
func newPortableIO(conn *net.UDPConn, _ int) batchIO { return portableIO{conn: conn} }

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
