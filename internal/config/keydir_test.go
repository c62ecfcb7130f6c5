package config

import (
	"path/filepath"
	"testing"
)

// TestZoneKeyDir checks that key-dir is read and made relative to the
// configuration file, as zone files are.
func TestZoneKeyDir(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
[[auth.zone]]
origin = "example.test."
file = "db.example"
key-dir = "keys"

[[auth.zone]]
file = "db.other"
`), filepath.Join("etc", "rensa.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Auth.Zones[0].KeyDir, filepath.Join("etc", "keys"); got != want {
		t.Errorf("key-dir %q, want %q", got, want)
	}
	if got := cfg.Auth.Zones[1].KeyDir; got != "" {
		t.Errorf("key-dir %q for a zone without one, want empty", got)
	}
}
