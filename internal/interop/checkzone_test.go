package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/testbed"
)

// TestNamedCheckzoneAcceptsTestbedZones has BIND's named-checkzone load
// every zone of the default testbed, so the hierarchy that the other
// tests rely on is valid by another implementation's rules, not just
// rensa's.
func TestNamedCheckzoneAcceptsTestbedZones(t *testing.T) {
	t.Parallel()
	checkzone := requirePeer(t, "named-checkzone")
	dir := t.TempDir()
	seen := map[string]bool{}
	for _, z := range testbed.Default() {
		if seen[z.Origin] {
			continue // the same zone on another server
		}
		seen[z.Origin] = true
		file := filepath.Join(dir, fmt.Sprintf("%d.zone", len(seen)))
		if err := os.WriteFile(file, []byte(z.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		// -i local: check the zone's own data only; the default also
		// looks for the addresses of name servers in other zones.
		out := runPeer(t, checkzone, "-i", "local", z.Origin, file)
		if !strings.Contains(out, "OK") {
			t.Errorf("named-checkzone %s:\n%s", z.Origin, out)
		}
	}
	if len(seen) < 9 {
		t.Errorf("checked %d zones, want the 9 of the default hierarchy", len(seen))
	}
}
