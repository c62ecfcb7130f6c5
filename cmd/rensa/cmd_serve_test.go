package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
)

// TestServeFromConfig serves what a configuration file says, then reloads
// it: a zone added to the file is served after SIGHUP, and a broken file
// keeps every zone as it was.
func TestServeFromConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "rensa.toml")
	writeFile(t, filepath.Join(dir, "example.test.zone"), zoneV1)
	writeFile(t, filepath.Join(dir, "other.zone"), otherV1)
	const base = `[[listen]]
address = "127.0.0.1:0"

[auth]
nsid = "ns1.example.test"

[[auth.zone]]
origin = "example.test."
file = "example.test.zone"
`
	writeFile(t, conf, base)

	hup := make(chan os.Signal, 1)
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runServe(ctx, serveOptions{config: conf, hup: hup}, stdout, stderr)
	})
	m, off := stderr.waitFor(t, 0, `rensa: listening on udp (\S+), tcp`)
	addr := m[1]

	if got, want := answerText(askUDP(t, addr, "www.example.test", dns.TypeA)), "NOERROR: www.example.test. IN A 192.0.2.1"; got != want {
		t.Errorf("www.example.test A: %s, want %s", got, want)
	}
	// The [auth] settings reach the server: NSID (RFC 5001).
	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	r, err := dns.Exchange(q, addr)
	if err != nil {
		t.Fatal(err)
	}
	if nsid := nsidOf(r); nsid != "ns1.example.test" {
		t.Errorf("NSID %q, want ns1.example.test", nsid)
	}
	if got := askUDP(t, addr, "www.other.test", dns.TypeA).Rcode; got != dns.RcodeRefused {
		t.Errorf("other.test. before reload: %s, want REFUSED", dns.RcodeToString[got])
	}

	// Add a zone to the file and reload.
	writeFile(t, conf, base+"\n[[auth.zone]]\nfile = \"other.zone\"\n")
	hup <- os.Interrupt
	_, off = stderr.waitFor(t, off, `msg=reloaded zones="example.test. other.test." failed=0`)
	if got, want := answerText(askUDP(t, addr, "www.other.test", dns.TypeA)), "NOERROR: www.other.test. IN A 192.0.2.9"; got != want {
		t.Errorf("www.other.test A after reload: %s, want %s", got, want)
	}

	// A broken file changes nothing.
	writeFile(t, conf, base+"bogus = 1\n")
	hup <- os.Interrupt
	stderr.waitFor(t, off, `reload failed, keeping every zone.*unknown key`)
	if got := askUDP(t, addr, "www.other.test", dns.TypeA).Rcode; got != dns.RcodeSuccess {
		t.Errorf("other.test. after a failed reload: %s, want NOERROR", dns.RcodeToString[got])
	}
}

// nsidOf returns the NSID option of r as text.
func nsidOf(r *dns.Msg) string {
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if n, ok := o.(*dns.EDNS0_NSID); ok {
				b, _ := hex.DecodeString(n.Nsid)
				return string(b)
			}
		}
	}
	return ""
}

// TestServeSignsOnline serves zones signed online as the configuration
// file says: key-dir alone signs with NSEC, nsec3 = true with NSEC3, paths
// relative to the file.
func TestServeSignsOnline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "rensa.toml")
	writeFile(t, filepath.Join(dir, "example.test.zone"), zoneV1)
	writeFile(t, filepath.Join(dir, "other.zone"), otherV1)
	mkdir(t, filepath.Join(dir, "keys"))
	writeKeys(t, filepath.Join(dir, "keys"), "example.test.")
	writeKeys(t, filepath.Join(dir, "keys"), "other.test.")
	writeFile(t, conf, `[[listen]]
address = "127.0.0.1:0"

[[auth.zone]]
origin = "example.test."
file = "example.test.zone"
key-dir = "keys"

[[auth.zone]]
origin = "other.test."
file = "other.zone"
key-dir = "keys"
nsec3 = true
`)
	_, stderr := runInBackground(t, func(ctx context.Context, stdout, stderr *watchBuffer) error {
		return runServe(ctx, serveOptions{config: conf, hup: make(chan os.Signal)}, stdout, stderr)
	})
	m, _ := stderr.waitFor(t, 0, `rensa: listening on udp (\S+), tcp`)
	checkSigned(t, m[1], "example.test.", dns.TypeNSEC)
	checkSigned(t, m[1], "other.test.", dns.TypeNSEC3)
}
