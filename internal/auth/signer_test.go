package auth

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// signingStart is the injected clock's start in the signing tests.
var signingStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seeded returns a deterministic random source.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// testKeys makes a KSK and a ZSK (ECDSAP256SHA256) for origin.
func testKeys(t testing.TB, origin string, seed uint64) []*dnssec.Key {
	t.Helper()
	r := seeded(seed)
	var keys []*dnssec.Key
	for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
		k, err := dnssec.Generate(origin, dns.ECDSAP256SHA256, flags, 0, r)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// fakeClock is an injected clock tests move by hand.
type fakeClock struct{ unix atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.unix.Store(t.Unix())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(c.unix.Load(), 0).UTC() }
func (c *fakeClock) Add(d time.Duration)     { c.unix.Add(int64(d / time.Second)) }
func (c *fakeClock) String() string          { return c.Now().Format(time.RFC3339) }
func (c *fakeClock) Since(t time.Time) int64 { return c.unix.Load() - t.Unix() }

// TestSignerNeverServesExpired moves an injected clock across ten weeks
// in six-hour steps, calling Refresh at each, and checks that every
// signature in every reply, from Answer and from the fast path's
// precompiled replies, is valid at that time.
func TestSignerNeverServesExpired(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(signingStart)
	s := newServer(t, Config{})
	signer, err := NewSigner(s, SignerConfig{Now: clock.Now, Rand: seeded(7)})
	if err != nil {
		t.Fatal(err)
	}
	src := dnstest.Zone(t, "example.", exampleZone)
	signed, err := signer.Sign(OnlineZone{Zone: src, Keys: testKeys(t, "example.", 1)})
	if err != nil {
		t.Fatal(err)
	}
	other := dnstest.Zone(t, "example.net.", "@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1")
	s.SetZones(zone.NewSet(signed, other))
	fast := NewFastPath(s)

	queries := []string{"www.example. A", "nothere.example. A", "x.wild.example. TXT", "alias.example. AAAA",
		"child.example. A", "nods.example. A", "example. DNSKEY", "ent.example. A"}
	sets := map[*zone.Set]bool{}
	hits := 0
	for step := 0; step < 10*7*4; step++ {
		clock.Add(6 * time.Hour)
		next, err := signer.Refresh()
		if err != nil {
			t.Fatalf("%s: %v", clock, err)
		}
		if !next.After(clock.Now()) {
			t.Fatalf("%s: next refresh %v is not in the future", clock, next)
		}
		sets[s.Zones()] = true
		if s.Zones().Zone("example.net.") != other {
			t.Fatalf("%s: the zone signed offline was replaced", clock)
		}
		for _, spec := range queries {
			q := dnstest.EDNS(ask(t, spec), 1232, true)
			checkSigTimes(t, clock.Now(), spec, s.Answer(q, "udp"))
			wire, err := q.Pack()
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second query compiles the entry
				out, ok := fast.AnswerRaw(wire, "udp", nil)
				if !ok {
					continue
				}
				hits++
				m := new(dns.Msg)
				if err := m.Unpack(out); err != nil {
					t.Fatal(err)
				}
				checkSigTimes(t, clock.Now(), spec+" (fast path)", m)
			}
		}
	}
	// 14-day signatures less up to 12 hours of jitter, re-signed halfway:
	// about every 6.5 days, so ten or eleven times in ten weeks.
	if len(sets) < 10 {
		t.Errorf("the zones were swapped %d times in ten weeks, want at least 10", len(sets)-1)
	}
	if hits == 0 {
		t.Error("the fast path answered nothing")
	}
}

// checkSigTimes fails the test for any RRSIG in m not valid at now.
func checkSigTimes(t *testing.T, now time.Time, what string, m *dns.Msg) {
	t.Helper()
	n := 0
	for _, rr := range append(append(m.Answer[:len(m.Answer):len(m.Answer)], m.Ns...), m.Extra...) {
		sig, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		n++
		if !sig.ValidityPeriod(now) {
			t.Fatalf("%s at %v: signature outside its validity: %v", what, now, sig)
		}
	}
	if n == 0 {
		t.Fatalf("%s at %v: no signatures in\n%v", what, now, m)
	}
}

// TestSignerKeepsReloadedSet checks that Refresh re-signs the zone of a
// set swapped in after Sign, and forgets zones no longer served.
func TestSignerKeepsReloadedSet(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(signingStart)
	s := newServer(t, Config{})
	signer, err := NewSigner(s, SignerConfig{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	keys := testKeys(t, "example.", 2)
	first, err := signer.Sign(OnlineZone{Zone: dnstest.Zone(t, "example.", exampleZone), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	s.SetZones(zone.NewSet(first))
	// A reload: the zone is signed again from a new version.
	clock.Add(24 * time.Hour)
	reloaded, err := signer.Sign(OnlineZone{Zone: dnstest.Zone(t, "example.", exampleZone+"new A 192.0.2.99\n"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	s.SetZones(zone.NewSet(reloaded))
	clock.Add(10 * 24 * time.Hour)
	if _, err := signer.Refresh(); err != nil {
		t.Fatal(err)
	}
	got := s.Zones().Zone("example.")
	if got == reloaded {
		t.Fatal("the reloaded zone was not re-signed")
	}
	if got.Node("new.example.") == nil {
		t.Fatal("re-signing went back to the zone before the reload")
	}
	// Zones signed but not served are kept for one round, then dropped.
	if _, err := signer.Refresh(); err != nil {
		t.Fatal(err)
	}
	if len(signer.zones) != 1 {
		t.Errorf("the signer tracks %d zones, want 1", len(signer.zones))
	}
}

// TestLoadKeysErrors checks that every bad key directory fails with an
// error naming the file or directory at fault.
func TestLoadKeysErrors(t *testing.T) {
	t.Parallel()
	good := testKeys(t, "example.", 3)
	other := testKeys(t, "other.", 4)
	write := func(t *testing.T, dir string, k *dnssec.Key) string {
		base, err := dnssec.WriteKeyFiles(dir, k, signingStart)
		if err != nil {
			t.Fatal(err)
		}
		return base
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns what the error must name
		sign  bool                                  // the keys load; signing must fail
		want  string
	}{
		{"no directory", func(t *testing.T, dir string) string { return filepath.Join(dir, "missing") }, false, "key directory"},
		{"no keys", func(t *testing.T, dir string) string { return dir }, false, "no key files"},
		{"key file does not parse", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "Kexample.+013+00001.key")
			os.WriteFile(p, []byte("example. IN DNSKEY this is not a key\n"), 0o644)
			return p
		}, false, ""},
		{"key of another zone", func(t *testing.T, dir string) string {
			base := write(t, dir, other[0])
			fake := filepath.Join(dir, "Kexample.+013+"+fmt.Sprintf("%05d", other[0].Tag()))
			os.Rename(base+".key", fake+".key")
			os.Rename(base+".private", fake+".private")
			return fake + ".key"
		}, false, "other."},
		{"algorithm rensa cannot sign with", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "Kexample.+005+00002.key")
			os.WriteFile(p, []byte("example. IN DNSKEY 257 3 5 AwEAAcUlFV1vhmqx6NSOUOq2R/dsR7Xm3upJ\n"), 0o644)
			return p
		}, false, "RSASHA1"},
		{"private key of another key", func(t *testing.T, dir string) string {
			base := write(t, dir, good[0])
			donor := write(t, t.TempDir(), testKeys(t, "example.", 5)[0])
			data, _ := os.ReadFile(donor + ".private")
			os.WriteFile(base+".private", data, 0o600)
			return base + ".private"
		}, false, ""},
		{"no KSK", func(t *testing.T, dir string) string {
			write(t, dir, good[1])
			return "example."
		}, true, "KSK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			named := tt.setup(t, dir)
			keyDir := dir
			if tt.name == "no directory" {
				keyDir = named
			}
			keys, err := LoadKeys(keyDir, "example.")
			if tt.sign {
				if err != nil {
					t.Fatalf("LoadKeys: %v", err)
				}
				signer, _ := NewSigner(newServer(t, Config{}), SignerConfig{})
				_, err = signer.Sign(OnlineZone{Zone: dnstest.Zone(t, "example.", exampleZone), Keys: keys})
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), named) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q and say %q", err, named, tt.want)
			}
		})
	}
}
