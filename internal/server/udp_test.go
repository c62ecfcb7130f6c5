package server

import (
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func TestUDPConcurrentQueries(t *testing.T) {
	t.Parallel()
	_, udpAddr, _ := startServer(t, Config{UDPSockets: 2})
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
