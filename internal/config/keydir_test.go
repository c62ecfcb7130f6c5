package config

import (
	"path/filepath"
	"strings"
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

// TestZoneNSEC3 checks that nsec3 is read, and refused without key-dir:
// only a zone the server signs gets the chain the configuration chooses.
func TestZoneNSEC3(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
[[auth.zone]]
file = "db.example"
key-dir = "keys"
nsec3 = true

[[auth.zone]]
file = "db.other"
key-dir = "keys"
`), "rensa.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Auth.Zones[0].NSEC3 || cfg.Auth.Zones[1].NSEC3 {
		t.Errorf("nsec3 = %v, %v; want true, false", cfg.Auth.Zones[0].NSEC3, cfg.Auth.Zones[1].NSEC3)
	}
	_, err = Parse([]byte("[[auth.zone]]\nfile = \"db.example\"\nnsec3 = true\n"), "rensa.toml")
	if err == nil || !strings.Contains(err.Error(), "rensa.toml:3: auth.zone[0].nsec3: needs key-dir") {
		t.Errorf("nsec3 without key-dir: %v, want an error naming auth.zone[0].nsec3 and its line", err)
	}
}
