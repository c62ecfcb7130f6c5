package server

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// udpOpeners are the ways this platform opens a server's UDP socket, each tested alike:
// the platform's (on Linux a descriptor of the server's own, read with recvmmsg) and the
// portable net.UDPConn.
var udpOpeners = map[string]func(addr string, reusePort bool) (udpConn, error){
	"platform": openUDPSocket,
	"portable": openNetUDP,
}

// openLoopback opens a server socket with open on addr (IPv4 or IPv6 loopback, or a
// wildcard, port 0) and closes it when the test ends; it skips the test where that family is
// not available. A read still blocked testTimeout later is woken (stopReads), so that a
// missing datagram fails the test rather than hanging it.
func openLoopback(t testing.TB, open func(string, bool) (udpConn, error), addr string) udpConn {
	t.Helper()
	c, err := open(addr, false)
	if err != nil {
		t.Skipf("no %s here: %v", addr, err)
	}
	watchdog := time.AfterFunc(testTimeout, c.stopReads)
	t.Cleanup(func() {
		watchdog.Stop()
		c.close()
	})
	return c
}

// forEachSocketKind runs test, in parallel, on a socket of each kind (udpOpeners) bound to
// local, as a subtest named after the kind and the address.
func forEachSocketKind(t *testing.T, local string, test func(t *testing.T, srv udpConn)) {
	t.Helper()
	for name, open := range udpOpeners {
		t.Run(name+"/"+local, func(t *testing.T) {
			t.Parallel()
			test(t, openLoopback(t, open, local))
		})
	}
}

