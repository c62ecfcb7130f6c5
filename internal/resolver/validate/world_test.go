package validate

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// signTime is the fixed signing time of the test zones; signatures are
// valid from an hour before it for 14 days.
var signTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// dsTTL is the TTL of the DS records a world adds to parent zones, the
// zones' own: a validator keeps the zone cuts they prove that long.
const dsTTL = 3600

// zspec is one zone of a test world.
type zspec struct {
	origin, text string
	nsec3        *dnssec.NSEC3Params
	unsigned     bool
}

// world is a signed hierarchy served by one auth.Server per zone, and the
// Fetch a resolver would give the validator. mutate, when set, changes a
// reply before the validator sees it.
type world struct {
	t       testing.TB
	origins []string
	servers map[string]*auth.Server
	keys    map[string][]*dnssec.Key
	anchors *Anchors
	mutate  func(name string, qtype uint16, m *dns.Msg)
	fetches int
}

// newWorld signs the zones (ECDSA P-256 KSK and ZSK each, DS of signed
// children added to parents unless their text has one) at signTime.
func newWorld(t testing.TB, specs ...zspec) *world {
	t.Helper()
	w := &world{t: t, servers: map[string]*auth.Server{}, keys: map[string][]*dnssec.Key{}}
	zones := map[string]*zone.Zone{}
	for _, s := range specs {
		z, err := zone.Parse(strings.NewReader(s.text), s.origin, s.origin, zone.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		zones[z.Origin] = z
		w.origins = append(w.origins, z.Origin)
		if s.unsigned {
			continue
		}
		for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
			k, err := dnssec.Generate(z.Origin, dns.ECDSAP256SHA256, flags, 0, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			w.keys[z.Origin] = append(w.keys[z.Origin], k)
		}
	}
	for _, s := range specs {
		origin := dnsname.Canonical(s.origin)
		z := zones[origin]
		recs := append([]zone.Record(nil), z.Records...)
		for _, child := range w.origins {
			if child == origin || w.zoneFor(dnsname.Parent(child)) != origin || len(w.keys[child]) == 0 {
				continue
			}
			if n := z.Node(child); n != nil && n.Has(dns.TypeDS) {
				continue
			}
			ds, err := w.keys[child][0].DS(dns.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			ds.Hdr.Ttl = dsTTL // the key's header has none
			recs = append(recs, zone.Record{RR: ds})
		}
		z = zone.New(origin, recs)
		if !s.unsigned {
			var err error
			z, err = dnssec.Sign(z, dnssec.SignConfig{Keys: w.keys[origin], Now: func() time.Time { return signTime },
				NSEC3: s.nsec3, Jitter: -1})
			if err != nil {
				t.Fatal(err)
			}
		}
		srv, err := auth.New(auth.Config{Zones: zone.NewSet(z)})
		if err != nil {
			t.Fatal(err)
		}
		w.servers[origin] = srv
	}
	ds, err := w.keys["."][0].DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	w.anchors = &Anchors{DS: map[string][]*dns.DS{".": {ds}}}
	return w
}

// zoneFor returns the closest origin of the world at or above name.
func (w *world) zoneFor(name string) string {
	for n := dnsname.Canonical(name); ; n = dnsname.Parent(n) {
		for _, o := range w.origins {
			if o == n {
				return o
			}
		}
		if n == "." {
			return ""
		}
	}
}

// fetch is the world's Fetch: the reply of the zone's server (the
// parent's for DS) to a DO query.
func (w *world) fetch(_ context.Context, name string, qtype uint16) (*dns.Msg, error) {
	w.fetches++
	z := w.zoneFor(name)
	if qtype == dns.TypeDS && name != "." {
		z = w.zoneFor(dnsname.Parent(name))
	}
	m := dnstest.EDNS(dnstest.Query(name, qtype), 4096, true)
	m.RecursionDesired = false
	reply := dnstest.Exchange(w.t, w.servers[z], m, "tcp")
	if w.mutate != nil {
		w.mutate(dnsname.Canonical(name), qtype, reply)
	}
	return reply, nil
}

// validator returns a fresh validator of the world at time now.
func (w *world) validator(now time.Time) *Validator {
	v, err := New(Config{Anchors: w.anchors, Now: func() time.Time { return now }})
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// validate validates name and type at signTime plus a day.
func (w *world) validate(name string, qtype uint16) Verdict {
	return w.validator(signTime.Add(24*time.Hour)).Validate(context.Background(),
		dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}, w.fetch)
}

// resign replaces the RRSIGs of the RRset (name, t) in section with fresh
// ones by the ZSK of zone, so a deliberately changed RRset still
// verifies and only the proof logic can reject it.
func (w *world) resign(section []dns.RR, name string, t uint16, zoneName string) []dns.RR {
	return w.resignWith(section, name, t, zoneName, 1)
}

// resignWith is resign with the zone's key number key (0 the KSK, 1 the
// ZSK).
func (w *world) resignWith(section []dns.RR, name string, t uint16, zoneName string, key int) []dns.RR {
	var rrset, out []dns.RR
	for _, rr := range section {
		h := rr.Header()
		if dnsname.Canonical(h.Name) == name && h.Rrtype == t {
			rrset = append(rrset, rr)
		}
		if sig, ok := rr.(*dns.RRSIG); ok && dnsname.Canonical(h.Name) == name && sig.TypeCovered == t {
			continue
		}
		out = append(out, rr)
	}
	k := w.keys[zoneName][key]
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: rrset[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: rrset[0].Header().Ttl},
		OrigTtl: rrset[0].Header().Ttl, Algorithm: k.Algorithm(), KeyTag: k.Tag(), SignerName: zoneName,
		Inception: uint32(signTime.Add(-time.Hour).Unix()), Expiration: uint32(signTime.Add(10 * 24 * time.Hour).Unix()),
		Labels: uint8(dns.CountLabel(rrset[0].Header().Name))}
	if err := sig.Sign(k.Signer, rrset); err != nil {
		w.t.Fatal(err)
	}
	return append(out, sig)
}

const rootZone = `
$TTL 3600
.            SOA a.root. hostmaster.root. 1 7200 900 1209600 300
.            NS  a.root.
a.root.      A   192.0.2.1
test.        NS  ns.test.
ns.test.     A   192.0.2.2
`

// testZone is test. with every shape of answer: data, a wildcard, an
// empty non-terminal, CNAME and DNAME, a secure child, an unsigned child.
const testZone = `
$TTL 3600
@            SOA ns hostmaster 1 7200 900 1209600 300
@            NS  ns
ns           A   192.0.2.2
www          A   192.0.2.10
*.wild       A   192.0.2.99
exists.wild  TXT "here"
a.b.ent      A   192.0.2.50
alias        CNAME www
far          CNAME www.child.test.
legacy       DNAME child.test.
child        NS  ns.child
ns.child     A   192.0.2.3
unsigned     NS  ns.unsigned
ns.unsigned  A   192.0.2.4
`

const childZone = `
$TTL 3600
@            SOA ns hostmaster 1 7200 900 1209600 300
@            NS  ns
ns           A   192.0.2.3
www          A   192.0.2.30
`

const unsignedZone = `
$TTL 3600
@            SOA ns hostmaster 1 7200 900 1209600 300
@            NS  ns
ns           A   192.0.2.4
www          A   192.0.2.40
`

// standardWorld is root, test. (NSEC, or NSEC3 with p), child.test.
// signed and unsigned.test. not.
func standardWorld(t testing.TB, p *dnssec.NSEC3Params) *world {
	return newWorld(t,
		zspec{origin: ".", text: rootZone},
		zspec{origin: "test.", text: testZone, nsec3: p},
		zspec{origin: "child.test.", text: childZone},
		zspec{origin: "unsigned.test.", text: unsignedZone, unsigned: true})
}

// bytesReader returns a reader over b.
func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }
