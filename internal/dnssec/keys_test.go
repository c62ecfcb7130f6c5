package dnssec

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestGenerate makes a key of each algorithm and role and checks its
// DNSKEY, that the private key belongs to it, and that ECDSA and Ed25519
// keys depend only on the random source.
func TestGenerate(t *testing.T) {
	t.Parallel()
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256} {
		for _, flags := range []uint16{FlagsZSK, FlagsKSK} {
			k, err := Generate("Example.TEST", alg, flags, 0, seeded(9))
			if err != nil {
				t.Fatalf("Generate(%s, %d): %v", algorithmName(alg), flags, err)
			}
			if k.Zone() != "example.test." || k.DNSKEY.Flags != flags || k.DNSKEY.Protocol != 3 || k.Algorithm() != alg {
				t.Errorf("Generate(%s, %d) = %s", algorithmName(alg), flags, k.DNSKEY)
			}
			if k.IsKSK() != (flags == FlagsKSK) {
				t.Errorf("IsKSK = %v for flags %d", k.IsKSK(), flags)
			}
			if err := checkPair(k.DNSKEY, k.Signer); err != nil {
				t.Errorf("%s: %v", k, err)
			}
			if alg == dns.RSASHA256 {
				if n := k.Signer.(*rsa.PrivateKey).N.BitLen(); n != DefaultRSABits {
					t.Errorf("RSA key of %d bits, want %d", n, DefaultRSABits)
				}
				continue
			}
			again, err := Generate("example.test.", alg, flags, 0, seeded(9))
			if err != nil {
				t.Fatal(err)
			}
			if again.DNSKEY.PublicKey != k.DNSKEY.PublicKey {
				t.Errorf("%s: the same seed gave another key", algorithmName(alg))
			}
		}
	}
}

// TestGenerateRejects checks that Generate refuses what it must not make.
func TestGenerateRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		alg   uint8
		flags uint16
		bits  int
		want  error
	}{
		{"RSASHA1 (RFC 8624)", dns.RSASHA1, FlagsZSK, 0, ErrAlgorithm},
		{"DSA", dns.DSA, FlagsZSK, 0, ErrAlgorithm},
		{"ED448 (not implemented)", dns.ED448, FlagsZSK, 0, ErrAlgorithm},
		{"1024-bit RSA", dns.RSASHA256, FlagsZSK, 1024, ErrBadKey},
		{"8192-bit RSA", dns.RSASHA256, FlagsZSK, 8192, ErrBadKey},
		{"P-256 with 384 bits", dns.ECDSAP256SHA256, FlagsZSK, 384, ErrBadKey},
		{"no zone flag", dns.ED25519, FlagSEP, 0, ErrBadKey},
		{"revoke flag", dns.ED25519, FlagsKSK | FlagRevoke, 0, ErrBadKey},
	} {
		if _, err := Generate("example.test.", c.alg, c.flags, c.bits, seeded(1)); !errors.Is(err, c.want) {
			t.Errorf("%s: Generate error %v, want %v", c.name, err, c.want)
		}
	}
}

// TestPublicKeyEncoding checks that the DNSKEY public key rensa writes
// for a private key is what miekg/dns writes for the same algorithm
// (RFC 3110, RFC 6605, RFC 8080 encodings).
func TestPublicKeyEncoding(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		alg  uint8
		bits int
	}{{dns.RSASHA256, 2048}, {dns.ECDSAP256SHA256, 256}, {dns.ECDSAP384SHA384, 384}, {dns.ED25519, 256}} {
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET}, Flags: 256, Protocol: 3, Algorithm: c.alg}
		priv, err := k.Generate(c.bits)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkPair(k, priv.(crypto.Signer)); err != nil {
			t.Errorf("%s: %v", algorithmName(c.alg), err)
		}
	}
}

// TestKeyFilesRoundTrip writes keys as BIND files and reads them back.
func TestKeyFilesRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var want []*Key
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.RSASHA256} {
		for _, flags := range []uint16{FlagsKSK, FlagsZSK} {
			k, err := Generate("example.test.", alg, flags, 0, seeded(uint64(alg)*2+uint64(flags)))
			if err != nil {
				t.Fatal(err)
			}
			base, err := WriteKeyFiles(dir, k, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(base) != k.BaseName() || !strings.HasPrefix(k.BaseName(), "Kexample.test.+0") {
				t.Errorf("base name %s, want %s", base, k.BaseName())
			}
			if info, err := os.Stat(base + ".private"); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("private key file mode %v (%v), want 0600", info.Mode(), err)
			}
			if _, err := WriteKeyFiles(dir, k, testNow); !errors.Is(err, fs.ErrExist) {
				t.Errorf("second WriteKeyFiles error %v, want fs.ErrExist", err)
			}
			for _, path := range []string{base, base + ".key", base + ".private"} {
				got, err := ReadKeyPair(path)
				if err != nil {
					t.Fatalf("ReadKeyPair(%s): %v", path, err)
				}
				if got.DNSKEY.String() != k.DNSKEY.String() || got.File != base+".key" {
					t.Errorf("ReadKeyPair(%s) = %s from %s, want %s", path, got.DNSKEY, got.File, k.DNSKEY)
				}
			}
			want = append(want, k)
		}
	}
	// A key of another zone in the same directory is not read.
	other, _ := Generate("other.test.", dns.ED25519, FlagsKSK, 0, seeded(3))
	if _, err := WriteKeyFiles(dir, other, testNow); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadKeyFiles(dir, "EXAMPLE.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(want) {
		t.Fatalf("ReadKeyFiles read %d keys, want %d", len(keys), len(want))
	}
	all, err := ReadKeyFiles(dir, "")
	if err != nil || len(all) != len(want)+1 {
		t.Errorf("ReadKeyFiles(dir, \"\") read %d keys (%v), want %d", len(all), err, len(want)+1)
	}
	// The written .key file is what dnssec-keygen writes: comments and
	// one DNSKEY line.
	text, _ := os.ReadFile(filepath.Join(dir, want[0].BaseName()+".key"))
	if !strings.HasPrefix(string(text), "; This is a key-signing key, keyid ") || !strings.Contains(string(text), "\nexample.test. IN DNSKEY 257 3 13 ") {
		t.Errorf(".key file:\n%s", text)
	}
}

// TestReadKeyPairErrors checks that each broken key file gives an error
// that names the file and says what is wrong.
func TestReadKeyPairErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, _ := Generate("example.test.", dns.ECDSAP256SHA256, FlagsKSK, 0, seeded(1))
	other, _ := Generate("example.test.", dns.ECDSAP256SHA256, FlagsKSK, 0, seeded(2))
	ed, _ := Generate("example.test.", dns.ED25519, FlagsKSK, 0, seeded(2))
	goodPriv := good.DNSKEY.PrivateKeyString(good.Signer)
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pair := func(name, key, priv string) string {
		write(name+".private", priv)
		return write(name+".key", key)
	}
	for _, c := range []struct {
		name     string
		path     string
		want     error
		file     string // the file the error must name
		contains string
	}{
		{"missing private", write("Knoprivate.key", good.DNSKEY.String()), fs.ErrNotExist, "Knoprivate.private", "no such file"},
		{"missing key", filepath.Join(dir, "Kabsent.key"), fs.ErrNotExist, "Kabsent.key", "no such file"},
		{"garbage key", pair("Kgarbage", "this is not a key\n", goodPriv), ErrBadKey, "Kgarbage.key", ""},
		{"two records", pair("Ktwo", good.DNSKEY.String()+"\n"+other.DNSKEY.String()+"\n", goodPriv), ErrBadKey, "Ktwo.key", "exactly one DNSKEY"},
		{"A record", pair("Karec", "example.test. IN A 192.0.2.1\n", goodPriv), ErrBadKey, "Karec.key", "exactly one DNSKEY"},
		{"garbage private", pair("Kgarbagepriv", good.DNSKEY.String(), "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: !!!\n"), ErrBadKey, "Kgarbagepriv.private", ""},
		{"no format line", pair("Knoformat", good.DNSKEY.String(), "Algorithm: 13 (ECDSAP256SHA256)\n"), ErrBadKey, "Knoformat.private", ""},
		{"mismatched pair", pair("Kmismatch", good.DNSKEY.String(), other.DNSKEY.PrivateKeyString(other.Signer)), ErrKeyMismatch, "Kmismatch.private", "does not belong"},
		{"other algorithm", pair("Kotheralg", good.DNSKEY.String(), ed.DNSKEY.PrivateKeyString(ed.Signer)), ErrKeyMismatch, "Kotheralg.private", "ED25519"},
		{"DSA key", pair("Kdsa", "example.test. IN DNSKEY 256 3 3 AMxDLI0w3gRo6zkL9aHbhcSMm8GoGa3ag4+5rUF6pm8btfDuVx65f0Kp/v54yQLBsjNBHq2V/6eH4jhONIlk2nCcD7sKWJtugcbkhdLtOzNDcD2SnK6VBm43kPZlZLfWL4N38+NRZWOVkgsuClS0fMDBWs6Bb9UKhnsaddXd/V7u1+vWDASyQOKcyr91cvjR/dPCkuC9RFbsCgoS+DxGLS5s3Uvw2bIPPlz0sNzlhbV6rMdomX8ubp1mBB9E7L6zufvmiZBiyA5ajWbMeIW2dRN4POcZxx9zmcGlcl0X4AOpNI4JhgF+4DXdE0UHSXa2y8mq9rPijVT5XuKQF8LuBzRuTHVfFoqVbE7pD91Iq42GqLoFBXAIu3TQKQ4p8F3GK7FBlOO5hnvGxo0kEidlMw8xc+r0S26yOjvLLh8ZDB/sN8hZ/SOVj9F6Ur+GNQ/8FbJuj/J5BHJ9brNBcMmmc+MRVQ7o\n", "Private-key-format: v1.2\nAlgorithm: 3 (DSA)\n"), ErrAlgorithm, "Kdsa.key", "cannot sign with algorithm DSA"},
		{"ZSK without zone flag", pair("Knozone", strings.Replace(good.DNSKEY.String(), "257 3 13", "1 3 13", 1), goodPriv), ErrBadKey, "Knozone.key", "Zone Key"},
	} {
		_, err := ReadKeyPair(c.path)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
			continue
		}
		var kfe *KeyFileError
		if !errors.As(err, &kfe) || filepath.Base(kfe.File) != c.file || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.file)
		}
		if !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.contains)
		}
	}
}

