package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// Bounds of the Unbound test.
const (
	resolveTimeout = 10 * time.Second // one corpus question
	corpusWorkers  = 8                // questions in flight at once
	port53Wait     = 20 * time.Second // for another test to free port 53
)

// TestUnboundResolvesTestbedCorpus runs Unbound over the default testbed
// and checks its answer for every case of testdata/corpus.txt.
func TestUnboundResolvesTestbedCorpus(t *testing.T) {
	t.Parallel()
	unbound := requirePeer(t, "unbound")
	if os.Geteuid() != 0 {
		t.Skip("needs root: Unbound asks name servers on port 53, so the testbed must bind port 53 on 127.53.0.0/16")
	}
	cases := loadCorpus(t, "testdata/corpus.txt")

	tb := startOnPort53(t)

	addr := startUnbound(t, unbound, unboundOver(t, tb, false))
	var mu sync.Mutex
	passed := 0
	jobs := make(chan corpusCase)
	var wg sync.WaitGroup
	for range corpusWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				err := resolveCase(addr, c)
				mu.Lock()
				if err != nil {
					t.Errorf("%s: %v", c, err)
				} else {
					passed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, c := range cases {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	t.Logf("Unbound resolved %d of %d corpus cases as expected", passed, len(cases))
}

// startOnPort53 starts the default testbed on port 53. Another test
// binary (go test runs packages in parallel) may hold those addresses for
// a moment, so it retries for a bounded time while they are in use.
func startOnPort53(t *testing.T) *testbed.Testbed {
	t.Helper()
	deadline := time.Now().Add(port53Wait)
	for {
		tb, err := testbed.Start(context.Background(), testbed.Config{Port: 53})
		if err == nil {
			t.Cleanup(func() { tb.Close() })
			return tb
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("testbed on port 53: %v", err)
		}
		<-time.After(100 * time.Millisecond)
	}
}

// resolveCase asks Unbound one corpus question and checks the reply.
func resolveCase(addr string, c corpusCase) error {
	m := new(dns.Msg)
	m.SetQuestion(c.name, c.qtype)
	m.SetEdns0(4096, false)
	cl := dns.Client{Net: "tcp", Timeout: resolveTimeout} // TCP: no truncation to handle
	r, _, err := cl.Exchange(m, addr)
	if err != nil {
		return err
	}
	return c.check(r)
}

// freePort returns a port that was just free on ip for UDP and TCP.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, fmt.Sprint(port)))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}
