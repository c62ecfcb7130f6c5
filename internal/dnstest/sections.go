package dnstest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Sections is the expected content of a reply's answer, authority and
// additional sections, one record per line in presentation form
// ("www.example. 300 IN A 192.0.2.1"). Lines are compared after parsing,
// so spacing does not matter but case, TTL and class do. The OPT record is
// left out of the comparison: check it with OPT.
type Sections struct {
	Answer []string
	Ns     []string
	Extra  []string
}

// Check reports through t.Errorf how m's sections differ from want.
func (want Sections) Check(t testing.TB, m *dns.Msg) {
	t.Helper()
	if m == nil {
		t.Errorf("no reply; want sections\n%s", want.Diff(&dns.Msg{}))
		return
	}
	if d := want.Diff(m); d != "" {
		t.Errorf("sections differ (-want +got):\n%s", d)
	}
}

// Diff returns the difference between want and m's sections, ignoring the
// order of records: one "- " line per missing record and one "+ " line per
// unexpected one, under the section's name. It returns "" when they
// match. A want line that does not parse is reported as such.
func (want Sections) Diff(m *dns.Msg) string {
	var b strings.Builder
	diffSection(&b, "answer", m.Answer, want.Answer)
	diffSection(&b, "authority", m.Ns, want.Ns)
	diffSection(&b, "additional", withoutOPT(m.Extra), want.Extra)
	return b.String()
}

func diffSection(b *strings.Builder, name string, got []dns.RR, want []string) {
	var gotLines, wantLines []string
	for _, rr := range got {
		gotLines = append(gotLines, line(rr))
	}
	for _, w := range want {
		rr, err := dns.NewRR(w)
		if err != nil || rr == nil {
			fmt.Fprintf(b, "%s: want line %q does not parse: %v\n", name, w, err)
			continue
		}
		wantLines = append(wantLines, line(rr))
	}
	missing, extra := setDiff(wantLines, gotLines), setDiff(gotLines, wantLines)
	if len(missing) == 0 && len(extra) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n", name)
	for _, l := range missing {
		fmt.Fprintf(b, "- %s\n", l)
	}
	for _, l := range extra {
		fmt.Fprintf(b, "+ %s\n", l)
	}
}

// line is rr in presentation form with single spaces between fields.
func line(rr dns.RR) string {
	return strings.ReplaceAll(rr.String(), "\t", " ")
}

// setDiff returns the lines of a not matched by a line of b, as a multiset
// difference, sorted.
func setDiff(a, b []string) []string {
	left := map[string]int{}
	for _, l := range b {
		left[l]++
	}
	var out []string
	for _, l := range a {
		if left[l] > 0 {
			left[l]--
			continue
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}
