package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestUDPConcurrentQueries has clients keep many queries in flight on a server with two
// sockets, with each batch I/O implementation, and checks that every query is answered.
func TestUDPConcurrentQueries(t *testing.T) {
	t.Parallel()
	for name, open := range udpOpeners {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			concurrentQueries(t, startUDPServer(t, Config{UDPSockets: 2}, open))
		})
	}
}

// startUDPServer starts a Server for cfg on 127.0.0.1:0 over UDP only, its sockets opened
// with open, and shuts it down when the test ends. A nil Handler becomes answerA.
func startUDPServer(t *testing.T, cfg Config, open func(string, bool) (udpConn, error)) string {
	t.Helper()
	srv := newTestServer(t, cfg)
	srv.openUDP = open
	addr, err := srv.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr.String()
}

// concurrentQueries runs clients against the UDP server at udpAddr, each keeping a window
// of queries in flight, and checks every reply.
func concurrentQueries(t *testing.T, udpAddr string) {
	// Each client keeps a window of queries in flight: UDP drops what overflows the
	// socket buffers, so an unbounded burst would test the kernel, not the server.
	const clients, perClient, window = 8, 200, 16
	var wg sync.WaitGroup
	for client := range clients {
		wg.Go(func() {
			c := dial(t, "udp", udpAddr)
			outstanding := make(map[uint16]bool)
			buf := make([]byte, 512)
			for sent := 0; sent < perClient || len(outstanding) > 0; {
				for ; sent < perClient && len(outstanding) < window; sent++ {
					id := uint16(client*perClient + sent)
					outstanding[id] = true
					c.Write(query(t, id, "many.test."))
				}
				n, err := c.Read(buf)
				if err != nil {
					t.Errorf("client %d: %v (%d replies missing)", client, err, len(outstanding))
					return
				}
				m := new(dns.Msg)
				if err := m.Unpack(buf[:n]); err != nil || !outstanding[m.Id] || m.Question[0].Name != "many.test." {
					t.Errorf("client %d: unexpected reply %v (%v)", client, m, err)
					return
				}
				delete(outstanding, m.Id)
			}
		})
	}
	wg.Wait()
}

// TestUDPReadsWhileHandlerBlocks shows the worker pool: a query whose handler blocks does
// not stop the socket from being read and other queries from being answered.
func TestUDPReadsWhileHandlerBlocks(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Question[0].Name == "slow.test." {
			<-unblock
		}
		answerA(w, r)
	})
	_, udpAddr, _ := startServer(t, Config{Handler: handler, UDPSockets: 1})
	slow := dial(t, "udp", udpAddr)
	slow.Write(query(t, 1, "slow.test."))
	for range 5 {
		canaryUDP(t, udpAddr)
	}
	close(unblock)
	checkAnswered(t, readUDP(t, slow), 1, "udp")
}

// TestUDPMaxInFlight pins udpMaxInFlight: with that many queries blocked in the handler,
// one more is not handled until one of them finishes.
func TestUDPMaxInFlight(t *testing.T) {
	t.Parallel()
	var (
		mu             sync.Mutex // guards inFlight and peak
		inFlight, peak int
	)
	entered := make(chan struct{}, udpMaxInFlight+1)
	release := make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		entered <- struct{}{}
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		// No reply: a burst of a thousand would overflow the client's socket buffer.
	})
	_, udpAddr, _ := startServer(t, Config{Handler: handler, UDPSockets: 1})
	c := dial(t, "udp", udpAddr)
	// One query at a time, so that none overflows the socket buffer and is lost.
	for id := range uint16(udpMaxInFlight) {
		if _, err := c.Write(query(t, id, "flight.test.")); err != nil {
			t.Fatal(err)
		}
		<-entered
	}
	c.Write(query(t, udpMaxInFlight, "flight.test."))
	release <- struct{}{} // one query finishes: the last one may start
	<-entered
	close(release)
	mu.Lock()
	defer mu.Unlock()
	if peak != udpMaxInFlight {
		t.Errorf("%d queries were in the handler at once, want udpMaxInFlight = %d", peak, udpMaxInFlight)
	}
}

// scriptedIO is a batchIO without a network: readBatch returns the batches a test sends on
// batches, one per call (net.ErrClosed once batches is closed), and writeBatch passes
// copies of what it is given to written. Like a socket, it refuses an invalid destination.
type scriptedIO struct {
	batches <-chan []datagram
	written chan<- datagram
}

