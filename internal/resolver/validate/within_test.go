package validate

import (
	"testing"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// TestWithinAgreesWithDnsname holds within to dnsname.IsSubdomain for
// canonical names: equal, below, beside, escaped dots, the root.
func TestWithinAgreesWithDnsname(t *testing.T) {
	for _, c := range [][2]string{
		{"www.example.test.", "example.test."}, {"example.test.", "example.test."},
		{"wwwexample.test.", "example.test."}, {"example.test.", "www.example.test."},
		{`a\.example.test.`, "example.test."}, {`a\\.example.test.`, "example.test."},
		{`x.a\.example.test.`, `a\.example.test.`}, {"www.example.test.", "."},
		{".", "."}, {".", "test."}, {"a.b.c.d.", "c.d."}, {"a.b.c.d.", "b.c.e."},
	} {
		if got, want := within(c[0], c[1]), dnsname.IsSubdomain(c[0], c[1]); got != want {
			t.Errorf("within(%q, %q) = %v, dnsname.IsSubdomain says %v", c[0], c[1], got, want)
		}
	}
}
