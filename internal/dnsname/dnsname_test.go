package dnsname

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestRFC4034CanonicalOrder checks the example ordering of RFC 4034 §6.1.
func TestRFC4034CanonicalOrder(t *testing.T) {
	t.Parallel()
	want := []string{
		"example.",
		"a.example.",
		"yljkjljk.a.example.",
		"Z.a.example.",
		"zABC.a.EXAMPLE.",
		"z.example.",
		`\001.z.example.`,
		"*.z.example.",
		`\200.z.example.`,
	}
	got := append([]string(nil), want...)
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	sort.Slice(got, func(i, j int) bool { return Compare(got[i], got[j]) < 0 })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order[%d] = %q, want %q (all: %q)", i, got[i], want[i], got)
		}
	}
	// SortKey gives the same order.
	sort.Slice(got, func(i, j int) bool { return SortKey(got[i]) > SortKey(got[j]) })
	sort.Slice(got, func(i, j int) bool { return SortKey(got[i]) < SortKey(got[j]) })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SortKey order[%d] = %q, want %q (all: %q)", i, got[i], want[i], got)
		}
	}
}

func TestCanonicalParentLabels(t *testing.T) {
	t.Parallel()
	if got := Canonical("WWW.Example.TEST"); got != "www.example.test." {
		t.Errorf("Canonical = %q", got)
	}
	for _, c := range []struct{ in, parent string }{
		{"www.example.test.", "example.test."},
		{"test.", "."},
		{".", "."},
	} {
		if got := Parent(c.in); got != c.parent {
			t.Errorf("Parent(%q) = %q, want %q", c.in, got, c.parent)
		}
	}
	if Labels(".") != 0 || Labels("a.b.") != 2 {
		t.Errorf("Labels wrong")
	}
	if !IsSubdomain("a.B.test.", "b.TEST.") || IsSubdomain("ab.test.", "b.test.") {
		t.Errorf("IsSubdomain wrong")
	}
}

// referenceCompare is Compare written the plain way: split into labels,
// decode escapes, lowercase, compare from the right.
func referenceCompare(a, b string) int {
	labels := func(name string) [][]byte {
		var out [][]byte
		var cur []byte
		name = strings.TrimSuffix(name, ".")
		if strings.HasSuffix(name, `\`) && !strings.HasSuffix(name, `\\`) {
			name += "." // the dot was escaped
		}
		if name == "" {
			return nil
		}
		for i := 0; i < len(name); i++ {
			switch c := name[i]; {
			case c == '.':
				out, cur = append(out, cur), nil
			case c == '\\' && i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]):
				v, _ := strconv.Atoi(name[i+1 : i+4])
				cur = append(cur, byte(v))
				i += 3
			case c == '\\' && i+1 < len(name):
				cur = append(cur, name[i+1])
				i++
			default:
				cur = append(cur, c)
			}
		}
		return append(out, cur)
	}
	la, lb := labels(a), labels(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(bytes.ToLower(la[i]), bytes.ToLower(lb[j])); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// TestCompareAgreesWithReference compares Compare with referenceCompare on
// names built from labels with escapes, case and shared suffixes.
func TestCompareAgreesWithReference(t *testing.T) {
	t.Parallel()
	parts := []string{"a", "A", "b", "ab", "aB", "z", `\.`, `\\`, `a\.b`, `\065`, `\097`, `\000`, `\200`, "*", "-", `\ `, "xn--bcher-kva", ""}
	rnd := rand.New(rand.NewPCG(1, 2))
	name := func() string {
		n := rnd.IntN(4)
		var ls []string
		for range n {
			ls = append(ls, parts[rnd.IntN(len(parts)-1)]) // no empty labels
		}
		return strings.Join(ls, ".") + "."
	}
	for range 20000 {
		a, b := name(), name()
		if got, want := Compare(a, b), referenceCompare(a, b); got != want {
			t.Fatalf("Compare(%q, %q) = %d, want %d", a, b, got, want)
		}
		if got, want := strings.Compare(SortKey(a), SortKey(b)), referenceCompare(a, b); got != want {
			t.Fatalf("SortKey(%q) vs SortKey(%q) = %d, want %d", a, b, got, want)
		}
		if got := Compare(b, a); got != -referenceCompare(a, b) {
			t.Fatalf("Compare(%q, %q) = %d, not antisymmetric", b, a, got)
		}
	}
	for _, c := range []struct {
		a, b string
		want int
	}{
		{".", ".", 0}, {"", ".", 0}, {".", "a.", -1}, {"a.", ".", 1},
		{"a", "a.", 0}, {"A.", "a.", 0}, {`\065.`, "a.", 0}, {`a\..`, "a.", 1},
		{"b.a.", "a.b.", -1}, {"a.b.", "b.a.", 1}, {"z.a.", "b.", -1},
	} {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := strings.Compare(SortKey(c.a), SortKey(c.b)); got != c.want {
			t.Errorf("SortKey(%q) vs SortKey(%q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// BenchmarkCompare measures one comparison of two names of a large zone
// that share their suffix, as sorting a zone does; it must not allocate.
func BenchmarkCompare(b *testing.B) {
	x, y := "h12345.bench.test.", "h12346.bench.test."
	b.ReportAllocs()
	for b.Loop() {
		Compare(x, y)
	}
}

// BenchmarkSortZoneNames sorts the 100,000 names of a zone with Compare,
// and with SortKey as zone.New does.
func BenchmarkSortZoneNames(b *testing.B) {
	names := make([]string, 100000)
	for i := range names {
		names[i] = "h" + strconv.Itoa(i*7919%100000) + ".bench.test."
	}
	work := make([]string, len(names))
	b.Run("Compare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			copy(work, names)
			sort.Slice(work, func(i, j int) bool { return Compare(work[i], work[j]) < 0 })
		}
	})
	b.Run("SortKey", func(b *testing.B) {
		type keyed struct{ key, name string }
		keys := make([]keyed, len(names))
		b.ReportAllocs()
		for b.Loop() {
			for i, n := range names {
				keys[i] = keyed{SortKey(n), n}
			}
			slices.SortFunc(keys, func(x, y keyed) int { return strings.Compare(x.key, y.key) })
		}
	})
}

// TestIsSubdomainLikeMiekg: IsSubdomain agrees with dns.IsSubDomain on
// names built from letters of both cases, dots, backslashes and digits
// (escaped dots, escaped backslashes, \DDD), each tried against every
// suffix of itself and of other names.
func TestIsSubdomainLikeMiekg(t *testing.T) {
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
		if got, want := IsSubdomain(child, parent), dns.IsSubDomain(parent, child); got != want {
			t.Errorf("IsSubdomain(%q, %q) = %v, dns.IsSubDomain says %v", child, parent, got, want)
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

// FuzzIsSubdomain: IsSubdomain agrees with dns.IsSubDomain on any pair
// of strings.
func FuzzIsSubdomain(f *testing.F) {
	f.Add("example.test.", "www.Example.TEST.")
	f.Add("test.", `a\.test.`)
	f.Add("test.", `a\\.test.`)
	f.Add(".", "a.")
	f.Fuzz(func(t *testing.T, parent, child string) {
		if got, want := IsSubdomain(child, parent), dns.IsSubDomain(parent, child); got != want {
			t.Errorf("IsSubdomain(%q, %q) = %v, dns.IsSubDomain says %v", child, parent, got, want)
		}
	})
}
