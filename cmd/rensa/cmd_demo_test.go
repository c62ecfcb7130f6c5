package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// reply builds a reply from presentation-format records, one section per
// argument, records separated by ";".
func reply(rcode int, aa bool, answer, authority, additional string) *dns.Msg {
	m := new(dns.Msg)
	m.Response, m.Rcode, m.Authoritative = true, rcode, aa
	parse := func(s string) []dns.RR {
		var out []dns.RR
		for _, line := range strings.Split(s, ";") {
			if line = strings.TrimSpace(line); line != "" {
				rr, err := dns.NewRR(line)
				if err != nil {
					panic(err)
				}
				out = append(out, rr)
			}
		}
		return out
	}
	m.Answer, m.Ns, m.Extra = parse(answer), parse(authority), parse(additional)
	return m
}

// TestTypify classifies replies the way the demo's walk must, without a
// network.
func TestTypify(t *testing.T) {
	t.Parallel()
	const soa = "example.test. 300 IN SOA ns1.example.test. h.example.test. 1 2 3 4 300"
	tests := []struct {
		name      string
		m         *dns.Msg
		qname     string
		qtype     uint16
		zone      string
		want      replyKind
		wantFinal string
	}{
		{"answer", reply(0, true, "www.example.test. 300 IN A 192.0.2.1", "", ""),
			"www.example.test.", dns.TypeA, "example.test.", kindAnswer, "www.example.test."},
		{"answer via in-zone CNAME", reply(0, true, "a.example.test. 300 IN CNAME www.example.test.; www.example.test. 300 IN A 192.0.2.1", "", ""),
			"A.example.test.", dns.TypeA, "example.test.", kindAnswer, "www.example.test."},
		{"CNAME out of zone", reply(0, true, "a.example.test. 300 IN CNAME www.other.test.", "", ""),
			"a.example.test.", dns.TypeA, "example.test.", kindAlias, "www.other.test."},
		{"CNAME to in-zone NODATA", reply(0, true, "a.example.test. 300 IN CNAME www.example.test.", soa, ""),
			"a.example.test.", dns.TypeMX, "example.test.", kindNoData, "www.example.test."},
		{"referral", reply(0, false, "", "example.test. 3600 IN NS ns1.example.test.", "ns1.example.test. 3600 IN A 127.53.2.1"),
			"www.example.test.", dns.TypeA, "test.", kindReferral, "www.example.test."},
		{"upward referral is bad", reply(0, false, "", ". 3600 IN NS a.root-servers.test.", ""),
			"www.example.test.", dns.TypeA, "test.", kindBad, "www.example.test."},
		{"NODATA", reply(0, true, "", soa, ""), "www.example.test.", dns.TypeMX, "example.test.", kindNoData, "www.example.test."},
		{"NXDOMAIN", reply(dns.RcodeNameError, true, "", soa, ""), "nope.example.test.", dns.TypeA, "example.test.", kindNXDomain, "nope.example.test."},
		{"SERVFAIL", reply(dns.RcodeServerFailure, false, "", "", ""), "www.example.test.", dns.TypeA, "example.test.", kindBad, "www.example.test."},
		{"REFUSED", reply(dns.RcodeRefused, false, "", "", ""), "www.example.test.", dns.TypeA, "example.test.", kindBad, "www.example.test."},
	}
	for _, tt := range tests {
		kind, final := typify(tt.m, tt.qname, tt.qtype, tt.zone)
		if kind != tt.want || final != tt.wantFinal {
			t.Errorf("%s: typify = %d, %s; want %d, %s", tt.name, kind, final, tt.want, tt.wantFinal)
		}
	}
}

// TestDemoFollowsEveryKindOfAnswer walks names that end in each kind of
// outcome through the testbed, checking the summary.
func TestDemoFollowsEveryKindOfAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		qtype uint16
		want  []string
	}{
		{"www.example.test.", dns.TypeA, []string{"Done in 3 queries: the root -> test. -> example.test.", "192.0.2.10"}},
		{"big.example.test.", dns.TypeTXT, []string{"truncated (TC=1), so the query was repeated over TCP", `"14 the quick brown fox`}},
		{"cross.example.test.", dns.TypeA, []string{"to a name in another zone", "-> the root -> example. -> hosting.example.", "192.0.2.60"}},
		{"foo.bar.wild.example.test.", dns.TypeA, []string{"foo.bar.wild.example.test.\t3600\tIN\tA\t192.0.2.99"}},
		{"ent.example.test.", dns.TypeA, []string{"(NODATA)"}},
		{"www.sibling.test.", dns.TypeA, []string{"ns1.other.test.\t3600\tIN\tA\t127.53.2.3", "192.0.2.40"}},
		{"www.sub.example.test.", dns.TypeA, []string{"-> example.test. -> sub.example.test.", "192.0.2.90"}},
		{"nosuchtld.", dns.TypeA, []string{"Done in 1 query: the root", "does not exist (NXDOMAIN)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := runDemo(context.Background(), demoOptions{port: testbed.PortFree, name: tt.name, qtype: tt.qtype}, &stdout, &stderr)
			if err != nil {
				t.Fatalf("runDemo: %v\n%s%s", err, &stdout, &stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, &stdout)
				}
			}
		})
	}
}

