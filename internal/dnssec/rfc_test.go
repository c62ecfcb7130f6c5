package dnssec

import (
	"bufio"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/miekg/dns"
)

// The RFC vectors live in ../shared/conformance/rfc-vectors beside the
// repository (CI has them); each test skips with a message when they are
// absent. Some RFC keys are 512-bit RSA, which Go refuses unless
// GODEBUG=rsa1024min=0: those tests set it for their duration only, and
// therefore do not run in parallel.

// allowSmallRSA lets crypto/rsa use the RFCs' 512-bit example keys for
// the rest of the test.
func allowSmallRSA(t *testing.T) {
	t.Setenv("GODEBUG", "rsa1024min=0")
}

// readVectorRRs reads the records of a vector zone file.
func readVectorRRs(t *testing.T, name string) []dns.RR {
	t.Helper()
	data, err := os.ReadFile(vectors(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return parseRRs(t, string(data), name)
}

func parseRRs(t *testing.T, text, file string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), ".", file)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rrs
}

// rrsOfType returns the records of type t among rrs.
func rrsOfType(rrs []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

// recordsInText extracts the records printed in an RFC's text: lines
// that start (indented) with an owner, TTL and class, continued while
// parentheses are open.
func recordsInText(t *testing.T, name string) []dns.RR {
	t.Helper()
	data, err := os.ReadFile(vectors(t, name))
	if err != nil {
		t.Fatal(err)
	}
	start := regexp.MustCompile(`^\s+\S+\.\s+\d+\s+IN\s+[A-Z]+\s`)
	var text strings.Builder
	depth := 0
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		if depth == 0 && !start.MatchString(line) {
			continue
		}
		if depth == 0 {
			line = strings.TrimSpace(line)
		}
		depth += strings.Count(line, "(") - strings.Count(line, ")")
		text.WriteString(line + "\n")
	}
	return parseRRs(t, text.String(), name)
}

// referenceKeyTag is the C code of RFC 4034 Appendix B, in Go, as an
// independent check of the key tags miekg/dns computes.
func referenceKeyTag(rdata []byte) uint16 {
	var ac uint32
	for i, b := range rdata {
		if i&1 != 0 {
			ac += uint32(b)
		} else {
			ac += uint32(b) << 8
		}
	}
	ac += ac >> 16 & 0xFFFF
	return uint16(ac & 0xFFFF)
}

// dnskeyRdata returns the wire RDATA of a DNSKEY.
func dnskeyRdata(t *testing.T, k *dns.DNSKEY) []byte {
	t.Helper()
	buf := make([]byte, dns.Len(k))
	off, err := dns.PackRR(k, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[off-int(k.Hdr.Rdlength) : off]
}

// TestRFC4034KeyTag checks key tags against RFC 4034 §5.4 (60485) and the
// tags printed in RFC 4035 Appendix A, RFC 6605 and RFC 8080, with both
// Key.Tag and the reference algorithm of Appendix B.
func TestRFC4034KeyTag(t *testing.T) {
	t.Parallel()
	vectors(t, "rfc4034-B-keytag.txt")
	cases := []struct {
		key  string
		want uint16
	}{}
	for _, rr := range recordsInText(t, "rfc4034-5.4-ds-example.txt") {
		if ds, ok := rr.(*dns.DS); ok {
			for _, k := range rrsOfType(recordsInText(t, "rfc4034-5.4-ds-example.txt"), dns.TypeDNSKEY) {
				cases = append(cases, struct {
					key  string
					want uint16
				}{k.String(), ds.KeyTag})
			}
		}
	}
	for _, row := range dsVectorRows(t) {
		cases = append(cases, struct {
			key  string
			want uint16
		}{row.key.String(), row.ds.KeyTag})
	}
	// RFC 4035 Appendix A signs with key tags 38519 (ZSK) and 9465 (KSK).
	for _, rr := range rrsOfType(readVectorRRs(t, "rfc4035-A-signed-zone.zone"), dns.TypeDNSKEY) {
		want := uint16(38519)
		if rr.(*dns.DNSKEY).Flags == 257 {
			want = 9465
		}
		cases = append(cases, struct {
			key  string
			want uint16
		}{rr.String(), want})
	}
	if len(cases) < 10 {
		t.Fatalf("only %d key tag cases found in the vectors", len(cases))
	}
	for _, c := range cases {
		rr, err := dns.NewRR(c.key)
		if err != nil {
			t.Fatal(err)
		}
		k := &Key{DNSKEY: rr.(*dns.DNSKEY)}
		if got := k.Tag(); got != c.want {
			t.Errorf("Tag(%s) = %d, want %d", c.key, got, c.want)
		}
		if got := referenceKeyTag(dnskeyRdata(t, k.DNSKEY)); got != c.want {
			t.Errorf("reference key tag of %s = %d, want %d", c.key, got, c.want)
		}
	}
}

// dsVectorRow is one line of ds-vectors.tsv.
type dsVectorRow struct {
	key    *dns.DNSKEY
	ds     *dns.DS
	source string
}

func dsVectorRows(t *testing.T) []dsVectorRow {
	t.Helper()
	data, err := os.ReadFile(vectors(t, "ds-vectors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []dsVectorRow
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			t.Fatalf("ds-vectors.tsv: short line %q", line)
		}
		key, err := dns.NewRR(f[0] + " 86400 IN DNSKEY " + f[1])
		if err != nil {
			t.Fatal(err)
		}
		ds, err := dns.NewRR(f[0] + " 86400 IN DS " + f[2])
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, dsVectorRow{key: key.(*dns.DNSKEY), ds: ds.(*dns.DS), source: f[3]})
	}
	return rows
}

