package dnssec

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// seeded returns a deterministic random source.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

// exampleZone is a small zone with what signing must get right: apex
// data, a wildcard, empty non-terminals, a CNAME, an unsigned delegation
// with glue, a signed delegation (DS), and a delegation below an empty
// non-terminal.
const exampleZone = `$ORIGIN example.test.
$TTL 3600
@        SOA   ns1 hostmaster 2026010101 7200 3600 1209600 300
@        NS    ns1
@        NS    ns2
@        MX    10 mail
ns1      A     192.0.2.1
ns2      AAAA  2001:db8::2
mail     A     192.0.2.25
www      A     192.0.2.80
www      AAAA  2001:db8::80
WWW      TXT   "Upper case owner"
*.wild   TXT   "wildcard"
a.b.c.ent A    192.0.2.9
cname    CNAME www
sub      NS    ns.sub
ns.sub   A     192.0.2.53
secure   NS    ns.secure
secure   DS    12345 13 2 5c8d2b5e1c3f0f0d5f8c7a8b9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788f
ns.secure A    192.0.2.54
deep.unsigned NS ns.elsewhere.test.
`

// parseZoneText reads zone text with miekg/dns's parser into a zone.
// Tests of this package do not depend on zone.Load.
func parseZoneText(origin, text string) (*zone.Zone, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "test.zone")
	var records []zone.Record
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		records = append(records, zone.Record{RR: rr, File: "test.zone"})
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("parsing zone: %w", err)
	}
	return zone.New(origin, records), nil
}

// parseZone is parseZoneText for tests.
func parseZone(t testing.TB, origin, text string) *zone.Zone {
	t.Helper()
	z, err := parseZoneText(origin, text)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// testKeyCache holds the keys tests made, by origin, algorithm and
// shape: RSA keys take long to make, above all under -race.
var testKeyCache sync.Map // string -> []*Key

// makeTestKeys makes (once per process) a KSK and a ZSK, or one CSK, for
// origin from a seeded source (RSA keys are random whatever the source).
func makeTestKeys(origin string, alg uint8, csk bool) ([]*Key, error) {
	id := fmt.Sprint(origin, alg, csk)
	if keys, ok := testKeyCache.Load(id); ok {
		return keys.([]*Key), nil
	}
	r := seeded(uint64(alg))
	ksk, err := Generate(origin, alg, FlagsKSK, 0, r)
	if err != nil {
		return nil, err
	}
	keys := []*Key{ksk}
	if !csk {
		zsk, err := Generate(origin, alg, FlagsZSK, 0, r)
		if err != nil {
			return nil, err
		}
		keys = append(keys, zsk)
	}
	actual, _ := testKeyCache.LoadOrStore(id, keys)
	return actual.([]*Key), nil
}

// testKeys is makeTestKeys for tests.
func testKeys(t testing.TB, origin string, alg uint8, csk bool) []*Key {
	t.Helper()
	keys, err := makeTestKeys(origin, alg, csk)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// signTest signs a zone with a fixed clock and seeded jitter.
func signTest(t testing.TB, z *zone.Zone, keys []*Key, nsec3 *NSEC3Params) *zone.Zone {
	t.Helper()
	signed, err := Sign(z, SignConfig{Keys: keys, Now: fixedNow, Rand: seeded(1), NSEC3: nsec3})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return signed
}

// zoneText renders a zone as a master file in canonical order.
func zoneText(z *zone.Zone) string {
	var b strings.Builder
	for _, rr := range CanonicalRecords(z) {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// writeZone writes a zone to a file in dir and returns its path.
func writeZone(t testing.TB, dir, name string, z *zone.Zone) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(zoneText(z)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemsText joins problems for messages.
func problemsText(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n\t%s", p)
	}
	return b.String()
}

// vectors returns the path of a file in the shared RFC vectors, skipping
// the test when the conformance material is absent.
func vectors(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "conformance", "rfc-vectors", name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("RFC vectors not available (%v): run with ../shared/conformance beside the repository", err)
	}
	return path
}
