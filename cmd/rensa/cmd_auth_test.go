package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// outputWait bounds how long a test waits for a line of output from a
// command running in-process.
const outputWait = 10 * time.Second

// watchBuffer is an io.Writer that a test can wait on for some output,
// so it never sleeps to synchronise with a command.
type watchBuffer struct {
	mu      sync.Mutex // guards buf
	buf     bytes.Buffer
	changed chan struct{} // signalled (never blocks) on each write
}

func newWatchBuffer() *watchBuffer { return &watchBuffer{changed: make(chan struct{}, 1)} }

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output matches re, from byte offset from on,
// and returns the submatches and the offset after the match.
func (w *watchBuffer) waitFor(t *testing.T, from int, re string) ([]string, int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(outputWait)
	for {
		s := w.String()
		if loc := rx.FindStringSubmatchIndex(s[from:]); loc != nil {
			m := make([]string, len(loc)/2)
			for i := range m {
				if loc[2*i] >= 0 {
					m[i] = s[from+loc[2*i] : from+loc[2*i+1]]
				}
			}
			return m, from + loc[1]
		}
		select {
		case <-w.changed:
		case <-timeout:
			t.Fatalf("no output matching %q within %v; got:\n%s", re, outputWait, s)
		}
	}
}

// runInBackground runs a command's run function until the test ends, and
// checks that it then returns nil.
func runInBackground(t *testing.T, run func(ctx context.Context, stdout, stderr *watchBuffer) error) (stdout, stderr *watchBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = newWatchBuffer(), newWatchBuffer()
	done := make(chan error, 1)
	go func() { done <- run(ctx, stdout, stderr) }() // owned by the test: ends on cancel
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("command returned %v; stderr:\n%s", err, stderr)
			}
		case <-time.After(outputWait):
			t.Errorf("command did not stop within %v", outputWait)
		}
	})
	return stdout, stderr
}

// askUDP sends a non-recursive query to addr and returns the reply.
func askUDP(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	c := dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s to %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}

// answerText is the answer section in one line, records without TTL.
func answerText(r *dns.Msg) string {
	var out []string
	for _, rr := range r.Answer {
		f := strings.Fields(rr.String())
		out = append(out, strings.Join(append(f[:1], f[2:]...), " "))
	}
	return dns.RcodeToString[r.Rcode] + ": " + strings.Join(out, "; ")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	zoneHead = "$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 127.0.0.1\n"
	zoneV1   = "$ORIGIN example.test.\n" + zoneHead + "www A 192.0.2.1\n"
	zoneV2   = "$ORIGIN example.test.\n" + zoneHead + "www A 192.0.2.2\n"
	zoneBad  = "$ORIGIN example.test.\n" + zoneHead + "www A 192.0.2.3\nbroken A nowhere\n"
	otherV1  = "$ORIGIN other.test.\n" + zoneHead + "www A 192.0.2.9\n"
)

// TestAuthServesAndReloads serves two zones, reloads them on a hangup,
// and checks that a zone that fails to reload keeps its old version.
func TestAuthServesAndReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	example := filepath.Join(dir, "example.test.zone")
	other := filepath.Join(dir, "other.zone")
	writeFile(t, example, zoneV1)
	writeFile(t, other, otherV1)

	hup := make(chan os.Signal, 1)
	opts := authOptions{
		listen: []string{"127.0.0.1:0"},
		zones:  []zoneSource{{file: example}, {origin: "other.test.", file: other}},
		nsid:   "test-ns", hup: hup,
	}
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runAuth(ctx, opts, stdout, stderr)
	})
	m, off := stderr.waitFor(t, 0, `rensa: listening on udp (\S+), tcp (\S+)\n`)
	udp, tcp := m[1], m[2]
	if udp != tcp {
		t.Errorf("udp %s and tcp %s differ", udp, tcp)
	}

	check := func(name, want string) {
		t.Helper()
		if got := answerText(askUDP(t, udp, name, dns.TypeA)); got != want {
			t.Errorf("%s A: %s, want %s", name, got, want)
		}
	}
	check("www.example.test", "NOERROR: www.example.test. IN A 192.0.2.1")
	check("www.other.test", "NOERROR: www.other.test. IN A 192.0.2.9")

	// A good change is picked up on SIGHUP.
	writeFile(t, example, zoneV2)
	hup <- os.Interrupt
	_, off = stderr.waitFor(t, off, `msg=reloaded .*failed=0`)
	check("www.example.test", "NOERROR: www.example.test. IN A 192.0.2.2")

	// A broken zone keeps its old version serving; the error names file:line.
	writeFile(t, example, zoneBad)
	hup <- os.Interrupt
	_, off = stderr.waitFor(t, off, `reload failed, keeping the old zone.*example.test.zone:7: bad A`)
	_, _ = stderr.waitFor(t, off, `msg=reloaded .*failed=1`)
	check("www.example.test", "NOERROR: www.example.test. IN A 192.0.2.2")
	check("www.other.test", "NOERROR: www.other.test. IN A 192.0.2.9")
}

func TestParseZoneArg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want zoneSource
	}{
		{"db.example", zoneSource{file: "db.example"}},
		{"Example.Test=db.example", zoneSource{origin: "example.test.", file: "db.example"}},
		{".=root.zone", zoneSource{origin: ".", file: "root.zone"}},
		{"a=b=c.zone", zoneSource{origin: "a.", file: "b=c.zone"}},
		{"dir/x=y.zone", zoneSource{origin: "dir/x.", file: "y.zone"}},
	}
	for _, tt := range tests {
		got, err := parseZoneArg(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseZoneArg(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseZoneArg(""); err == nil {
		t.Error(`parseZoneArg("") succeeded`)
	}
}