// checkDS checks that DS computes want from key.
func checkDS(t *testing.T, source string, key *dns.DNSKEY, want *dns.DS) {
	t.Helper()
	got, err := DS(key, want.DigestType)
	if err != nil {
		t.Errorf("%s: DS: %v", source, err)
		return
	}
	if got.KeyTag != want.KeyTag || got.Algorithm != want.Algorithm || !strings.EqualFold(got.Digest, want.Digest) {
		t.Errorf("%s: DS = %s, want %s", source, got, want)
	}
}

// TestRFC4034DS reproduces the DS record of RFC 4034 §5.4 (SHA-1) and the
// table of DS vectors (RFC 4509, RFC 6605, RFC 8080, and one SHA-384 row
// computed by dnssec-dsfromkey).
func TestRFC4034DS(t *testing.T) {
	t.Parallel()
	rrs := recordsInText(t, "rfc4034-5.4-ds-example.txt")
	keys, dss := rrsOfType(rrs, dns.TypeDNSKEY), rrsOfType(rrs, dns.TypeDS)
	if len(keys) != 1 || len(dss) != 1 {
		t.Fatalf("found %d DNSKEY and %d DS records in the RFC 4034 text, want 1 and 1", len(keys), len(dss))
	}
	checkDS(t, "RFC 4034 §5.4", keys[0].(*dns.DNSKEY), dss[0].(*dns.DS))
	for _, row := range dsVectorRows(t) {
		checkDS(t, row.source, row.key, row.ds)
	}
}

// TestRFC4509DS reproduces the SHA-256 DS record of RFC 4509 §2.3.
func TestRFC4509DS(t *testing.T) {
	t.Parallel()
	rrs := recordsInText(t, "rfc4509-2.3-ds-sha256-example.txt")
	keys, dss := rrsOfType(rrs, dns.TypeDNSKEY), rrsOfType(rrs, dns.TypeDS)
	if len(keys) != 1 || len(dss) != 1 {
		t.Fatalf("found %d DNSKEY and %d DS records in the RFC 4509 text, want 1 and 1", len(keys), len(dss))
	}
	if dss[0].(*dns.DS).DigestType != dns.SHA256 {
		t.Fatalf("RFC 4509 DS has digest type %d", dss[0].(*dns.DS).DigestType)
	}
	checkDS(t, "RFC 4509 §2.3", keys[0].(*dns.DNSKEY), dss[0].(*dns.DS))
}

// signatureVector is one RRSIG example of RFC 5702, RFC 6605 or RFC 8080.
type signatureVector struct {
	zone    string    // file in rfc-vectors
	private string    // file in rfc-vectors/keys
	at      time.Time // a time within the signature's validity
	// deterministic: re-signing with the private key must give the
	// RFC's signature byte for byte (RSA PKCS #1 v1.5 and EdDSA).
	deterministic bool
}

