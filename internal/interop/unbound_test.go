package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// Bounds of the Unbound test.
const (
	unboundRunTime   = 60 * time.Second // the whole Unbound process
	unboundReadyWait = 15 * time.Second // from start to its first answer
	resolveTimeout   = 10 * time.Second // one corpus question
	corpusWorkers    = 8                // questions in flight at once
	port53Wait       = 20 * time.Second // for another test to free port 53
)

// unboundConf configures Unbound as a plain iterative resolver (no
// validation yet) over the testbed: root hints from the testbed, queries
// to loopback allowed, and test. not answered locally (Unbound blocks
// RFC 6761 names by default).
const unboundConf = `server:
	verbosity: 1
	interface: %s
	port: %d
	do-ip6: no
	num-threads: 1
	so-reuseport: no
	username: ""
	chroot: ""
	pidfile: ""
	directory: %q
	use-syslog: no
	logfile: ""
	root-hints: %q
	module-config: "iterator"
	do-not-query-localhost: no
	local-zone: "test." nodefault
	qname-minimisation: yes
	access-control: 127.0.0.0/8 allow
	hide-identity: no
	identity: "rensa-interop"
remote-control:
	control-enable: no
`

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

	addr := startUnbound(t, unbound, tb)
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

// startUnbound writes the configuration and root hints to a temporary
// directory, starts Unbound in the foreground and waits until it answers.
// It returns Unbound's address; Unbound is stopped when the test ends.
func startUnbound(t *testing.T, unbound string, tb *testbed.Testbed) string {
	t.Helper()
	dir := t.TempDir()
	hints := filepath.Join(dir, "root.hints")
	if err := tb.WriteRootHints(hints); err != nil {
		t.Fatal(err)
	}
	const ip = "127.0.0.1"
	port := freePort(t, ip)
	conf := filepath.Join(dir, "unbound.conf")
	text := fmt.Sprintf(unboundConf, ip, port, dir, hints)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), unboundRunTime)
	cmd := exec.CommandContext(ctx, unbound, "-d", "-c", conf)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { // owned by this helper: ends when Unbound does
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
		cancel()
		if t.Failed() {
			t.Logf("unbound log:\n%s", &logs)
		}
	})
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	if err := waitReady(addr, exited); err != nil {
		t.Fatalf("unbound did not start: %v\nconfig:\n%s", err, text)
	}
	return addr
}

// waitReady polls Unbound with a query it answers itself (id.server CH
// TXT) until it replies, it exits, or unboundReadyWait passes.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(unboundReadyWait)
	m := new(dns.Msg)
	m.SetQuestion("id.server.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	cl := dns.Client{Timeout: 200 * time.Millisecond}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, _, err := cl.Exchange(m, addr); err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("unbound exited")
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v", unboundReadyWait)
		}
	}
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