// TestDemoWalkFails checks that a walk that cannot finish is an error: a
// delegation to a server that does not answer (a lame delegation).
func TestDemoWalkFails(t *testing.T) {
	t.Parallel()
	zones := []testbed.ZoneSpec{{Origin: ".", Server: "127.53.9.1", Text: `$TTL 300
@ SOA a.root hostmaster 1 2 3 4 5
@ NS a.root.
a.root. A 127.53.9.1
lame. NS ns.lame.
ns.lame. A 127.53.9.2
`}}
	tb, err := testbed.Start(context.Background(), testbed.Config{Zones: zones, Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	roots, err := parseHints(tb.RootHints())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := &walker{out: &out, roots: roots, dial: tb.Dial}
	_, err = w.resolve(context.Background(), "www.lame.", dns.TypeA, 0)
	if err == nil || !strings.Contains(err.Error(), "no server for lame. replied") {
		t.Errorf("resolve = %v, want no server for lame. replied\n%s", err, &out)
	}
	if !strings.Contains(out.String(), "no reply: ") {
		t.Errorf("output does not report the failed query:\n%s", &out)
	}
}

// TestDemoResolver checks part 3 of the demo: rensa's validating
// resolver over the same testbed resolves the walked name, an alias into
// another zone and a name that does not exist, printing its steps and
// verdicts, and answers a client's query for the walked name from the
// cache, with AD=1.
func TestDemoResolver(t *testing.T) {
	t.Parallel()
	out := runDemoDefault(t)
	resolved := part(t, out, 3)
	for _, want := range []string{
		";; Resolution 1: www.example.test. A",
		"referral to example.test.",
		"(answer)",
		";; Result: NOERROR (answer) after 3 upstream queries; DNSSEC: secure",
		"www.example.test.\t3600\tIN\tA\t192.0.2.10",
		";; Resolution 2: cross.example.test. A",
		"cross.example.test.\t3600\tIN\tCNAME\twww.hosting.example.",
		"www.hosting.example.\t3600\tIN\tA\t192.0.2.60",
		";; Resolution 3: nosuch.example.test. A",
		";; Result: NXDOMAIN (nxdomain) after 1 upstream query; DNSSEC: secure",
		";; Resolution 4: www.example.test. A (the first name again: now in the cache)",
		";; Reply: NOERROR, flags: qr rd ra ad\n",
		";; Result: NOERROR after 0 upstream queries",
		";; Answered from the cache: no upstream query.",
		";; AD=1 (Authenticated Data)",
	} {
		if !strings.Contains(resolved, want) {
			t.Errorf("part 3 lacks %q:\n%s", want, resolved)
		}
	}
	// QNAME minimisation: the root is asked for test., not the full name.
	if !strings.Contains(strings.ToLower(resolved), "(asked test. a: noerror from 127.53.0.1)") {
		t.Errorf("the root was not asked the minimised name:\n%s", resolved)
	}
}

// TestDemoStory checks the other parts of the default demo: the trust
// anchor, the DS and keys at each zone cut of the walk, the chain table of
// the secure answer, the tampered answer rejected with SERVFAIL and an
// EDE at the answer's signature, the same forgery accepted without
// validation, and the summary.
func TestDemoStory(t *testing.T) {
	t.Parallel()
	out := runDemoDefault(t)
	ds := `\.\s+3600\s+IN\s+DS\s+\d+ 13 2 [0-9A-F]{64}`
	checks := []struct {
		part int
		want []string // regular expressions
	}{
		{1, []string{"name servers on 127.53.0.0/16", `127\.53\.2\.1:\d+\s+ns1\.example\.test\.\s+serves example\.test\.`,
			"the trust anchor, where every chain of trust starts:\n" + ds}},
		{2, []string{
			`DNSSEC: test\. is signed\. Its DS record`,
			`(?m)^test\.\s+3600\s+IN\s+DS\s+\d+ 13 2 `,
			`\^ signed \(RRSIG over the DS RRset of test\.\) by key \d+ of \.`,
			`the keys of the root .*\n.*KSK \(key-signing key\): signs the DNSKEY RRset; matches the trust anchor`,
			`the keys of test\. .*\n.*KSK .*; matches the DS in its parent`,
			`the keys of example\.test\. .*\n.*KSK .*; matches the DS in its parent`,
			`\^ signed \(RRSIG over the A RRset of www\.example\.test\.\) by key \d+ of example\.test\.`,
			`Done in 3 queries: the root -> test\. -> example\.test\.`,
			`\(and 3 queries for the zones' keys, DNSKEY\)`,
		}},
		{4, []string{
			`(?m)^www\.example\.test\. A: NOERROR, secure$`,
			`(?m)^STEP\s+ZONE\s+KEY OR HASH\s+VERIFIES\s+PROVES\s+RESULT$`,
			`(?m)^1\s+\.\s+DS \d+ SHA256\s+trust anchor .*ok$`,
			`(?m)^8\s+example\.test\.\s+DS \d+ SHA256\s+digest of DNSKEY \d+ of example\.test\..*ok$`,
			`(?m)^10\s+example\.test\.\s+DNSKEY \d+ \(ZSK, ECDSAP256SHA256\)\s+RRSIG over the A RRset of www\.example\.test\..*ok$`,
		}},
		{5, []string{
			`(?m)^;; Reply: SERVFAIL, flags: qr rd ra$`,
			`(?m)^;; EDE: 6 \(DNSSEC Bogus\): www\.example\.test\. A: .*bad signature`,
			`(?m)^www\.example\.test\. A: SERVFAIL, bogus$`,
			`(?m)^9\s+example\.test\..*RRSIG over the DNSKEY RRset of example\.test\..*ok$`,
			`(?m)^10\s+example\.test\..*RRSIG over the A RRset of www\.example\.test\..*bogus: .*does not verify$`,
			`;; <- the chain breaks at step 10, in zone example\.test\.: RRSIG over the A RRset of www\.example\.test\.`,
			`Without validation.*\n;; Reply: NOERROR, flags: qr rd ra\n` + `www\.example\.test\.\s+3600\s+IN\s+A\s+203\.0\.113\.66\n`,
			`;; Accepted: the forged address 203\.0\.113\.66 is served`,
		}},
		{6, []string{`proved the answer in 10 checks .*: secure, AD=1`, `failed step 10 \(RRSIG over the A RRset`}},
	}
	for _, c := range checks {
		text := part(t, out, c.part)
		for _, w := range c.want {
			if !regexp.MustCompile(w).MatchString(text) {
				t.Errorf("part %d lacks %s:\n%s", c.part, w, text)
			}
		}
	}
	// The forged address reaches no client of the validating resolver.
	withValidation, _, _ := strings.Cut(part(t, out, 5), "Without validation")
	if regexp.MustCompile(`(?m)^www\.example\.test\..*IN\s+A\s+203\.0\.113\.66`).MatchString(withValidation) {
		t.Errorf("the validating resolver served the forgery:\n%s", withValidation)
	}
}

// runDemoDefault runs the default demo on free ports and returns its
// output.
func runDemoDefault(t *testing.T) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runDemo(context.Background(), demoOptions{port: testbed.PortFree, name: "www.example.test.", qtype: dns.TypeA}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runDemo: %v\n%s%s", err, &stdout, &stderr)
	}
	return stdout.String()
}

// part returns part n of the demo's output, from its heading to the next.
func part(t *testing.T, out string, n int) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, fmt.Sprintf(";; ===== %d. ", n))
	if !ok {
		t.Fatalf("no part %d:\n%s", n, out)
	}
	text, _, _ := strings.Cut(rest, ";; ===== ")
	return text
}

