package resolver

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestRestoreCase: names a server compressed against the randomised
// question (the whole name or a suffix of it) get the case of the name
// before randomisation; other names and free text keep theirs.
func TestRestoreCase(t *testing.T) {
	t.Parallel()
	m := new(dns.Msg)
	m.SetQuestion("aLiAs.ExAmPlE.tEsT.", dns.TypeA)
	m.Answer = rrs(t,
		"aLiAs.ExAmPlE.tEsT. 300 IN CNAME www.ExAmPlE.tEsT.",
		"www.ExAmPlE.tEsT. 300 IN A 192.0.2.10",
		"x.ExAmPlE.tEsT. 300 IN MX 10 mail.other.tEsT.",
		"t.ExAmPlE.tEsT. 300 IN TXT \"ExAmPlE.tEsT.\"",
		"y.example.test. 300 IN CNAME www.EXAMPLE.TEST.",
	)
	m.Ns = rrs(t, "ExAmPlE.tEsT. 300 IN SOA ns1.ExAmPlE.tEsT. hostmaster.ExAmPlE.tEsT. 1 2 3 4 5")
	restoreCase(m, "aLiAs.ExAmPlE.tEsT.", "alias.example.test.")
	want := []string{
		"alias.example.test.\t300\tIN\tCNAME\twww.example.test.",
		"www.example.test.\t300\tIN\tA\t192.0.2.10",
		"x.example.test.\t300\tIN\tMX\t10 mail.other.test.",
		"t.example.test.\t300\tIN\tTXT\t\"ExAmPlE.tEsT.\"",
		"y.example.test.\t300\tIN\tCNAME\twww.EXAMPLE.TEST.",
		"example.test.\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 1 2 3 4 5",
	}
	got := append(append([]dns.RR{}, m.Answer...), m.Ns...)
	for i, rr := range got {
		if rr.String() != want[i] {
			t.Errorf("record %d = %q, want %q", i, rr.String(), want[i])
		}
	}
	if m.Question[0].Name != "alias.example.test." {
		t.Errorf("question %q", m.Question[0].Name)
	}
}

// TestLabelStartsAsSplit checks that labelStarts finds the label offsets
// dns.Split does, escaped dots and more labels than the stack buffer
// included.
func TestLabelStartsAsSplit(t *testing.T) {
	t.Parallel()
	for _, name := range []string{".", "test.", "www.example.test.", `a\.b.Example.test.`, `x\\.y.`,
		strings.Repeat("a.", maxStackLabels+3)} {
		if got, want := labelStarts(nil, name), dns.Split(name); !slices.Equal(got, want) {
			t.Errorf("%q: %v, dns.Split %v", name, got, want)
		}
	}
}
