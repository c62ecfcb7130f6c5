package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// peerTimeout bounds one run of a client peer such as dig.
const peerTimeout = 10 * time.Second

// requirePeer returns the path of the peer program name. When it is not
// installed the test is skipped, or fails if REQUIRE_PEERS=1.
func requirePeer(t *testing.T, name string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	// Server programs live in sbin, which is not on every user's PATH.
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return path
		}
	}
	if os.Getenv("REQUIRE_PEERS") == "1" {
		t.Fatalf("peer %q is not installed and REQUIRE_PEERS=1", name)
	}
	t.Skipf("peer %q is not installed; set REQUIRE_PEERS=1 to make that a failure", name)
	return ""
}

// runPeer runs a client peer to completion within peerTimeout and returns
// its standard output.
func runPeer(t *testing.T, path string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(path), strings.Join(args, " "), err, &stdout, &stderr)
	}
	return stdout.String()
}

// peerReply is a reply as a dig-like tool printed it.
type peerReply struct {
	rcode    string
	flags    map[string]bool
	sections map[string][]string // "ANSWER", "AUTHORITY", "ADDITIONAL": normalised records
}

// parseDigOutput reads the output of dig or kdig in their default format:
// the header line with the status, the flags line, and the sections.
// Records are normalised with normRR; OPT pseudo-records are skipped.
func parseDigOutput(text string) (*peerReply, error) {
	r := &peerReply{flags: map[string]bool{}, sections: map[string][]string{}}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, ";"):
			section = r.comment(line, section)
			continue
		case section == "":
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("record %q: %v", line, err)
		}
		if rr != nil && rr.Header().Rrtype != dns.TypeOPT {
			r.sections[section] = append(r.sections[section], normRR(rr))
		}
	}
	if r.rcode == "" {
		return nil, fmt.Errorf("no status line in:\n%s", text)
	}
	return r, nil
}

// comment reads a comment line: the status and flags (only the first of
// each, since kdig repeats them for EDNS) and section headers.
func (r *peerReply) comment(line, section string) string {
	lower := strings.ToLower(line)
	if i := strings.Index(lower, "status: "); i >= 0 && r.rcode == "" {
		r.rcode = strings.ToUpper(strings.Trim(strings.Fields(line[i+len("status: "):])[0], ",;"))
	}
	if i := strings.Index(lower, "flags: "); i >= 0 && len(r.flags) == 0 && strings.Contains(lower, "query: ") {
		flags, _, _ := strings.Cut(lower[i+len("flags: "):], ";")
		for _, f := range strings.Fields(flags) {
			r.flags[f] = true
		}
	}
	for _, s := range []string{"ANSWER", "AUTHORITY", "ADDITIONAL"} {
		if strings.HasPrefix(line, ";; "+s+" SECTION:") {
			return s
		}
	}
	if strings.Contains(line, "SECTION:") {
		return "" // QUESTION, or a pseudo-section
	}
	return section
}

// normRR formats rr as "owner TYPE rdata" with the owner in lower case
// and single spaces, without TTL and class, for comparisons.
func normRR(rr dns.RR) string {
	h := rr.Header()
	rdata := strings.TrimPrefix(rr.String(), h.String())
	return strings.ToLower(dns.Fqdn(h.Name)) + " " + dns.TypeToString[h.Rrtype] + " " + strings.Join(strings.Fields(rdata), " ")
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// daemon is a peer server program a test runs, such as Unbound, NSD or
// named.
type daemon struct {
	name      string        // in messages: "unbound", "nsd 127.53.0.1"
	path      string        // the program
	args      []string      // its arguments, which keep it in the foreground
	config    string        // its configuration text, shown when it does not start
	runTime   time.Duration // the most it runs
	readyWait time.Duration // the most it takes from its start to ready
	// ready reports whether the program serves yet; start polls it
	// every daemonPoll.
	ready func() bool
}

// daemonPoll is how often daemon.start asks whether the program is ready.
const daemonPoll = 20 * time.Millisecond

// start runs the program until the test ends (or runTime passes) and
// returns once it is ready; it fails the test if the program exits first
// or readyWait passes. When the test ends the program is interrupted and
// waited for, and its output logged if the test failed.
func (d daemon) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d.runTime)
	cmd := exec.CommandContext(ctx, d.path, d.args...)
	logs := new(lockedBuffer)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("%s: %v", d.name, err)
	}
	exited := make(chan struct{})
	go func() { // owned by this method: ends when the program does
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-exited
		cancel()
		if t.Failed() {
			t.Logf("%s log:\n%s", d.name, logs)
		}
	})
	deadline := time.Now().Add(d.readyWait)
	tick := time.NewTicker(daemonPoll)
	defer tick.Stop()
	for !d.ready() {
		select {
		case <-exited:
			t.Fatalf("%s exited at start\nconfig:\n%s", d.name, d.config)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: not ready within %v\nconfig:\n%s", d.name, d.readyWait, d.config)
		}
	}
}

// lockedBuffer collects a process's output, written from os/exec's
// goroutines and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder // guarded by mu
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