// TestTamperer checks the demo's on-path attacker without a network: it
// rewrites the A records of its name whatever their case, leaves other
// records and the signatures alone, and never changes the reply it got.
func TestTamperer(t *testing.T) {
	t.Parallel()
	orig := reply(0, true, "wWw.ExAmple.TEST. 300 IN A 192.0.2.10; www.example.test. 300 IN RRSIG A 13 3 300 20300101000000 20200101000000 4711 example.test. AAAA; "+
		"other.example.test. 300 IN A 192.0.2.11", "", "")
	tm := &tamperer{name: "www.example.test.", addr: net.ParseIP("203.0.113.66"),
		next: func(context.Context, netip.AddrPort, *dns.Msg, bool) (*dns.Msg, error) { return orig, nil }}
	got, err := tm.exchange(context.Background(), netip.MustParseAddrPort("127.53.2.1:53"), new(dns.Msg), false)
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Answer[0].(*dns.A).A.String(); a != "203.0.113.66" {
		t.Errorf("tampered address = %s, want 203.0.113.66", a)
	}
	if a := got.Answer[2].(*dns.A).A.String(); a != "192.0.2.11" {
		t.Errorf("another name's address = %s, want it untouched", a)
	}
	if a := orig.Answer[0].(*dns.A).A.String(); a != "192.0.2.10" {
		t.Errorf("the original reply was changed: %s", a)
	}
	if tm.count.Load() != 1 {
		t.Errorf("count = %d, want 1", tm.count.Load())
	}
}
