package main

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
)

// writeKeys makes a KSK and a ZSK (ECDSAP256SHA256) for origin in dir, as
// rensa keygen would.
func writeKeys(t *testing.T, dir, origin string) {
	t.Helper()
	for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
		k, err := dnssec.Generate(origin, dns.ECDSAP256SHA256, flags, 0, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dnssec.WriteKeyFiles(dir, k, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// askDO sends a query with EDNS and the DO bit over TCP (so no answer is
// truncated) and returns the reply.
func askDO(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, true)
	c := dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s +dnssec to %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}

// checkSigned checks that a server at addr serves zone origin signed
// online: the DNSKEY RRset and the answer to www.ORIGIN A carry RRSIGs
// that verify with the served keys, an NXDOMAIN carries the denial of
// type denial (NSEC or NSEC3) with its signatures, and a query without
// DO gets no DNSSEC records.
func checkSigned(t *testing.T, addr, origin string, denial uint16) {
	t.Helper()
	keys := askDO(t, addr, origin, dns.TypeDNSKEY)
	var dnskeys []*dns.DNSKEY
	for _, rr := range keys.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			dnskeys = append(dnskeys, k)
		}
	}
	if len(dnskeys) != 2 {
		t.Fatalf("%s DNSKEY: %d keys, want the KSK and the ZSK:\n%s", origin, len(dnskeys), keys)
	}
	// verify checks that every RRset of type covered in section has an
	// RRSIG that verifies with a served key.
	verify := func(what string, section []dns.RR, covered uint16) {
		t.Helper()
		rrsets := map[string][]dns.RR{}
		sigs := map[string][]*dns.RRSIG{}
		for _, rr := range section {
			owner := dns.CanonicalName(rr.Header().Name)
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == covered {
				sigs[owner] = append(sigs[owner], sig)
			} else if rr.Header().Rrtype == covered {
				rrsets[owner] = append(rrsets[owner], rr)
			}
		}
		if len(rrsets) == 0 {
			t.Errorf("%s: no %s records", what, dns.TypeToString[covered])
		}
	rrsets:
		for owner, rrset := range rrsets {
			for _, sig := range sigs[owner] {
				for _, k := range dnskeys {
					if k.KeyTag() == sig.KeyTag && sig.Verify(k, rrset) == nil && sig.ValidityPeriod(time.Now()) {
						continue rrsets
					}
				}
			}
			t.Errorf("%s: no RRSIG over %s %s verifies with the served DNSKEYs", what, owner, dns.TypeToString[covered])
		}
	}
	verify(origin+" DNSKEY", keys.Answer, dns.TypeDNSKEY)
	www := askDO(t, addr, "www."+origin, dns.TypeA)
	verify("www."+origin+" A", www.Answer, dns.TypeA)

	nx := askDO(t, addr, "nx."+origin, dns.TypeA)
	if nx.Rcode != dns.RcodeNameError {
		t.Errorf("nx.%s A: %s, want NXDOMAIN", origin, dns.RcodeToString[nx.Rcode])
	}
	verify("nx."+origin+" A", nx.Ns, denial)
	other := dns.TypeNSEC
	if denial == dns.TypeNSEC {
		other = dns.TypeNSEC3
	}
	for _, rr := range nx.Ns {
		if rr.Header().Rrtype == other {
			t.Errorf("nx.%s A: %s in the authority section, want only %s", origin, dns.TypeToString[other], dns.TypeToString[denial])
		}
	}

	// Without DO: the answer alone (RFC 4035 §3.2.1).
	plain := askUDP(t, addr, "www."+origin, dns.TypeA)
	for _, rr := range append(plain.Answer, plain.Ns...) {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			t.Errorf("www.%s A without DO: %s", origin, rr)
		}
	}
}

// TestAuthSignsOnline serves one zone signed online with NSEC and one with
// NSEC3 (--key-dir, --nsec3) and checks what a validator needs is served
// when it asks with DO.
func TestAuthSignsOnline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	example, other := filepath.Join(dir, "example.test.zone"), filepath.Join(dir, "other.zone")
	writeFile(t, example, zoneV1)
	writeFile(t, other, otherV1)
	exampleKeys, otherKeys := filepath.Join(dir, "keys-example"), filepath.Join(dir, "keys-other")
	for _, d := range []string{exampleKeys, otherKeys} {
		mkdir(t, d)
	}
	writeKeys(t, exampleKeys, "example.test.")
	writeKeys(t, otherKeys, "other.test.")

	var opts authOptions
	fs := newFlagSet("auth", authUsage, &watchBuffer{})
	opts.addFlags(fs)
	if _, err := parseFlags(fs, []string{"--listen", "127.0.0.1:0",
		"--zone", example, "--key-dir", exampleKeys,
		"--zone", "other.test.=" + other, "--nsec3", "--key-dir", otherKeys}); err != nil {
		t.Fatal(err)
	}
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runAuth(ctx, opts, stdout, stderr)
	})
	m, _ := stderr.waitFor(t, 0, `rensa: listening on udp (\S+), tcp`)
	checkSigned(t, m[1], "example.test.", dns.TypeNSEC)
	checkSigned(t, m[1], "other.test.", dns.TypeNSEC3)
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