func (s *scriptedIO) readBatch(ds []datagram) (int, error) {
	batch, ok := <-s.batches
	if !ok {
		return 0, net.ErrClosed
	}
	for i, d := range batch {
		// Like the kernel, cut what does not fit the slot.
		ds[i].buf = append(ds[i].buf[:0], d.buf[:min(len(d.buf), cap(ds[i].buf))]...)
		ds[i].addr = d.addr
	}
	return len(batch), nil
}

func (s *scriptedIO) writeBatch(ds []datagram) (int, error) {
	for i, d := range ds {
		if !d.addr.IsValid() {
			return i, errBadDestination
		}
		s.written <- datagram{buf: bytes.Clone(d.buf), addr: d.addr}
	}
	return len(ds), nil
}

// batchCase is one datagram of TestUDPBatchMixed and what must come back for it.
type batchCase struct {
	name  string
	msg   []byte
	from  netip.AddrPort
	reply func(t *testing.T, m *dns.Msg) // nil: no reply may come
}

// TestUDPBatchMixed serves one batch holding fast-path queries, queries for the Handler
// and bad packets, from IPv4 and IPv6 clients, twice (the second time on the reused
// slots), and checks that each datagram gets exactly its own reply, sent to its own
// source, and that the raw handler and the Handler each saw the right client.
func TestUDPBatchMixed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex               // guards seen
	seen := make(map[uint16]string) // query ID -> the remote address a handler saw
	see := func(id uint16, remote net.Addr) {
		mu.Lock()
		defer mu.Unlock()
		seen[id] = remote.String()
	}
	raw := func(q []byte, _ string, remote net.Addr, out []byte) ([]byte, bool) {
		m := new(dns.Msg)
		if m.Unpack(q) != nil || len(m.Question) != 1 {
			return nil, false
		}
		switch m.Question[0].Name {
		case "panic.test.":
			panic("raw handler test panic")
		case "fast.test.":
			see(m.Id, remote)
			out = append(out[:0], q...)
			out[2] |= qrBit
			return out, true
		}
		return nil, false
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		see(r.Id, w.RemoteAddr())
		answerA(w, r)
	})
	short := func(id uint16, name string) []byte { return query(t, id, name)[:headerLen+3] }
	response := query(t, 3, "fast.test.")
	response[2] |= qrBit
	oversized := append(query(t, 4, "fast.test."), make([]byte, udpQueryMax)...)
	fastEcho := func(id uint16) func(*testing.T, *dns.Msg) {
		return func(t *testing.T, m *dns.Msg) {
			if m.Id != id || !m.Response || len(m.Answer) != 0 || m.Question[0].Name != "fast.test." {
				t.Errorf("want the fast path's echo of query %d, got\n%v", id, m)
			}
		}
	}
	handled := func(id uint16) func(*testing.T, *dns.Msg) {
		return func(t *testing.T, m *dns.Msg) { checkAnswered(t, m, id, "udp") }
	}
	rcode := func(id uint16, rcode int) func(*testing.T, *dns.Msg) {
		return func(t *testing.T, m *dns.Msg) {
			if m.Id != id || m.Rcode != rcode {
				t.Errorf("want %s for query %d, got\n%v", dns.RcodeToString[rcode], id, m)
			}
		}
	}
	v4 := func(i uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 1000+i) }
	v6 := func(i uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), 1000+i) }
	cases := []batchCase{
		{"fast", query(t, 0, "fast.test."), v4(0), fastEcho(0)},
		{"handler", query(t, 1, "slow.test."), v4(1), handled(1)},
		{"shorter than a header", []byte{0, 2, 0, 0, 0}, v4(2), nil},
		{"response", response, v4(3), nil},
		{"oversized", oversized, v4(4), rcode(4, dns.RcodeFormatError)},
		{"question cut short", short(5, "slow.test."), v4(5), rcode(5, dns.RcodeFormatError)},
		{"no source address", query(t, 6, "fast.test."), netip.AddrPort{}, nil},
		{"fast over IPv6", query(t, 7, "fast.test."), v6(7), fastEcho(7)},
		{"handler over IPv6", query(t, 8, "slow.test."), v6(8), handled(8)},
		{"raw handler panics", query(t, 9, "panic.test."), v4(9), rcode(9, dns.RcodeServerFailure)},
		{"fast after the bad ones", query(t, 10, "fast.test."), v6(10), fastEcho(10)},
	}
	if len(cases) > udpBatchSize {
		t.Fatalf("%d cases do not fit one batch of %d", len(cases), udpBatchSize)
	}
	batch := make([]datagram, len(cases))
	want := make(map[netip.AddrPort]batchCase)
	for i, c := range cases {
		batch[i] = datagram{buf: c.msg, addr: c.from}
		if c.reply != nil {
			want[c.from] = c
		}
	}

	srv, err := New(Config{Handler: handler, RawHandler: raw, Logger: testLogger(t), UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	batches := make(chan []datagram)
	written := make(chan datagram, 2*len(cases))
	srv.newBatchIO = func(udpConn, int) batchIO { return &scriptedIO{batches: batches, written: written} }
	if _, err := srv.ListenUDP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		batches <- batch
		for range want {
			var d datagram
			select {
			case d = <-written:
			case <-time.After(testTimeout):
				t.Fatalf("round %d: a reply is missing", round)
			}
			c, ok := want[d.addr]
			if !ok {
				t.Fatalf("round %d: reply to %v, which should get none:\n%v", round, d.addr, unpack(t, d.buf))
			}
			c.reply(t, unpack(t, d.buf))
		}
	}
	close(batches)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	close(written)
	for d := range written {
		t.Errorf("one reply too many, to %v:\n%v", d.addr, unpack(t, d.buf))
	}
	for _, c := range cases {
		id := binary.BigEndian.Uint16(c.msg)
		if got, ok := seen[id]; ok && c.from.IsValid() && got != c.from.String() {
			t.Errorf("%s: a handler saw client %s, want %s", c.name, got, c.from)
		}
	}
}

