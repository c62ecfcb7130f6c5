package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// batchIOs are the batch I/O implementations of this platform, each tested alike.
var batchIOs = map[string]func(*net.UDPConn, int) batchIO{
	"platform": newBatchIO,
	"portable": newPortableIO,
}

// listenLoopback binds a UDP socket to addr (IPv4 or IPv6 loopback, port 0) and closes it
// when the test ends; it skips the test where that family is not available.
func listenLoopback(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("no %s here: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { c.Close() })
	return c
}

// newDatagrams returns n read slots of size octets each.
func newDatagrams(n, size int) []datagram {
	ds := make([]datagram, n)
	for i := range ds {
		ds[i].buf = make([]byte, 0, size)
	}
	return ds
}

// readAll reads from io until want datagrams have arrived, at most testTimeout (the
// socket's deadline).
func readAll(t *testing.T, io batchIO, want int) []datagram {
	t.Helper()
	var got []datagram
	for len(got) < want {
		ds := newDatagrams(4, 512)
		n, err := io.readBatch(ds)
		if err != nil {
			t.Fatalf("readBatch after %d of %d datagrams: %v", len(got), want, err)
		}
		if n < 1 || n > len(ds) {
			t.Fatalf("readBatch returned %d, want 1..%d", n, len(ds))
		}
		got = append(got, ds[:n]...)
	}
	return got
}

// TestBatchIORoundTrip sends datagrams from several clients to a socket, reads them in
// batches, checks each one's octets and source, and writes a reply to each source in one
// batch, over IPv4 and IPv6, with each implementation.
func TestBatchIORoundTrip(t *testing.T) {
	t.Parallel()
	for name, newIO := range batchIOs {
		for _, local := range []string{"127.0.0.1:0", "[::1]:0"} {
			t.Run(name+"/"+local, func(t *testing.T) {
				t.Parallel()
				srv := listenLoopback(t, local)
				io := newIO(srv, 4) // fewer than the datagrams: several batches
				const clients = 6
				conns := make(map[netip.AddrPort]*net.UDPConn)
				for i := range clients {
					c := listenLoopback(t, local)
					payload := fmt.Appendf(nil, "query %d", i)
					if _, err := c.WriteToUDPAddrPort(payload, srv.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
						t.Fatal(err)
					}
					conns[c.LocalAddr().(*net.UDPAddr).AddrPort()] = c
				}
				got := readAll(t, io, clients)
				replies := make([]datagram, len(got))
				for i, d := range got {
					c := conns[d.addr]
					if c == nil {
						t.Fatalf("datagram %q from %v, not one of the clients", d.buf, d.addr)
					}
					if !bytes.HasPrefix(d.buf, []byte("query ")) {
						t.Errorf("datagram from %v is %q", d.addr, d.buf)
					}
					replies[i] = datagram{buf: append([]byte("reply to "), d.buf...), addr: d.addr}
				}
				for sent := 0; sent < len(replies); {
					n, err := io.writeBatch(replies[sent:])
					if err != nil {
						t.Fatalf("writeBatch: %v", err)
					}
					sent += n
				}
				for _, d := range got {
					buf := make([]byte, 512)
					n, err := conns[d.addr].Read(buf)
					if err != nil {
						t.Fatalf("client %v: %v", d.addr, err)
					}
					if want := "reply to " + string(d.buf); string(buf[:n]) != want {
						t.Errorf("client %v got %q, want %q", d.addr, buf[:n], want)
					}
				}
			})
		}
	}
}

// TestBatchIOTruncates checks that a datagram longer than its slot arrives cut to the
// slot's capacity: the server relies on it to recognise oversized queries.
func TestBatchIOTruncates(t *testing.T) {
	t.Parallel()
	for name, newIO := range batchIOs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := listenLoopback(t, "127.0.0.1:0")
			c := listenLoopback(t, "127.0.0.1:0")
			c.WriteToUDPAddrPort(bytes.Repeat([]byte{'x'}, 100), srv.LocalAddr().(*net.UDPAddr).AddrPort())
			ds := newDatagrams(1, 10)
			n, err := newIO(srv, 1).readBatch(ds)
			if err != nil || n != 1 || len(ds[0].buf) != 10 {
				t.Fatalf("readBatch = %d, %v, %d octets; want 1 datagram of 10", n, err, len(ds[0].buf))
			}
		})
	}
}

