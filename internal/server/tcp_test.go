package server

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTCPPipelinedOutOfOrder pins RFC 7766 §7: queries on one connection are handled
// concurrently and answered as they finish. Query A's handler waits until B has been
// answered, so B's reply must arrive first; a server answering in order would deadlock.
func TestTCPPipelinedOutOfOrder(t *testing.T) {
	t.Parallel()
	bAnswered := make(chan struct{})
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		switch r.Question[0].Name {
		case "a.test.":
			<-bAnswered
			answerA(w, r)
		case "b.test.":
			answerA(w, r)
			close(bAnswered)
		}
	})
	_, _, tcpAddr := startServer(t, Config{Handler: handler})
	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, query(t, 1, "a.test."), query(t, 2, "b.test."))
	checkAnswered(t, unpack(t, readTCP(t, c)), 2, "tcp")
	checkAnswered(t, unpack(t, readTCP(t, c)), 1, "tcp")
}

// TestTCPMaxPipelined pins the per-connection cap on queries in flight (LIMITS.md: 100 by
// default): with MaxPipelined queries blocked in the handler, one more sent on the same
// connection is not handled until one of them finishes.
func TestTCPMaxPipelined(t *testing.T) {
	t.Parallel()
	const limit = 3
	var (
		mu             sync.Mutex // guards inFlight and peak
		inFlight, peak int
	)
	entered := make(chan struct{}, limit+1)
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
		answerA(w, r)
	})
	_, _, tcpAddr := startServer(t, Config{Handler: handler, MaxPipelined: limit})
	c := dial(t, "tcp", tcpAddr)
	var queries [][]byte
	for id := range uint16(limit + 1) {
		queries = append(queries, query(t, id, "pipe.test."))
	}
	writeTCP(t, c, queries...)
	for range limit {
		<-entered
	}
	release <- struct{}{} // one query finishes: the last one may start
	<-entered
	close(release)
	for range limit + 1 {
		readTCP(t, c)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak != limit {
		t.Errorf("%d queries were handled at once, want MaxPipelined = %d", peak, limit)
	}
}

// TestTCPConnectionCap pins MaxTCPConns (LIMITS.md: 150 by default): a connection over the
// cap is accepted and closed at once, and a closed connection frees its slot.
func TestTCPConnectionCap(t *testing.T) {
	t.Parallel()
	_, _, tcpAddr := startServer(t, Config{MaxTCPConns: 2})
	var held []net.Conn
	for id := range uint16(2) {
		c := dial(t, "tcp", tcpAddr)
		writeTCP(t, c, query(t, id, "held.test."))
		checkAnswered(t, unpack(t, readTCP(t, c)), id, "tcp")
		held = append(held, c)
	}
	expectClosed(t, dial(t, "tcp", tcpAddr))

	held[0].Close()
	// The server notices the close on its own schedule; retry until the slot is free.
	for attempt := 1; ; attempt++ {
		if tryTCP(t, tcpAddr) {
			break
		}
		if attempt == 10000 {
			t.Fatal("the slot of a closed connection was never freed")
		}
	}
}

// tryTCP reports whether a fresh connection to addr gets an answer.
func tryTCP(t *testing.T, addr string) bool {
	c := dial(t, "tcp", addr)
	defer c.Close()
	q := query(t, 1, "retry.test.")
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(len(q)))
	if _, err := c.Write(append(b, q...)); err != nil {
		return false
	}
	var prefix [2]byte
	_, err := c.Read(prefix[:])
	return err == nil
}

// TestTCPTimeouts pins the first-message and idle timeouts (LIMITS.md: 3 s and 10 s,
// RFC 7766 §6.2.3): a connection that does not deliver a query in time is closed.
func TestTCPTimeouts(t *testing.T) {
	t.Parallel()
	const short, long = 20 * time.Millisecond, time.Hour
	firstOnly := Config{TCPFirstMessageTimeout: short, TCPIdleTimeout: long}
	idleOnly := Config{TCPFirstMessageTimeout: long, TCPIdleTimeout: short}
	for _, tc := range []struct {
		name string
		cfg  Config
		send func(t *testing.T, c net.Conn)
	}{
		{"first message never sent", firstOnly, func(*testing.T, net.Conn) {}},
		{"first message sent in part", firstOnly, func(t *testing.T, c net.Conn) {
			c.Write([]byte{0, 40, 0x12, 0x34})
		}},
		{"idle after a query", idleOnly, func(t *testing.T, c net.Conn) {
			writeTCP(t, c, query(t, 5, "idle.test."))
			checkAnswered(t, unpack(t, readTCP(t, c)), 5, "tcp")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, tcpAddr := startServer(t, tc.cfg)
			c := dial(t, "tcp", tcpAddr)
			tc.send(t, c)
			expectClosed(t, c)
		})
	}
}

// TestTCPLargestQuery sends a query of 65535 bytes, the most the length prefix can
// announce (RFC 7766 §8), made valid with EDNS padding.
func TestTCPLargestQuery(t *testing.T) {
	t.Parallel()
	sizes := make(chan int, 1)
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		sizes <- r.Len()
		answerA(w, r)
	})
	_, _, tcpAddr := startServer(t, Config{Handler: handler})
	m := new(dns.Msg)
	m.SetQuestion("big.test.", dns.TypeA)
	m.Id = 77
	m.SetEdns0(1232, false)
	padding := &dns.EDNS0_PADDING{}
	m.IsEdns0().Option = append(m.IsEdns0().Option, padding)
	padding.Padding = make([]byte, tcpMessageMax-m.Len())
	big, err := m.Pack()
	if err != nil || len(big) != tcpMessageMax {
		t.Fatalf("built a %d-byte query (%v), want %d", len(big), err, tcpMessageMax)
	}
	c := dial(t, "tcp", tcpAddr)
	writeTCP(t, c, big)
	checkAnswered(t, unpack(t, readTCP(t, c)), 77, "tcp")
	if got := <-sizes; got != tcpMessageMax {
		t.Errorf("handler got a %d-byte query, want %d", got, tcpMessageMax)
	}
}