// TestUDPBatchAllocations pins that a batch of fast-path answers allocates nothing: not
// for the clients' addresses, the writers or the replies.
func TestUDPBatchAllocations(t *testing.T) {
	raw := func(q []byte, _ string, _ net.Addr, out []byte) ([]byte, bool) {
		out = append(out[:0], q...)
		out[2] |= qrBit
		return out, true
	}
	srv, err := New(Config{Handler: answerA, RawHandler: raw, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	conn := openLoopback(t, openUDPSocket, "127.0.0.1:0")
	srv.newBatchIO = func(udpConn, int) batchIO { return &discardIO{} }
	b := newUDPBatch(newUDPSocket(srv, conn))
	q := query(t, 1, "fast.test.")
	for i := range b.in {
		b.in[i].buf = append(b.in[i].buf[:0], q...)
		b.in[i].addr = netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), uint16(i))
	}
	allocs := testing.AllocsPerRun(100, func() { b.serve(len(b.in)) })
	if allocs != 0 {
		t.Errorf("serving a batch of %d fast-path queries allocates %.1f times, want 0", len(b.in), allocs)
	}
	if n := b.io.(*discardIO).sent; n == 0 {
		t.Error("no reply was written")
	}
}

// discardIO is a batchIO whose writes only count what they are given.
type discardIO struct{ sent int }

func (d *discardIO) readBatch([]datagram) (int, error) { return 0, net.ErrClosed }

func (d *discardIO) writeBatch(ds []datagram) (int, error) {
	d.sent += len(ds)
	return len(ds), nil
}

// TestUDPWriteDropsOnFullBuffer pins what a full send buffer does to a batch of replies:
// after writeBatch has waited its bounded time and reports errSendBufferFull, the rest of
// the batch is dropped at once, not retried reply by reply (each retry would wait again,
// holding up the reader). A reply the kernel refuses for its own reasons is skipped and the
// others still go.
func TestUDPWriteDropsOnFullBuffer(t *testing.T) {
	t.Parallel()
	srv := newUnstartedServer(t, Config{})
	u := newUDPSocket(srv, openLoopback(t, openUDPSocket, "127.0.0.1:0"))
	to := netip.MustParseAddrPort("192.0.2.1:53")
	replies := []datagram{{[]byte("a"), to}, {[]byte("b"), to}, {[]byte("c"), to}, {[]byte("d"), to}}

	full := &failingIO{err: errSendBufferFull}
	u.write(full, replies)
	if full.calls != 1 {
		t.Errorf("a full send buffer: %d writeBatch calls, want 1 (the rest dropped)", full.calls)
	}
	refused := &failingIO{err: errBadDestination}
	u.write(refused, replies)
	if refused.calls != len(replies) {
		t.Errorf("refused replies: %d writeBatch calls, want %d (each skipped, the rest tried)", refused.calls, len(replies))
	}
}

// failingIO is a batchIO whose every write fails at its first datagram with err.
type failingIO struct {
	err   error
	calls int
}

func (f *failingIO) readBatch([]datagram) (int, error) { return 0, net.ErrClosed }

func (f *failingIO) writeBatch([]datagram) (int, error) {
	f.calls++
	return 0, f.err
}
