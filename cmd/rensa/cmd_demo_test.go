package main

import (
	"bytes"
	"context"
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

// TestDemoResolver checks the second half of the demo: rensa's resolver
// over the same testbed resolves the walked name, an alias into another
// zone and a name that does not exist, printing its steps, and answers
// the walked name again from the cache without an upstream query.
func TestDemoResolver(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := runDemo(context.Background(), demoOptions{port: testbed.PortFree, name: "www.example.test.", qtype: dns.TypeA}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("runDemo: %v\n%s%s", err, &stdout, &stderr)
	}
	out := stdout.String()
	_, resolved, ok := strings.Cut(out, "Now the same with rensa's resolver")
	if !ok {
		t.Fatalf("no resolver part:\n%s", out)
	}
	for _, want := range []string{
		";; Resolution 1: www.example.test. A",
		"referral to example.test.",
		"(answer)",
		";; Result: NOERROR (answer) after 3 upstream queries",
		"www.example.test.\t3600\tIN\tA\t192.0.2.10",
		";; Resolution 2: cross.example.test. A",
		"cross.example.test.\t3600\tIN\tCNAME\twww.hosting.example.",
		"www.hosting.example.\t3600\tIN\tA\t192.0.2.60",
		";; Resolution 3: nosuch.example.test. A",
		";; Result: NXDOMAIN (nxdomain) after 1 upstream query",
		";; Resolution 4: www.example.test. A (the first name again: now in the cache)",
		";; Result: NOERROR (answer) after 0 upstream queries",
		";; Answered from the cache: no upstream query.",
	} {
		if !strings.Contains(resolved, want) {
			t.Errorf("resolver part lacks %q:\n%s", want, resolved)
		}
	}
	// QNAME minimisation: the root is asked for test., not the full name.
	if !strings.Contains(strings.ToLower(resolved), "(asked test. a: noerror from 127.53.0.1)") {
		t.Errorf("the root was not asked the minimised name:\n%s", resolved)
	}
}
