package interop

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// authCase is one question to one testbed server and the reply expected
// from a rensa authoritative server, section by section. Records are
// "owner TYPE rdata" (see normRR).
type authCase struct {
	name       string
	server     string // the server's IP; its port comes from the testbed
	qname      string
	qtype      string
	rcode      string
	aa         bool
	answer     []string
	authority  []string
	glue       []string // the additional section of referrals
	checkExtra bool     // compare the additional section with glue
}

// authCases returns questions for the default testbed's servers and the
// replies expected.
func authCases() []authCase {
	return []authCase{
		{name: "positive answer", server: "127.53.2.1", qname: "www.example.test", qtype: "A",
			rcode: "NOERROR", aa: true, answer: []string{"www.example.test. A 192.0.2.10"}},
		{name: "referral from the root with glue", server: "127.53.0.1", qname: "www.example.test", qtype: "A",
			rcode:     "NOERROR",
			authority: []string{"test. NS ns1.nic.test.", "test. NS ns2.nic.test."},
			glue:      []string{"ns1.nic.test. A 127.53.1.1", "ns2.nic.test. A 127.53.1.2"}, checkExtra: true},
		{name: "referral to a third level", server: "127.53.2.2", qname: "www.sub.example.test", qtype: "A",
			rcode:     "NOERROR",
			authority: []string{"sub.example.test. NS ns.sub.example.test."},
			glue:      []string{"ns.sub.example.test. A 127.53.2.6"}, checkExtra: true},
		{name: "referral with sibling glue", server: "127.53.1.1", qname: "www.sibling.test", qtype: "A",
			rcode:     "NOERROR",
			authority: []string{"sibling.test. NS ns1.other.test."},
			glue:      []string{"ns1.other.test. A 127.53.2.3"}, checkExtra: true},
		{name: "glueless referral", server: "127.53.1.2", qname: "www.glueless.test", qtype: "A",
			rcode:      "NOERROR",
			authority:  []string{"glueless.test. NS ns.hosting.example.", "glueless.test. NS ns-glueless.other.test."},
			checkExtra: true},
		{name: "NXDOMAIN", server: "127.53.2.1", qname: "nope.example.test", qtype: "A",
			rcode: "NXDOMAIN", aa: true,
			authority: []string{"example.test. SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 900 1209600 300"}},
		{name: "NODATA", server: "127.53.2.1", qname: "www.example.test", qtype: "MX",
			rcode: "NOERROR", aa: true,
			authority: []string{"example.test. SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 900 1209600 300"}},
		{name: "NODATA at an empty non-terminal", server: "127.53.2.2", qname: "b.ent.example.test", qtype: "A",
			rcode: "NOERROR", aa: true,
			authority: []string{"example.test. SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 900 1209600 300"}},
		{name: "NXDOMAIN at the root", server: "127.53.0.1", qname: "www.nosuchtld", qtype: "A",
			rcode: "NXDOMAIN", aa: true,
			authority: []string{". SOA a.root-servers.test. hostmaster.nic.test. 2024010101 1800 900 604800 86400"}},
		{name: "CNAME chain inside the zone", server: "127.53.2.1", qname: "chain.example.test", qtype: "A",
			rcode: "NOERROR", aa: true,
			answer: []string{"chain.example.test. CNAME alias.example.test.", "alias.example.test. CNAME www.example.test.", "www.example.test. A 192.0.2.10"}},
		{name: "CNAME to another zone", server: "127.53.2.1", qname: "ext.example.test", qtype: "A",
			rcode: "NOERROR", aa: true, answer: []string{"ext.example.test. CNAME www.other.test."}},
		{name: "wildcard", server: "127.53.2.1", qname: "foo.wild.example.test", qtype: "A",
			rcode: "NOERROR", aa: true, answer: []string{"foo.wild.example.test. A 192.0.2.99"}},
		{name: "DNAME", server: "127.53.2.1", qname: "www.legacy.example.test", qtype: "A",
			rcode: "NOERROR", aa: true,
			answer: []string{"legacy.example.test. DNAME other.test.", "www.legacy.example.test. CNAME www.other.test."}},
		{name: "CAA", server: "127.53.2.2", qname: "example.test", qtype: "CAA",
			rcode: "NOERROR", aa: true,
			answer: []string{`example.test. CAA 0 issue "ca.example.net"`, `example.test. CAA 0 iodef "mailto:security@example.test"`}},
		{name: "truncated over UDP, whole over TCP", server: "127.53.2.1", qname: "big.example.test", qtype: "TXT",
			rcode: "NOERROR", aa: true, answer: bigTXT()},
		{name: "apex NS", server: "127.53.2.3", qname: "other.test", qtype: "NS",
			rcode: "NOERROR", aa: true, answer: []string{"other.test. NS ns1.other.test."}},
	}
}