// TestBatchIOBadDestination checks that a datagram the socket cannot send to stops the
// batch just before it, is then reported alone, and that the caller's skipping it leaves
// the rest deliverable.
func TestBatchIOBadDestination(t *testing.T) {
	t.Parallel()
	for name, newIO := range batchIOs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := listenLoopback(t, "127.0.0.1:0")
			client := listenLoopback(t, "127.0.0.1:0")
			to := client.LocalAddr().(*net.UDPAddr).AddrPort()
			io := newIO(srv, 8)
			ds := []datagram{
				{buf: []byte("one"), addr: to},
				{buf: []byte("lost"), addr: netip.AddrPort{}},
				{buf: []byte("two"), addr: to},
			}
			n, err := io.writeBatch(ds)
			if n != 1 {
				t.Fatalf("writeBatch sent %d (%v), want 1: the bad address stops the batch", n, err)
			}
			n, err = io.writeBatch(ds[1:])
			if n != 0 || err == nil {
				t.Fatalf("writeBatch of the bad datagram = %d, %v; want 0 and an error", n, err)
			}
			if n, err := io.writeBatch(ds[2:]); n != 1 || err != nil {
				t.Fatalf("writeBatch after skipping = %d, %v; want 1, nil", n, err)
			}
			for _, want := range []string{"one", "two"} {
				buf := make([]byte, 16)
				n, err := client.Read(buf)
				if err != nil || string(buf[:n]) != want {
					t.Fatalf("client got %q (%v), want %q", buf[:n], err, want)
				}
			}
		})
	}
}

// TestBatchIOClosed checks that reading a closed socket reports net.ErrClosed, which is how
// a socket's reader learns that it is done.
func TestBatchIOClosed(t *testing.T) {
	t.Parallel()
	for name, newIO := range batchIOs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := listenLoopback(t, "127.0.0.1:0")
			io := newIO(srv, 4)
			srv.Close()
			if _, err := io.readBatch(newDatagrams(4, 16)); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("readBatch on a closed socket: %v, want net.ErrClosed", err)
			}
		})
	}
}

// TestBatchIOAllocations pins that moving a batch allocates nothing.
func TestBatchIOAllocations(t *testing.T) {
	srv := listenLoopback(t, "127.0.0.1:0")
	client := listenLoopback(t, "127.0.0.1:0")
	to := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	back := []datagram{{buf: []byte("reply"), addr: client.LocalAddr().(*net.UDPAddr).AddrPort()}}
	io := newBatchIO(srv, 4)
	in := newDatagrams(4, 64)
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		client.WriteToUDPAddrPort([]byte("query"), to)
		if n, err := io.readBatch(in); n != 1 || err != nil {
			t.Fatalf("readBatch = %d, %v", n, err)
		}
		if n, err := io.writeBatch(back); n != 1 || err != nil {
			t.Fatalf("writeBatch = %d, %v", n, err)
		}
		client.Read(buf)
	})
	if allocs != 0 {
		t.Errorf("a read and a write batch allocate %.1f times, want 0", allocs)
	}
}

// TestBatchIOWildcard checks a socket bound to a wildcard address, which Go opens as a
// dual-stack IPv6 socket even for 0.0.0.0: an IPv4 client arrives as an IPv4-mapped
// address and gets its reply.
func TestBatchIOWildcard(t *testing.T) {
	t.Parallel()
	for name, newIO := range batchIOs {
		for _, wildcard := range []string{"0.0.0.0:0", "[::]:0"} {
			t.Run(name+"/"+wildcard, func(t *testing.T) {
				t.Parallel()
				srv := listenLoopback(t, wildcard)
				client := listenLoopback(t, "127.0.0.1:0")
				port := srv.LocalAddr().(*net.UDPAddr).AddrPort().Port()
				client.WriteToUDPAddrPort([]byte("query"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
				io := newIO(srv, 4)
				d := readAll(t, io, 1)[0]
				if d.addr.Addr().Unmap() != netip.MustParseAddr("127.0.0.1") {
					t.Errorf("source %v, want 127.0.0.1", d.addr)
				}
				if n, err := io.writeBatch([]datagram{{buf: []byte("reply"), addr: d.addr}}); n != 1 || err != nil {
					t.Fatalf("writeBatch = %d, %v", n, err)
				}
				buf := make([]byte, 16)
				if n, err := client.Read(buf); err != nil || string(buf[:n]) != "reply" {
					t.Fatalf("client got %q, %v", buf[:n], err)
				}
			})
		}
	}
}
