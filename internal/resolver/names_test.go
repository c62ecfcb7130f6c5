package resolver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

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