// TestReadKeyFilesWrongZone checks that a key file named for one zone but
// holding another zone's key is refused.
func TestReadKeyFilesWrongZone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, _ := Generate("other.test.", dns.ED25519, FlagsKSK, 0, seeded(1))
	base, err := WriteKeyFiles(dir, k, testNow)
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, strings.Replace(filepath.Base(base), "other.test.", "example.test.", 1))
	for _, ext := range []string{".key", ".private"} {
		if err := os.Rename(base+ext, renamed+ext); err != nil {
			t.Fatal(err)
		}
	}
	_, err = ReadKeyFiles(dir, "example.test.")
	if !errors.Is(err, ErrKeyMismatch) || !strings.Contains(err.Error(), filepath.Base(renamed)) {
		t.Errorf("error %v, want ErrKeyMismatch naming %s", err, renamed)
	}
	if _, err := ReadKeyFiles(filepath.Join(dir, "absent"), "example.test."); err == nil {
		t.Error("ReadKeyFiles of a missing directory succeeded")
	}
}

// TestRoles checks how key sets map to KSK, ZSK and CSK roles, and what
// Sign refuses.
func TestRoles(t *testing.T) {
	t.Parallel()
	z := parseZone(t, "example.test.", exampleZone)
	ksk, zsk := testKeys(t, z.Origin, dns.ED25519, false)[0], testKeys(t, z.Origin, dns.ED25519, false)[1]
	p256 := testKeys(t, z.Origin, dns.ECDSAP256SHA256, true)[0]
	other, _ := Generate("other.test.", dns.ED25519, FlagsKSK, 0, seeded(5))
	public := &Key{DNSKEY: ksk.DNSKEY}
	for _, c := range []struct {
		name  string
		keys  []*Key
		roles []Role
		err   error
	}{
		{"KSK and ZSK", []*Key{ksk, zsk}, []Role{RoleKSK, RoleZSK}, nil},
		{"lone KSK is a CSK", []*Key{ksk}, []Role{RoleCSK}, nil},
		{"two algorithms", []*Key{ksk, zsk, p256}, []Role{RoleKSK, RoleZSK, RoleCSK}, nil},
		{"lone ZSK", []*Key{zsk}, []Role{RoleZSK}, ErrNoKSK},
		{"other zone", []*Key{ksk, other}, nil, ErrKeyMismatch},
		{"same key twice", []*Key{ksk, ksk}, nil, ErrKeyMismatch},
		{"no private key", []*Key{public}, nil, ErrBadKey},
	} {
		if c.roles != nil {
			got := Roles(c.keys)
			for i := range got {
				if got[i] != c.roles[i] {
					t.Errorf("%s: Roles = %v, want %v", c.name, got, c.roles)
					break
				}
			}
		}
		_, err := Sign(z, SignConfig{Keys: c.keys, Now: fixedNow})
		if !errors.Is(err, c.err) {
			t.Errorf("%s: Sign error %v, want %v", c.name, err, c.err)
		}
	}
	if _, err := Sign(z, SignConfig{Now: fixedNow}); err == nil {
		t.Error("Sign without keys succeeded")
	}
}

// TestParseAlgorithm checks algorithm names and numbers.
func TestParseAlgorithm(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uint8{"ECDSAP256SHA256": 13, "ed25519": 15, "8": 8, "RSASHA256": 8} {
		if got, err := ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ECDSA", "256", "13x"} {
		if _, err := ParseAlgorithm(in); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) error %v, want ErrAlgorithm", in, err)
		}
	}
}
