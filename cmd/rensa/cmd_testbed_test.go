package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// TestTestbedCommand runs "rensa testbed" on free ports and uses what it
// prints: the server list, the query hints and the root hints file.
func TestTestbedCommand(t *testing.T) {
	t.Parallel()
	hints := filepath.Join(t.TempDir(), "root.hints")
	stdout, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runTestbed(ctx, testbedOptions{port: testbed.PortFree, writeHints: hints}, stdout, stderr)
	})
	stderr.waitFor(t, 0, `testbed running`)
	out := stdout.String()
	for _, want := range []string{"10 name servers", "a.root-servers.test.", "ns.hosting.example. ns-glueless.other.test.", "other.test. sibling.test.", "rensa demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The printed query for the example.test. server works as printed.
	m, _ := stdout.waitFor(t, 0, `rensa query @(127\.53\.2\.1:\d+) www.example.test A \+norec`)
	if got, want := answerText(askUDP(t, m[1], "www.example.test", dns.TypeA)), "NOERROR: www.example.test. IN A 192.0.2.10"; got != want {
		t.Errorf("%s: %s, want %s", m[1], got, want)
	}
	b, err := os.ReadFile(hints)
	if err != nil || !strings.Contains(string(b), "a.root-servers.test.     3600000 IN A    127.53.0.1") {
		t.Errorf("hints file: %q, %v", b, err)
	}
}

func TestDigServer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"127.53.0.1:53":   "@127.53.0.1",
		"127.53.0.1:5300": "@127.53.0.1 -p 5300",
		"[::1]:5300":      "@::1 -p 5300",
	} {
		if got := digServer(in); got != want {
			t.Errorf("digServer(%q) = %q, want %q", in, got, want)
		}
	}
}
