package dnssec

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// Interoperability with BIND (dnssec-keygen, dnssec-signzone,
// dnssec-verify) and ldns (ldns-verify-zone). A missing peer skips its
// test unless REQUIRE_PEERS=1, when it fails. dnssec-verify has no
// option to set the time, so zones for it are signed at the real time.

// peerTimeout bounds each run of a peer tool.
const peerTimeout = 30 * time.Second

// peer returns the path of a peer tool, skipping (or failing under
// REQUIRE_PEERS=1) when it is not installed.
func peer(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("REQUIRE_PEERS") == "1" {
			t.Fatalf("peer %s not installed and REQUIRE_PEERS=1: %v", name, err)
		}
		t.Skipf("peer %s not installed: %v", name, err)
	}
	return path
}

// runPeer runs a peer tool with a timeout and returns its combined
// output and error.
func runPeer(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, peer(t, name), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %v", name, strings.Join(args, " "), peerTimeout)
	}
	return string(out), err
}

// peerVerifiers are the checks a signed zone file must pass (or fail).
var peerVerifiers = []struct {
	name string
	args func(origin, file string) []string
}{
	{"dnssec-verify", func(origin, file string) []string { return []string{"-o", origin, file} }},
	{"ldns-verify-zone", func(origin, file string) []string { return []string{file} }},
}

// interopKeys returns the test keys of the algorithm: a KSK and a ZSK.
func interopKeys(t *testing.T, origin string, alg uint8) []*Key {
	t.Helper()
	return testKeys(t, origin, alg, false)
}

// TestInteropPeersVerifyRensa signs the example zone with each algorithm
// and with NSEC, NSEC3 and NSEC3 opt-out, and checks that dnssec-verify,
// ldns-verify-zone and Verify all accept it.
func TestInteropPeersVerifyRensa(t *testing.T) {
	t.Parallel()
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			t.Parallel()
			keys := interopKeys(t, "example.test.", alg)
			for _, mode := range []struct {
				name  string
				nsec3 *NSEC3Params
			}{{"nsec", nil}, {"nsec3", &NSEC3Params{}}, {"nsec3-optout", &NSEC3Params{OptOut: true}}} {
				z := parseZone(t, "example.test.", exampleZone)
				signed, err := Sign(z, SignConfig{Keys: keys, NSEC3: mode.nsec3, AddCDS: true})
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				file := writeZone(t, dir, "signed.zone", signed)
				for _, v := range peerVerifiers {
					if out, err := runPeer(t, dir, v.name, v.args(z.Origin, file)...); err != nil {
						t.Errorf("%s: %s rejects the zone rensa signed: %v\n%s", mode.name, v.name, err, out)
					}
				}
				if ps := Verify(reload(t, file, z.Origin), time.Now()); len(ps) > 0 {
					t.Errorf("%s: Verify: %s", mode.name, problemsText(ps))
				}
			}
		})
	}
}

// reload parses a zone file written by a test or a peer.
func reload(t *testing.T, file, origin string) *zone.Zone {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseZone(t, origin, string(data))
}