var signatureVectors = []signatureVector{
	{"rfc5702-6.1-rsasha256.zone", "Kexample.net.+008+09033.private", time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), true},
	{"rfc5702-6.2-rsasha512.zone", "Kexample.net.+010+03740.private", time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), true},
	{"rfc6605-6.1-p256.zone", "Kexample.net.+013+55648.private", time.Date(2010, 8, 20, 0, 0, 0, 0, time.UTC), false},
	{"rfc6605-6.2-p384.zone", "Kexample.net.+014+10771.private", time.Date(2010, 8, 20, 0, 0, 0, 0, time.UTC), false},
	{"rfc8080-6.1-ed25519-key1-corrected.zone", "Kexample.com.+015+03613.private", time.Date(2015, 8, 1, 0, 0, 0, 0, time.UTC), true},
	{"rfc8080-6.1-ed25519-key2-corrected.zone", "Kexample.com.+015+35217.private", time.Date(2015, 8, 1, 0, 0, 0, 0, time.UTC), true},
	{"rfc8080-6.2-ed448-key1-corrected.zone", "Kexample.com.+016+09713.private", time.Date(2015, 8, 1, 0, 0, 0, 0, time.UTC), true},
	{"rfc8080-6.2-ed448-key2-corrected.zone", "Kexample.com.+016+38353.private", time.Date(2015, 8, 1, 0, 0, 0, 0, time.UTC), true},
}

// TestRFCSignatures verifies the example signatures of RFC 5702 (RSA
// SHA-256 and SHA-512), RFC 6605 (ECDSA P-256 and P-384) and RFC 8080
// (Ed25519, Ed448; the corrected examples of erratum 4935), loads each
// RFC private key through ReadKeyPair, reproduces the deterministic
// signatures byte for byte and checks that the others round-trip, and
// checks each DS record printed beside a key.
func TestRFCSignatures(t *testing.T) {
	allowSmallRSA(t)
	for _, v := range signatureVectors {
		t.Run(strings.TrimSuffix(v.zone, ".zone"), func(t *testing.T) {
			rrs := readVectorRRs(t, v.zone)
			key := rrsOfType(rrs, dns.TypeDNSKEY)[0].(*dns.DNSKEY)
			sig := rrsOfType(rrs, dns.TypeRRSIG)[0].(*dns.RRSIG)
			rrset := rrsOfType(rrs, sig.TypeCovered)
			for _, ds := range rrsOfType(rrs, dns.TypeDS) {
				checkDS(t, v.zone, key, ds.(*dns.DS))
			}
			if !CanVerify(key.Algorithm) {
				t.Skipf("algorithm %s is not implemented", algorithmName(key.Algorithm))
			}
			if err := VerifyRRset(rrset, []*dns.RRSIG{sig}, []*dns.DNSKEY{key}, v.at); err != nil {
				t.Fatalf("the RFC's signature does not verify: %v", err)
			}
			if key.Algorithm == dns.ED448 {
				// rensa verifies Ed448 but does not sign with it: sign
				// the data signedData builds with circl directly.
				reproduceEd448(t, sig, rrset, v.private)
				return
			}
			k := loadVectorKey(t, key, v.private)
			again, err := signRRset(rrset, k, sig.SignerName, time.Unix(int64(sig.Inception), 0), time.Unix(int64(sig.Expiration), 0))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyRRset(rrset, []*dns.RRSIG{again}, []*dns.DNSKEY{key}, v.at); err != nil {
				t.Fatalf("re-made signature does not verify: %v", err)
			}
			if v.deterministic && again.Signature != sig.Signature {
				t.Errorf("re-made signature differs from the RFC's:\n got %s\nwant %s", again.Signature, sig.Signature)
			}
			if again.Labels != sig.Labels || again.OrigTtl != sig.OrigTtl || again.KeyTag != sig.KeyTag {
				t.Errorf("re-made RRSIG %s, want %s", again, sig)
			}
		})
	}
}

// loadVectorKey writes key as a .key file beside a copy of the RFC's
// .private file and reads the pair back with ReadKeyPair.
func loadVectorKey(t *testing.T, key *dns.DNSKEY, private string) *Key {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectors(t, "keys"), private))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := filepath.Join(dir, strings.TrimSuffix(private, ".private"))
	if err := os.WriteFile(base+".private", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".key", []byte(key.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeyPair(base + ".key")
	if err != nil {
		t.Fatalf("ReadKeyPair: %v", err)
	}
	if k.Tag() != key.KeyTag() {
		t.Fatalf("key tag %d, want %d", k.Tag(), key.KeyTag())
	}
	return k
}

// TestRFC5155Hashes checks NSEC3Hash against the hashes of RFC 5155
// Appendix A (SHA-1, salt aabbccdd, 12 iterations).
func TestRFC5155Hashes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(vectors(t, "rfc5155-A-nsec3-hashes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			t.Fatalf("bad line %q", line)
		}
		got, err := NSEC3Hash(f[0]+".", 12, "aabbccdd")
		if err != nil {
			t.Fatal(err)
		}
		if got != f[1] {
			t.Errorf("NSEC3Hash(%s) = %s, want %s", f[0], got, f[1])
		}
		n++
	}
	if n < 12 {
		t.Errorf("only %d hashes checked", n)
	}
}

