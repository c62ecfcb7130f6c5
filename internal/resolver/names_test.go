package resolver

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestIsSubDomainLikeMiekg: isSubDomain agrees with dns.IsSubDomain on
// names built from letters of both cases, dots, backslashes and digits
// (escaped dots, escaped backslashes, \DDD), each tried against every
// suffix of itself and of other names.
func TestIsSubDomainLikeMiekg(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 3))
	alphabet := []string{"a", "A", "b", ".", `\`, `\.`, `\\`, "0", "46", `\046`, "-"}
	names := []string{".", "test.", "a.test.", "A.TEST.", `a\.test.`, `a\\.test.`, `b.a\.test.`, "ba.test.", "a.test", "test", ""}
	for range 3000 {
		s := ""
		for range 1 + rng.IntN(8) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		if rng.IntN(4) > 0 {
			s += "."
		}
		names = append(names, s)
	}
	check := func(parent, child string) {
		if got, want := isSubDomain(parent, child), dns.IsSubDomain(parent, child); got != want {
			t.Errorf("isSubDomain(%q, %q) = %v, dns.IsSubDomain says %v", parent, child, got, want)
		}
	}
	for i, child := range names {
		for j := range len(child) {
			check(child[j:], child)
		}
		for _, parent := range names[max(0, i-20):i] {
			check(parent, child)
			check(child, parent)
		}
	}
}

// FuzzIsSubDomain: isSubDomain agrees with dns.IsSubDomain on any pair
// of strings.
func FuzzIsSubDomain(f *testing.F) {
	f.Add("example.test.", "www.Example.TEST.")
	f.Add("test.", `a\.test.`)
	f.Add("test.", `a\\.test.`)
	f.Add(".", "a.")
	f.Fuzz(func(t *testing.T, parent, child string) {
		if got, want := isSubDomain(parent, child), dns.IsSubDomain(parent, child); got != want {
			t.Errorf("isSubDomain(%q, %q) = %v, dns.IsSubDomain says %v", parent, child, got, want)
		}
	})
}

// TestLastLabels: lastLabels gives what joining the last labels of
// dns.SplitDomainName gives, escaped dots and backslashes included.
func TestLastLabels(t *testing.T) {
	t.Parallel()
	joined := func(name string, n int) string {
		labels := dns.SplitDomainName(name)
		if n <= 0 || len(labels) == 0 {
			return "."
		}
		out := ""
		for _, l := range labels[len(labels)-min(n, len(labels)):] {
			out += l + "."
		}
		return strings.ToLower(out)
	}
	for _, name := range []string{"", ".", "test.", "a.b.Example.test.", "a.b.example.test", `a\.b.example.test.`,
		`a\\.b.test.`, `x\046y.z.test.`, `\\\..a.test.`} {
		for n := -1; n <= 6; n++ {
			if got, want := lastLabels(name, n), joined(name, n); got != want {
				t.Errorf("lastLabels(%q, %d) = %q, want %q", name, n, got, want)
			}
		}
	}
}
