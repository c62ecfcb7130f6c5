package dnsname

import (
	"sort"
	"testing"
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