// TestRFC4035Zone verifies the signed zone of RFC 4035 Appendix A
// (RSASHA1, NSEC) at a time inside its validity, and fails it outside.
func TestRFC4035Zone(t *testing.T) {
	allowSmallRSA(t)
	data, err := os.ReadFile(vectors(t, "rfc4035-A-signed-zone.zone"))
	if err != nil {
		t.Fatal(err)
	}
	z := parseZone(t, "example.", string(data))
	at := time.Date(2004, 4, 20, 0, 0, 0, 0, time.UTC)
	if ps := Verify(z, at); len(ps) > 0 {
		t.Fatalf("Verify found problems:%s", problemsText(ps))
	}
	ps := Verify(z, time.Date(2004, 6, 1, 0, 0, 0, 0, time.UTC))
	if len(ps) == 0 {
		t.Fatal("Verify accepted the zone a month after its signatures expired")
	}
	if !strings.Contains(problemsText(ps), "signature expired") {
		t.Errorf("no problem says the signatures expired:%s", problemsText(ps))
	}
	// The RFC's signatures decode; a flipped bit does not verify.
	sig := z.Apex().Sigs[dns.TypeSOA][0].(*dns.RRSIG)
	raw, _ := base64.StdEncoding.DecodeString(sig.Signature)
	raw[10] ^= 1
	bad := *sig
	bad.Signature = base64.StdEncoding.EncodeToString(raw)
	keys := []*dns.DNSKEY{}
	for _, rr := range z.Apex().RRsets[dns.TypeDNSKEY] {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	if err := VerifyRRset(z.Apex().RRsets[dns.TypeSOA], []*dns.RRSIG{&bad}, keys, at); err == nil {
		t.Error("VerifyRRset accepted a corrupted RFC 4035 signature")
	}
}

// reproduceEd448 re-makes an RFC 8080 Ed448 signature from the RFC's
// private key over the data signedData builds, and compares it with the
// RFC's.
func reproduceEd448(t *testing.T, sig *dns.RRSIG, rrset []dns.RR, private string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectors(t, "keys"), private))
	if err != nil {
		t.Fatal(err)
	}
	var seed []byte
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "PrivateKey: "); ok {
			seed, err = base64.StdEncoding.DecodeString(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seed) != ed448.SeedSize {
		t.Fatalf("%s: no Ed448 seed", private)
	}
	msg, err := signedData(sig, rrset)
	if err != nil {
		t.Fatal(err)
	}
	got := base64.StdEncoding.EncodeToString(ed448.Sign(ed448.NewKeyFromSeed(seed), msg, ""))
	if got != sig.Signature {
		t.Errorf("re-made Ed448 signature differs from the RFC's:\n got %s\nwant %s", got, sig.Signature)
	}
}

// TestRFC5155Zone verifies the NSEC3 zone of RFC 5155 Appendix A (opt-out,
// salt aabbccdd, 12 iterations, 512-bit RSASHA1-NSEC3-SHA1 keys). The RFC
// prints some type bitmaps unsorted, which miekg/dns cannot pack: they are
// sorted first.
func TestRFC5155Zone(t *testing.T) {
	allowSmallRSA(t)
	data, err := os.ReadFile(vectors(t, "rfc5155-A-nsec3-zone.zone"))
	if err != nil {
		t.Fatal(err)
	}
	z := parseZone(t, "example.", string(data))
	for _, r := range z.Records {
		if n, ok := r.RR.(*dns.NSEC3); ok {
			sortTypes(n.TypeBitMap)
		}
	}
	if ps := Verify(z, time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)); len(ps) > 0 {
		t.Fatalf("Verify found problems:%s", problemsText(ps))
	}
	if n := len(z.Apex().RRsets[dns.TypeNSEC3PARAM]); n != 1 {
		t.Fatalf("%d NSEC3PARAM records", n)
	}
}