// addrPort returns c's bound address.
func addrPort(c udpConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// listenLoopback binds a client's UDP socket to addr (IPv4 or IPv6 loopback, port 0) and
// closes it when the test ends; it skips the test where that family is not available.
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

// goroutineID returns the calling goroutine's number, as goroutine dumps show it.
func goroutineID() string {
	buf := make([]byte, 64)
	header := string(buf[:runtime.Stack(buf, false)])
	id, _, _ := strings.Cut(strings.TrimPrefix(header, "goroutine "), " ")
	return id
}

// startWaitingReader starts a goroutine reading one batch from io and returns, once that
// reader waits for input, the channel its read's error will arrive on.
func startWaitingReader(t *testing.T, io batchIO) <-chan error {
	t.Helper()
	reader, read := make(chan string, 1), make(chan error, 1)
	go func() { // owned by the test: it ends when the read returns
		reader <- goroutineID()
		_, err := io.readBatch(newDatagrams(4, 16))
		read <- err
	}()
	waitBlockedInRead(t, <-reader)
	return read
}

// waitBlockedInRead returns once goroutine id waits in readBatch for input: parked on Go's
// poller ("IO wait") or in a blocking system call, as the goroutine dump shows. Polling the
// runtime's state is how the test knows that what it does next meets a waiting reader.
func waitBlockedInRead(t *testing.T, id string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if !strings.HasPrefix(header, "goroutine "+id+" ") {
				continue
			}
			waiting := strings.Contains(header, "[IO wait") || strings.Contains(header, "[syscall")
			if waiting && strings.Contains(g, ".readBatch(") {
				return
			}
		}
		time.Sleep(time.Millisecond) // polling the runtime's state, not waiting for time to pass
	}
	t.Fatalf("goroutine %s did not come to wait in readBatch", id)
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
// socket's watchdog, see openLoopback).
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
	for _, local := range []string{"127.0.0.1:0", "[::1]:0"} {
		forEachSocketKind(t, local, func(t *testing.T, srv udpConn) {
			io := srv.newIO(4) // fewer than the datagrams: several batches
			const clients = 6
			conns := make(map[netip.AddrPort]*net.UDPConn)
			for i := range clients {
				c := listenLoopback(t, local)
				payload := fmt.Appendf(nil, "query %d", i)
				if _, err := c.WriteToUDPAddrPort(payload, addrPort(srv)); err != nil {
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

// TestBatchIOTruncates checks that a datagram longer than its slot arrives cut to the
// slot's capacity: the server relies on it to recognise oversized queries.
func TestBatchIOTruncates(t *testing.T) {
	t.Parallel()
	forEachSocketKind(t, "127.0.0.1:0", func(t *testing.T, srv udpConn) {
		c := listenLoopback(t, "127.0.0.1:0")
		c.WriteToUDPAddrPort(bytes.Repeat([]byte{'x'}, 100), addrPort(srv))
		ds := newDatagrams(1, 10)
		n, err := srv.newIO(1).readBatch(ds)
		if err != nil || n != 1 || len(ds[0].buf) != 10 {
			t.Fatalf("readBatch = %d, %v, %d octets; want 1 datagram of 10", n, err, len(ds[0].buf))
		}
	})
}

// TestBatchIOBadDestination checks that a datagram the socket cannot send to stops the
// batch just before it, is then reported alone, and that the caller's skipping it leaves
// the rest deliverable.
func TestBatchIOBadDestination(t *testing.T) {
	t.Parallel()
	forEachSocketKind(t, "127.0.0.1:0", func(t *testing.T, srv udpConn) {
		client := listenLoopback(t, "127.0.0.1:0")
		to := client.LocalAddr().(*net.UDPAddr).AddrPort()
		io := srv.newIO(8)
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

// TestBatchIOClosed checks that reading or writing a closed socket reports net.ErrClosed,
// which is how a socket's reader learns that it is done.
func TestBatchIOClosed(t *testing.T) {
	t.Parallel()
	forEachSocketKind(t, "127.0.0.1:0", func(t *testing.T, srv udpConn) {
		io := srv.newIO(4)
		srv.close()
		if _, err := io.readBatch(newDatagrams(4, 16)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("readBatch on a closed socket: %v, want net.ErrClosed", err)
		}
		to := datagram{buf: []byte("late"), addr: addrPort(srv)}
		if _, err := io.writeBatch([]datagram{to}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("writeBatch on a closed socket: %v, want net.ErrClosed", err)
		}
	})
}

// TestBatchIOStopReads checks what Shutdown relies on: stopReads wakes a reader blocked
// waiting for a datagram, later reads fail too, and writes still go out.
func TestBatchIOStopReads(t *testing.T) {
	t.Parallel()
	forEachSocketKind(t, "127.0.0.1:0", func(t *testing.T, srv udpConn) {
		client := listenLoopback(t, "127.0.0.1:0")
		io := srv.newIO(4)
		read := startWaitingReader(t, io)
		srv.stopReads()
		select {
		case err := <-read:
			if err == nil {
				t.Fatal("readBatch returned no error after stopReads")
			}
		case <-time.After(testTimeout):
			t.Fatal("stopReads did not wake the blocked reader")
		}
		if _, err := io.readBatch(newDatagrams(4, 16)); err == nil {
			t.Error("readBatch after stopReads returned no error")
		}
		reply := datagram{buf: []byte("reply"), addr: client.LocalAddr().(*net.UDPAddr).AddrPort()}
		if n, err := io.writeBatch([]datagram{reply}); n != 1 || err != nil {
			t.Fatalf("writeBatch after stopReads = %d, %v", n, err)
		}
		buf := make([]byte, 16)
		if n, err := client.Read(buf); err != nil || string(buf[:n]) != "reply" {
			t.Fatalf("client got %q, %v", buf[:n], err)
		}
	})
}

// TestBatchIOAllocations pins that moving a batch allocates nothing.
func TestBatchIOAllocations(t *testing.T) {
	srv := openLoopback(t, openUDPSocket, "127.0.0.1:0")
	client := listenLoopback(t, "127.0.0.1:0")
	to := addrPort(srv)
	back := []datagram{{buf: []byte("reply"), addr: client.LocalAddr().(*net.UDPAddr).AddrPort()}}
	io := srv.newIO(4)
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
	for _, wildcard := range []string{"0.0.0.0:0", "[::]:0"} {
		forEachSocketKind(t, wildcard, func(t *testing.T, srv udpConn) {
			client := listenLoopback(t, "127.0.0.1:0")
			port := addrPort(srv).Port()
			client.WriteToUDPAddrPort([]byte("query"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
			io := srv.newIO(4)
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