// bigTXT is the answer for big.example.test TXT: 15 strings.
func bigTXT() []string {
	var out []string
	for i := range 15 {
		out = append(out, `big.example.test. TXT "`+twoDigits(i)+` the quick brown fox jumps over the lazy dog, again and again and again and again and again"`)
	}
	return out
}

func twoDigits(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

// TestDigAndKdigAgainstAuth asks the testbed's rensa servers the same
// questions through dig and kdig and checks what each tool printed: the
// status, the AA flag and the sections.
func TestDigAndKdigAgainstAuth(t *testing.T) {
	t.Parallel()
	tools := map[string]func(server, port, qname, qtype string) []string{
		"dig": func(server, port, qname, qtype string) []string {
			return []string{"@" + server, "-p", port, "+norec", "+time=2", "+tries=1", qname, qtype}
		},
		"kdig": func(server, port, qname, qtype string) []string {
			return []string{"@" + server, "-p", port, "+norec", "+time=2", "+retry=0", "+edns", qname, qtype}
		},
	}
	tb, err := testbed.Start(context.Background(), testbed.Config{Port: testbed.PortFree})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })

	for _, tool := range []string{"dig", "kdig"} {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			path := requirePeer(t, tool)
			for _, c := range authCases() {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					_, port, _ := net.SplitHostPort(tb.Addr(c.server + ":53"))
					out := runPeer(t, path, tools[tool](c.server, port, c.qname, c.qtype)...)
					r, err := parseDigOutput(out)
					if err != nil {
						t.Fatal(err)
					}
					if msg := c.compare(r); msg != "" {
						t.Errorf("%s %s to %s: %s\n%s", c.qname, c.qtype, c.server, msg, out)
					}
				})
			}
		})
	}
}

// compare returns what differs between r and the case, or "".
func (c authCase) compare(r *peerReply) string {
	var diffs []string
	if r.rcode != c.rcode {
		diffs = append(diffs, "status "+r.rcode+", want "+c.rcode)
	}
	if r.flags["aa"] != c.aa {
		diffs = append(diffs, "flags "+strings.Join(sortedKeys(r.flags), " ")+", want aa="+map[bool]string{true: "set", false: "clear"}[c.aa])
	}
	if !r.flags["qr"] || r.flags["rd"] || r.flags["tc"] {
		diffs = append(diffs, "flags "+strings.Join(sortedKeys(r.flags), " ")+", want qr, no rd, no tc")
	}
	sections := []struct {
		name string
		want []string
		skip bool
	}{
		{"ANSWER", c.answer, false},
		{"AUTHORITY", c.authority, false},
		{"ADDITIONAL", c.glue, !c.checkExtra},
	}
	for _, s := range sections {
		if got := r.sections[s.name]; !s.skip && !sameSet(got, s.want) {
			diffs = append(diffs, s.name+" "+strings.Join(got, "; ")+", want "+strings.Join(s.want, "; "))
		}
	}
	return strings.Join(diffs, "\n")
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
