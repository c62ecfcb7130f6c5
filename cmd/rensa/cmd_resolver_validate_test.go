package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// TestResolverTrustAnchor runs "rensa resolver --trust-anchor" over the
// signed testbed: a client sending AD gets it back for a proven answer;
// --no-validate gives no AD, and so do private root hints without an
// anchor.
func TestResolverTrustAnchor(t *testing.T) {
	t.Parallel()
	tb, err := testbed.Start(context.Background(), testbed.Config{Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	dir := t.TempDir()
	hints, anchor := filepath.Join(dir, "root.hints"), filepath.Join(dir, "root.anchor")
	if err := tb.WriteRootHints(hints); err != nil {
		t.Fatal(err)
	}
	if err := tb.WriteTrustAnchor(anchor); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flags []string
		ad    bool
	}{
		{[]string{"--root-hints", hints, "--trust-anchor", anchor}, true},
		{[]string{"--root-hints", hints, "--trust-anchor", anchor, "--no-validate"}, false},
		{[]string{"--root-hints", hints}, false}, // private root, no anchor: validation off
	} {
		_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
			opts := resolverOptions{listen: []string{"127.0.0.1:0"}, dial: tb.Dial}
			fs := newFlagSet("resolver", "", stderr)
			opts.addFlags(fs)
			if err := fs.Parse(c.flags); err != nil {
				return err
			}
			return runResolver(ctx, opts, stdout, stderr)
		})
		m, _ := stderr.waitFor(t, 0, `rensa: resolver listening on udp (\S+), tcp`)
		q := new(dns.Msg)
		q.SetQuestion("www.example.test.", dns.TypeA)
		q.AuthenticatedData = true
		cl := dns.Client{Timeout: 5 * time.Second}
		r, _, err := cl.Exchange(q, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeSuccess || r.AuthenticatedData != c.ad {
			t.Errorf("%v: rcode %s AD %v, want AD %v\n%v\n%s", c.flags, dns.RcodeToString[r.Rcode], r.AuthenticatedData, c.ad, r, stderr)
		}
	}
}

// TestResolverForward runs "rensa resolver --forward" over each
// encrypted transport to a second "rensa resolver" serving DoT, DoH and
// DoQ with a self-signed certificate over the signed testbed. The
// forwarder validates with the testbed's anchor: AD for a signed name.
func TestResolverForward(t *testing.T) {
	t.Parallel()
	tb, err := testbed.Start(context.Background(), testbed.Config{Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	dir := t.TempDir()
	hints, anchor, tlsDir := filepath.Join(dir, "root.hints"), filepath.Join(dir, "root.anchor"), filepath.Join(dir, "tls")
	if err := tb.WriteRootHints(hints); err != nil {
		t.Fatal(err)
	}
	if err := tb.WriteTrustAnchor(anchor); err != nil {
		t.Fatal(err)
	}
	_, upErr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		opts := resolverOptions{dial: tb.Dial}
		fs := newFlagSet("resolver", "", stderr)
		opts.addFlags(fs)
		if err := fs.Parse([]string{"--root-hints", hints, "--trust-anchor", anchor, "--tls-self-signed", tlsDir,
			"--listen", "tls://127.0.0.1:0", "--listen", "https://127.0.0.1:0", "--listen", "quic://127.0.0.1:0"}); err != nil {
			return err
		}
		return runResolver(ctx, opts, stdout, stderr)
	})
	dot, _ := upErr.waitFor(t, 0, `listening on tls (\S+)`)
	doh, _ := upErr.waitFor(t, 0, `listening on https (\S+)`)
	doq, _ := upErr.waitFor(t, 0, `listening on quic (\S+)`)
	for _, up := range []string{"tls://" + dot[1], doh[1], "quic://" + doq[1]} {
		_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
			opts := resolverOptions{listen: []string{"127.0.0.1:0"}}
			fs := newFlagSet("resolver", "", stderr)
			opts.addFlags(fs)
			if err := fs.Parse([]string{"--forward", up, "--forward-ca", filepath.Join(tlsDir, "ca.pem"), "--trust-anchor", anchor}); err != nil {
				return err
			}
			return runResolver(ctx, opts, stdout, stderr)
		})
		m, _ := stderr.waitFor(t, 0, `rensa: resolver listening on udp (\S+), tcp`)
		q := new(dns.Msg)
		q.SetQuestion("www.example.test.", dns.TypeA)
		q.AuthenticatedData = true
		cl := dns.Client{Timeout: 5 * time.Second}
		r, _, err := cl.Exchange(q, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData || len(r.Answer) == 0 {
			t.Errorf("--forward %s: rcode %s AD %v, want NOERROR with AD\n%v\n%s", up, dns.RcodeToString[r.Rcode], r.AuthenticatedData, r, stderr)
		}
	}
}
