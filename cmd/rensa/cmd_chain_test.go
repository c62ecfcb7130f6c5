package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// TestChainOverTestbed prints the chain of trust of www.example.test. in
// the signed testbed: anchor, root keys, DS and keys of test. and
// example.test., and the answer's signature; --dot makes a graph; a
// broken DS makes the step that checks it fail and the exit status 1.
func TestChainOverTestbed(t *testing.T) {
	t.Parallel()
	specs := testbed.Default()
	for i := range specs {
		if specs[i].Origin == "example." {
			specs[i].Text += "\nhosting IN DS 4711 13 2 " + strings.Repeat("ab", 32) + "\n"
		}
	}
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: specs, Signed: true, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	dir := t.TempDir()
	opts := chainOptions{name: "www.example.test.", qtype: dns.TypeA, rootHints: filepath.Join(dir, "hints"),
		trustAnchor: filepath.Join(dir, "anchor"), dial: tb.Dial}
	if err := tb.WriteRootHints(opts.rootHints); err != nil {
		t.Fatal(err)
	}
	if err := tb.WriteTrustAnchor(opts.trustAnchor); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := runChain(context.Background(), opts, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"secure", "trust anchor", "RRSIG over the DNSKEY RRset of .", "RRSIG over the DS RRset of test.",
		"digest of DNSKEY", "RRSIG over the DNSKEY RRset of example.test.", "RRSIG over the A RRset of www.example.test.", "192.0.2.10"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "\n"); n < 10 {
		t.Errorf("only %d lines:\n%s", n, out.String())
	}
	out.Reset()
	opts.dot = true
	if err := runChain(context.Background(), opts, &out, &errOut); err != nil || !strings.Contains(out.String(), "subgraph cluster_") {
		t.Errorf("--dot: %v\n%s", err, out.String())
	}
	out.Reset()
	opts.dot, opts.name = false, "www.hosting.example."
	err = runChain(context.Background(), opts, &out, &errOut)
	if !errors.Is(err, errFindings) || !strings.Contains(out.String(), "bogus: no DNSKEY of hosting.example. matches its DS") {
		t.Errorf("broken DS: %v\n%s", err, out.String())
	}
}
