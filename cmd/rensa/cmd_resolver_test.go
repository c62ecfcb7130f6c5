package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// TestResolverOverTestbed runs "rensa resolver" with the testbed's root
// hints file and port mapping, and resolves through it: an answer across
// zones, NXDOMAIN, and a client outside --allow refused.
func TestResolverOverTestbed(t *testing.T) {
	t.Parallel()
	tb, err := testbed.Start(context.Background(), testbed.Config{Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	hints := filepath.Join(t.TempDir(), "root.hints")
	if err := tb.WriteRootHints(hints); err != nil {
		t.Fatal(err)
	}
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runResolver(ctx, resolverOptions{listen: []string{"127.0.0.1:0"}, rootHints: hints, dial: tb.Dial}, stdout, stderr)
	})
	m, _ := stderr.waitFor(t, 0, `rensa: resolver listening on udp (\S+), tcp`)
	addr := m[1]
	r := askRecursive(t, addr, "ext.example.test", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 || !r.RecursionAvailable {
		t.Errorf("ext.example.test A: %v", r)
	}
	if r := askRecursive(t, addr, "nonexistent.example.test", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("nonexistent.example.test A: %s", dns.RcodeToString[r.Rcode])
	}

	_, stderr = runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		// Flags first, then the test's dial hook: addFlags sets every
		// flag's default, so fields set before it would be reset (and
		// empty root hints would mean the real root servers).
		var opts resolverOptions
		fs := newFlagSet("resolver", "", stderr)
		opts.addFlags(fs)
		if err := fs.Parse([]string{"--listen", "127.0.0.1:0", "--root-hints", hints, "--allow", "192.0.2.0/24"}); err != nil {
			return err
		}
		opts.dial = tb.Dial
		return runResolver(ctx, opts, stdout, stderr)
	})
	m, _ = stderr.waitFor(t, 0, `rensa: resolver listening on udp (\S+), tcp`)
	if r := askRecursive(t, m[1], "www.example.test", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("client outside --allow: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

// TestServeResolverSection runs the [resolver] section of a configuration
// file next to the authoritative server.
func TestServeResolverSection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "rensa.toml")
	writeFile(t, filepath.Join(dir, "example.test.zone"), zoneV1)
	writeFile(t, filepath.Join(dir, "root.hints"), ". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n")
	writeFile(t, conf, `[[listen]]
address = "127.0.0.1:0"

[[auth.zone]]
origin = "example.test."
file = "example.test.zone"

[resolver]
listen = ["127.0.0.1:0"]
root-hints = "root.hints"
allow = ["192.0.2.0/24"]
`)
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runServe(ctx, serveOptions{config: conf}, stdout, stderr)
	})
	m, _ := stderr.waitFor(t, 0, `rensa: resolver listening on udp (\S+), tcp`)
	if r := askRecursive(t, m[1], "www.example.test", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("loopback client outside allow: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

// askRecursive sends a recursive query (RD=1) to addr over UDP.
func askRecursive(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s to %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}
