package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/chain"
	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/resolver/validate"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// chainEpoch is the signing and validation time of the golden testbed.
var chainEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// chainTestbed starts the signed default testbed with its keys drawn from a
// seeded reader and its zones signed at chainEpoch, so that key tags, and
// so the chain's table and graph, are the same on every run. The
// delegation to hosting.example. carries a DS that matches no key: a
// chain broken on purpose at that zone's DS step.
func chainTestbed(t *testing.T) (*testbed.Testbed, chainOptions) {
	t.Helper()
	specs := testbed.Default()
	for i := range specs {
		if specs[i].Origin == "example." {
			specs[i].Text += "\nhosting IN DS 4711 13 2 " + strings.Repeat("ab", 32) + "\n"
		}
	}
	var seed [32]byte
	copy(seed[:], "rensa chain golden testbed seed")
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: specs, Signed: true, Port: testbed.PortFree,
		Rand: rand.NewChaCha8(seed), Now: func() time.Time { return chainEpoch }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	dir := t.TempDir()
	opts := chainOptions{qtype: dns.TypeA, rootHints: filepath.Join(dir, "hints"),
		trustAnchor: filepath.Join(dir, "anchor"), dial: tb.Dial,
		now: func() time.Time { return chainEpoch.Add(time.Minute) }}
	if err := tb.WriteRootHints(opts.rootHints); err != nil {
		t.Fatal(err)
	}
	if err := tb.WriteTrustAnchor(opts.trustAnchor); err != nil {
		t.Fatal(err)
	}
	return tb, opts
}

// TestChainGolden pins "rensa chain" on the deterministic testbed: the
// table and the DOT graph of a secure name (www.example.test.: anchor,
// root keys, DS and keys of test. and example.test., the answer's
// signature) and of a name below a broken DS (www.hosting.example.),
// whose exit status is 1. Regenerate with
// go test ./cmd/rensa -run ChainGolden -update.
func TestChainGolden(t *testing.T) {
	t.Parallel()
	_, base := chainTestbed(t)
	for _, tc := range []struct {
		golden string
		name   string
		dot    bool
		bogus  bool
	}{
		{"chain_secure_table.golden", "www.example.test.", false, false},
		{"chain_secure_dot.golden", "www.example.test.", true, false},
		{"chain_broken_ds_table.golden", "www.hosting.example.", false, true},
		{"chain_broken_ds_dot.golden", "www.hosting.example.", true, true},
	} {
		opts := base
		opts.name, opts.dot = tc.name, tc.dot
		var out, errOut bytes.Buffer
		err := runChain(context.Background(), opts, &out, &errOut)
		switch {
		case tc.bogus && !errors.Is(err, errFindings):
			t.Errorf("%s: err %v, want errFindings\n%s", tc.golden, err, out.String())
		case !tc.bogus && err != nil:
			t.Errorf("%s: %v\n%s%s", tc.golden, err, out.String(), errOut.String())
		}
		checkGolden(t, tc.golden, maskSignatures(out.String()))
	}
}

// maskSignatures replaces the signature of each RRSIG line in a chain
// table: ECDSA signatures are randomised by the signer whatever the
// testbed's Rand (miekg/dns signs with crypto/rand), while everything
// else in the output follows from the seed and the clock.
func maskSignatures(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if f := strings.Split(l, "\t"); len(f) == 5 && f[3] == "RRSIG" {
			sig := strings.Fields(f[4])
			sig[len(sig)-1] = "<signature>"
			f[4] = strings.Join(sig, " ")
			lines[i] = strings.Join(f, "\t")
		}
	}
	return strings.Join(lines, "\n")
}

// TestChainBrokenDSStep checks that on the broken chain the first step
// that fails is the one the fault predicts: the DS step of hosting.example.
// (its DS matches none of its keys), after every step above it held.
func TestChainBrokenDSStep(t *testing.T) {
	t.Parallel()
	tb, opts := chainTestbed(t)
	hints, err := resolver.ParseHints(strings.NewReader(tb.RootHints()), "hints")
	if err != nil {
		t.Fatal(err)
	}
	anchors, err := validate.ParseAnchors(strings.NewReader(tb.TrustAnchor()), "anchor")
	if err != nil {
		t.Fatal(err)
	}
	r, err := resolver.New(resolver.Config{Hints: hints, Dial: tb.Dial, Now: opts.now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(validate.Config{Anchors: anchors, Now: opts.now})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := chain.Walk(context.Background(), chain.Config{Resolver: r, Validator: v}, "www.hosting.example.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Security != validate.Bogus {
		t.Fatalf("security %v, want bogus", rep.Security)
	}
	failed := -1
	for i, s := range rep.Steps {
		if s.Err != "" {
			failed = i
			break
		}
	}
	if failed < 0 {
		t.Fatalf("no step failed: %+v", rep.Steps)
	}
	s := rep.Steps[failed]
	if s.Zone != "hosting.example." || !strings.HasPrefix(s.Key, "DS ") || s.Security != validate.Bogus ||
		!strings.Contains(s.Err, "no DNSKEY of hosting.example. matches its DS") {
		t.Errorf("first failing step %d is %+v, want the DS step of hosting.example.", failed+1, s)
	}
	if failed != len(rep.Steps)-1 {
		t.Errorf("steps after the break: %+v", rep.Steps[failed+1:])
	}
}