// TestInteropBINDKeysAndSigner makes keys with dnssec-keygen, reads them
// with ReadKeyFiles and signs with them; makes keys with rensa, signs
// with dnssec-signzone, and verifies BIND's zones with Verify.
func TestInteropBINDKeysAndSigner(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		alg  string
		bits []string
	}{
		{"ECDSAP256SHA256", nil}, {"ECDSAP384SHA384", nil}, {"ED25519", nil}, {"RSASHA256", []string{"-b", "2048"}},
	} {
		t.Run(c.alg, func(t *testing.T) {
			t.Parallel()
			origin := "example.test."
			dir := t.TempDir()
			unsigned := filepath.Join(dir, "example.test.zone")
			if err := os.WriteFile(unsigned, []byte(exampleZone), 0o644); err != nil {
				t.Fatal(err)
			}
			// BIND's keys, read by rensa, sign a zone rensa and BIND accept.
			for _, ksk := range []bool{true, false} {
				args := append([]string{"-q", "-K", dir, "-a", c.alg}, c.bits...)
				if ksk {
					args = append(args, "-f", "KSK")
				}
				if out, err := runPeer(t, dir, "dnssec-keygen", append(args, origin)...); err != nil {
					t.Fatalf("dnssec-keygen: %v\n%s", err, out)
				}
			}
			keys, err := ReadKeyFiles(dir, origin)
			if err != nil {
				t.Fatalf("ReadKeyFiles on dnssec-keygen's keys: %v", err)
			}
			if len(keys) != 2 || Roles(keys)[0] == Roles(keys)[1] {
				t.Fatalf("read %d keys with roles %v, want a KSK and a ZSK", len(keys), Roles(keys))
			}
			signed, err := Sign(parseZone(t, origin, exampleZone), SignConfig{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			file := writeZone(t, dir, "rensa-signed.zone", signed)
			if out, err := runPeer(t, dir, "dnssec-verify", "-o", origin, file); err != nil {
				t.Errorf("dnssec-verify rejects the zone signed with BIND's keys: %v\n%s", err, out)
			}

			// BIND signs with its keys (NSEC, then NSEC3); rensa verifies.
			for _, nsec3 := range [][]string{nil, {"-3", "-", "-H", "0"}, {"-3", "aabb", "-H", "2", "-A"}} {
				out := filepath.Join(dir, "bind-signed.zone")
				args := append([]string{"-S", "-K", dir, "-o", origin, "-f", out}, nsec3...)
				if msg, err := runPeer(t, dir, "dnssec-signzone", append(args, unsigned)...); err != nil {
					t.Fatalf("dnssec-signzone %v: %v\n%s", nsec3, err, msg)
				}
				if ps := Verify(reload(t, out, origin), time.Now()); len(ps) > 0 {
					t.Errorf("Verify rejects the zone dnssec-signzone %v signed:%s", nsec3, problemsText(ps))
				}
			}

			// rensa's keys, written as BIND files, sign with dnssec-signzone.
			rdir := t.TempDir()
			for _, k := range interopKeys(t, origin, keys[0].Algorithm()) {
				if _, err := WriteKeyFiles(rdir, k, time.Now().Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(rdir, "bind-signed.zone")
			if msg, err := runPeer(t, rdir, "dnssec-signzone", "-S", "-K", rdir, "-o", origin, "-f", out, unsigned); err != nil {
				t.Fatalf("dnssec-signzone with rensa's keys: %v\n%s", err, msg)
			}
			if msg, err := runPeer(t, rdir, "dnssec-verify", "-o", origin, out); err != nil {
				t.Errorf("dnssec-verify rejects the zone BIND signed with rensa's keys: %v\n%s", err, msg)
			}
			if ps := Verify(reload(t, out, origin), time.Now()); len(ps) > 0 {
				t.Errorf("Verify rejects the zone BIND signed with rensa's keys:%s", problemsText(ps))
			}
		})
	}
}

// TestInteropTampered breaks signed zones in the ways an attacker or a
// bad tool would, and checks that dnssec-verify, ldns-verify-zone and
// Verify all reject each one.
func TestInteropTampered(t *testing.T) {
	t.Parallel()
	origin := "example.test."
	keys := interopKeys(t, origin, dns.ECDSAP256SHA256)
	now := time.Now()
	sign := func(nsec3 *NSEC3Params, at time.Time) *zone.Zone {
		s, err := Sign(parseZone(t, origin, exampleZone), SignConfig{Keys: keys, NSEC3: nsec3, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nsecZone := sign(nil, now)
	nsec3Zone := sign(&NSEC3Params{}, now)
	cases := []struct {
		name string
		z    *zone.Zone
		edit func(rr dns.RR) []dns.RR // nil drops the record
	}{
		{"changed rdata", nsecZone, func(rr dns.RR) []dns.RR {
			if a, ok := rr.(*dns.A); ok && a.Hdr.Name == "www.example.test." {
				a = dns.Copy(a).(*dns.A)
				a.A = net.ParseIP("192.0.2.66")
				return []dns.RR{a}
			}
			return []dns.RR{rr}
		}},
		{"removed NSEC", nsecZone, dropRR(dns.TypeNSEC, "mail.example.test.")},
		{"removed NSEC3", nsec3Zone, func(rr dns.RR) []dns.RR {
			if n, ok := rr.(*dns.NSEC3); ok && hasType(n.TypeBitMap, dns.TypeMX) {
				return nil
			}
			if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeNSEC3 && strings.HasPrefix(s.Hdr.Name, "jbas") {
				return nil
			}
			return []dns.RR{rr}
		}},
		{"expired signatures", sign(nil, now.Add(-30*24*time.Hour)), func(rr dns.RR) []dns.RR { return []dns.RR{rr} }},
		{"broken chain", nsecZone, resignedNSEC(t, keys[1], "mail.example.test.", "www.example.test.")},
		{"removed signature", nsecZone, func(rr dns.RR) []dns.RR {
			if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeA && s.Hdr.Name == "mail.example.test." {
				return nil
			}
			return []dns.RR{rr}
		}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			t.Parallel()
			var text strings.Builder
			for _, rr := range CanonicalRecords(c.z) {
				for _, out := range c.edit(rr) {
					text.WriteString(out.String() + "\n")
				}
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "tampered.zone")
			if err := os.WriteFile(file, []byte(text.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			if text.String() == zoneText(c.z) && c.name != "expired signatures" {
				t.Fatal("the edit changed nothing")
			}
			for _, v := range peerVerifiers {
				if out, err := runPeer(t, dir, v.name, v.args(origin, file)...); err == nil {
					t.Errorf("%s accepts the tampered zone:\n%s", v.name, out)
				}
			}
			ps := Verify(reload(t, file, origin), now)
			if len(ps) == 0 {
				t.Error("Verify accepts the tampered zone")
			}
			t.Logf("Verify:%s", problemsText(ps))
		})
	}
}

// dropRR returns an edit that drops the records of type t at name and
// the signatures over them.
func dropRR(t uint16, name string) func(dns.RR) []dns.RR {
	return func(rr dns.RR) []dns.RR {
		h := rr.Header()
		if h.Name == name && (h.Rrtype == t || (h.Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == t)) {
			return nil
		}
		return []dns.RR{rr}
	}
}

func hasType(ts []uint16, t uint16) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// resignedNSEC returns an edit that points the NSEC at name to next,
// skipping names, and signs the changed NSEC validly with zsk: the
// signatures are fine, only the chain is broken.
func resignedNSEC(t *testing.T, zsk *Key, name, next string) func(dns.RR) []dns.RR {
	return func(rr dns.RR) []dns.RR {
		h := rr.Header()
		if h.Name != name {
			return []dns.RR{rr}
		}
		switch rr := rr.(type) {
		case *dns.NSEC:
			n := dns.Copy(rr).(*dns.NSEC)
			n.NextDomain = next
			sig, err := signRRset([]dns.RR{n}, zsk, "example.test.", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return []dns.RR{n, sig}
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeNSEC {
				return nil
			}
		}
		return []dns.RR{rr}
	}
}
