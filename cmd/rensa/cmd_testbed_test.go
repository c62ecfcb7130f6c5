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

// TestTestbedCommandSigned runs "rensa testbed --signed" and checks the
// trust anchor it writes beside the root hints: the root's KSK as DS and
// DNSKEY, the key the root's DNSKEY RRset is signed with, and signed
// answers further down.
func TestTestbedCommandSigned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hints, anchor := filepath.Join(dir, "root.hints"), filepath.Join(dir, "root.anchor")
	stdout, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runTestbed(ctx, testbedOptions{port: testbed.PortFree, writeHints: hints, signed: true, writeAnchor: anchor}, stdout, stderr)
	})
	stderr.waitFor(t, 0, `testbed running`)
	if out := stdout.String(); !strings.Contains(out, "Root trust anchor, in "+anchor) {
		t.Errorf("output does not name the anchor file:\n%s", out)
	}
	b, err := os.ReadFile(anchor)
	if err != nil {
		t.Fatal(err)
	}
	var ds *dns.DS
	var ksk *dns.DNSKEY
	zp := dns.NewZoneParser(strings.NewReader(string(b)), ".", anchor)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr := rr.(type) {
		case *dns.DS:
			ds = rr
		case *dns.DNSKEY:
			ksk = rr
		}
	}
	if err := zp.Err(); err != nil || ds == nil || ksk == nil || ds.Hdr.Name != "." || ksk.Flags != 257 {
		t.Fatalf("anchor file %s: want the root's DS and KSK (flags 257), got %v:\n%s", anchor, err, b)
	}
	if want := ksk.ToDS(ds.DigestType); want == nil || !strings.EqualFold(want.Digest, ds.Digest) || want.KeyTag != ds.KeyTag {
		t.Errorf("DS %s does not match the DNSKEY %s", ds, ksk)
	}
	if _, err := os.Stat(hints); err != nil {
		t.Errorf("root hints: %v", err)
	}

	// The root's DNSKEY RRset is signed by that KSK.
	m, _ := stdout.waitFor(t, 0, `rensa query @(127\.53\.0\.1:\d+) www.example.test A \+norec`)
	r := askDO(t, m[1], ".", dns.TypeDNSKEY)
	var keys []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.DNSKEY:
			keys = append(keys, rr)
		case *dns.RRSIG:
			sigs = append(sigs, rr)
		}
	}
	verified := false
	for _, sig := range sigs {
		verified = verified || (sig.KeyTag == ksk.KeyTag() && sig.Verify(ksk, keys) == nil)
	}
	if !verified {
		t.Errorf(". DNSKEY: no RRSIG by the anchor's key %d verifies:\n%s", ksk.KeyTag(), r)
	}
	// And the leaves are signed too.
	m, _ = stdout.waitFor(t, 0, `rensa query @(127\.53\.2\.1:\d+) www.example.test A \+norec`)
	r = askDO(t, m[1], "www.example.test.", dns.TypeA)
	hasSig := false
	for _, rr := range r.Answer {
		hasSig = hasSig || rr.Header().Rrtype == dns.TypeRRSIG
	}
	if !hasSig {
		t.Errorf("www.example.test. A +dnssec: no RRSIG:\n%s", r)
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
