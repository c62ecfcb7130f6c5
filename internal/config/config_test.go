package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	t.Parallel()
	const text = `
# Two listeners and one zone.
[[listen]]
address = "127.0.0.1:5353"
[[listen]]
address = "[::1]:5353"

[auth]
nsid = "ns1"
version = "rensa"
id = "ns1.example.test"
max-udp-size = 1400

[[auth.zone]]
origin = "Example.TEST"
file = "example.test.zone"

[[auth.zone]]
file = "/abs/other.zone"
`
	cfg, err := Parse([]byte(text), "/etc/rensa/rensa.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:   "/etc/rensa/rensa.toml",
		Listen: []Listen{{Address: "127.0.0.1:5353"}, {Address: "[::1]:5353"}},
		Auth: Auth{
			NSID: "ns1", Version: "rensa", ID: "ns1.example.test", MaxUDPSize: 1400,
			Zones: []Zone{
				{Origin: "example.test.", File: "/etc/rensa/example.test.zone"},
				{File: "/abs/other.zone"},
			},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", cfg, want)
	}
	if got := cfg.ListenAddresses(); !reflect.DeepEqual(got, []string{"127.0.0.1:5353", "[::1]:5353"}) {
		t.Errorf("ListenAddresses = %v", got)
	}
}

func TestZeroValueWorks(t *testing.T) {
	t.Parallel()
	cfg, err := Parse(nil, "empty.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ListenAddresses(); !reflect.DeepEqual(got, []string{DefaultListen}) {
		t.Errorf("ListenAddresses = %v, want [%s]", got, DefaultListen)
	}
	if len(cfg.Auth.Zones) != 0 {
		t.Errorf("zones = %v, want none", cfg.Auth.Zones)
	}
}

// TestParseErrors checks that each mistake gives an error naming the file,
// the key and, where the decoder or the text allow, the line.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", "listn = 1\n", []string{"c.toml:1: unknown key listn"}},
		{"unknown key in section", "[auth]\nnsid = \"x\"\nnsdi = \"y\"\n", []string{"c.toml:3: unknown key auth.nsdi"}},
		{"dotted unknown key", "auth.nsdi = \"y\"\n", []string{"c.toml:1: unknown key auth.nsdi"}},
		{"unknown key in zone", "[[auth.zone]]\nfile = \"z\"\nfiel = \"z\"\n", []string{"c.toml:3: unknown key auth.zone.fiel"}},
		{"unknown table reported once", "[recursor]\na = 1\nb = 2\n", []string{"c.toml:1: unknown key recursor"}},
		{"syntax error", "[auth]\nnsid = = 1\n", []string{"c.toml:2:"}},
		{"wrong type", "[auth]\nmax-udp-size = \"big\"\n", []string{"c.toml:2:", "max-udp-size"}},
		{"bad listen address", "[[listen]]\naddress = \"localhost\"\n", []string{"c.toml:2: listen[0].address:", "not an IP address and port"}},
		{"missing listen address", "[[listen]]\n", []string{"c.toml:1: listen[0].address: required"}},
		{"duplicate listen", "[[listen]]\naddress = \"127.0.0.1:53\"\n[[listen]]\naddress = \"127.0.0.1:53\"\n", []string{"listen[1].address", "listed twice"}},
		{"udp size", "[auth]\nmax-udp-size = 100\n", []string{"c.toml:2: auth.max-udp-size: 100 is outside"}},
		{"zone without file", "[[auth.zone]]\norigin = \"example.test.\"\n", []string{"auth.zone[0].file: required"}},
		{"bad origin", "[[auth.zone]]\norigin = \"a..b\"\nfile = \"f\"\n", []string{"auth.zone[0].origin:", "not a domain name"}},
		{"duplicate origin", "[[auth.zone]]\norigin = \"a.test\"\nfile = \"f\"\n[[auth.zone]]\norigin = \"A.test.\"\nfile = \"g\"\n",
			[]string{"auth.zone[1].origin:", "already served by auth.zone[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.text), "c.toml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *config.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestLoadResolvesRelativeToFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rensa.toml")
	if err := os.WriteFile(path, []byte("[[auth.zone]]\nfile = \"zones/a.zone\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Auth.Zones[0].File, filepath.Join(dir, "zones", "a.zone"); got != want {
		t.Errorf("zone file = %q, want %q", got, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load(missing) = %v, want a config: error", err)
	}
}

// TestValidationErrorLines checks that errors found after decoding name
// the line of their key: the key's own line, the line opening its
// [[table]] when the key is missing, counting the tables of an array.
func TestValidationErrorLines(t *testing.T) {
	t.Parallel()
	text := `[[auth.zone]]
file = "a.zone"
origin = "a.test."

[[auth.zone]]
origin = "b.test."

[[auth.zone]]
file = "c.zone"
origin = "a.test."
`
	_, err := Parse([]byte(text), "c.toml")
	for _, want := range []string{
		"c.toml:5: auth.zone[1].file: required",
		"c.toml:10: auth.zone[2].origin:",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	for key, want := range map[string]int{
		"auth.zone[0].origin": 3, "auth.zone[2].file": 9, "auth.zone[3].file": 0,
		"auth.nsid": 0, "auth": 0, "auth.zone[x].file": 0,
	} {
		if got := lineOfKey([]byte(text), key); got != want {
			t.Errorf("lineOfKey(%q) = %d, want %d", key, got, want)
		}
	}
}
