package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeygenSignVerify runs rensa keygen, sign and verify end to end, for
// each algorithm and denial mode, then breaks the signed zone and checks
// that verify fails.
func TestKeygenSignVerify(t *testing.T) {
	t.Parallel()
	zoneText := `$ORIGIN example.test.
$TTL 3600
@        SOA   ns1 hostmaster 2026010101 7200 3600 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
www      A     192.0.2.80
*.wild   TXT   "wildcard"
a.b.ent  A     192.0.2.9
sub      NS    ns.sub
ns.sub   A     192.0.2.53
`
	for _, c := range []struct {
		name    string
		keygens [][]string
		sign    []string
	}{
		{"csk-p256-nsec", [][]string{{}}, nil},
		{"ksk-zsk-ed25519-nsec3", [][]string{{"--ksk", "--algorithm", "ED25519"}, {"--zsk", "--algorithm", "ED25519"}}, []string{"--nsec3"}},
		{"csk-p384-optout", [][]string{{"--csk", "--algorithm", "ECDSAP384SHA384"}}, []string{"--nsec3", "--opt-out", "--cds"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			keys := filepath.Join(dir, "keys")
			zoneFile := filepath.Join(dir, "example.test.zone")
			out := filepath.Join(dir, "signed.zone")
			if err := os.Mkdir(keys, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(zoneFile, []byte(zoneText), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range c.keygens {
				mustRun(t, 0, append([]string{"keygen", "--zone", "example.test.", "--dir", keys}, args...)...)
			}
			stdout := mustRun(t, 0, append([]string{"sign", "--zone", zoneFile, "--keys", keys, "-o", out, "--time", "20260301120000"}, c.sign...)...)
			if !strings.Contains(stdout, "IN\tDS\t") {
				t.Errorf("sign printed no DS record:\n%s", stdout)
			}
			report := mustRun(t, 0, "verify", out, "--time", "20260302000000")
			if !strings.Contains(report, "correctly signed") {
				t.Errorf("verify report:\n%s", report)
			}
			mustRun(t, 1, "verify", out, "--time", "20260401000000")

			signed, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			tampered := strings.Replace(string(signed), "192.0.2.80", "192.0.2.81", 1)
			if tampered == string(signed) {
				t.Fatal("nothing to tamper with")
			}
			if err := os.WriteFile(out, []byte(tampered), 0o644); err != nil {
				t.Fatal(err)
			}
			report = mustRun(t, 1, "verify", out, "--time", "20260302000000")
			if !strings.Contains(report, "www.example.test. A: bad signature") {
				t.Errorf("verify of the tampered zone:\n%s", report)
			}
		})
	}
}

// mustRun runs rensa with args in-process, checks the exit code and
// returns stdout.
func mustRun(t *testing.T, want int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != want {
		t.Fatalf("rensa %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}
