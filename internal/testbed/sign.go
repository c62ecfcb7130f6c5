package testbed

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/dnssec"
	"github.com/rensa-dns/rensa/internal/zone"
)

// signing is what a signed testbed made for one zone.
type signing struct {
	keys []*dnssec.Key
	ds   []dns.RR // the DS RRset of the KSK, for the parent
}

// sign signs every zone of tb's servers but those marked Unsigned (Config.Signed): it
// makes a KSK and a ZSK (ECDSAP256SHA256) per origin, puts each signed
// child's DS at the delegation in its parent (unless the parent's text
// has a DS there already, which tests use to break a chain on purpose),
// signs each zone with NSEC or NSEC3 as its spec says, and keeps the root
// trust anchor.
func (tb *Testbed) sign(cfg Config, specs []ZoneSpec) error {
	rnd, now := cfg.Rand, cfg.Now
	if rnd == nil {
		rnd = rand.Reader
	}
	if now == nil {
		now = time.Now
	}
	spec := map[string]ZoneSpec{}
	for _, s := range specs {
		spec[dnsname.Canonical(s.Origin)] = s
	}
	// One version of each zone; the same origin on two servers is the
	// same text.
	zones := map[string]*zone.Zone{}
	var origins []string
	for _, ns := range tb.servers {
		for _, z := range ns.zones {
			if zones[z.Origin] == nil {
				zones[z.Origin] = z
				origins = append(origins, z.Origin)
			}
		}
	}
	made := map[string]*signing{}
	for _, origin := range origins {
		if spec[origin].Unsigned {
			continue
		}
		s := &signing{}
		for _, flags := range []uint16{dnssec.FlagsKSK, dnssec.FlagsZSK} {
			k, err := dnssec.Generate(origin, dns.ECDSAP256SHA256, flags, 0, rnd)
			if err != nil {
				return fmt.Errorf("testbed: keys for %s: %w", origin, err)
			}
			s.keys = append(s.keys, k)
		}
		ds, err := s.keys[0].DS(dns.SHA256)
		if err != nil {
			return fmt.Errorf("testbed: DS for %s: %w", origin, err)
		}
		ds.Hdr.Ttl = 3600
		s.ds = []dns.RR{ds}
		made[origin] = s
	}
	signed := map[string]*zone.Zone{}
	for _, origin := range origins {
		z := withChildDS(zones[origin], origins, made)
		s := made[origin]
		if s == nil {
			signed[origin] = z
			continue
		}
		sc := dnssec.SignConfig{Keys: s.keys, Now: now, Rand: rnd}
		if spec[origin].NSEC3 {
			sc.NSEC3 = &dnssec.NSEC3Params{}
		}
		out, err := dnssec.Sign(z, sc)
		if err != nil {
			return fmt.Errorf("testbed: sign %s: %w", origin, err)
		}
		signed[origin] = out
	}
	for _, ns := range tb.servers {
		for i, z := range ns.zones {
			ns.zones[i] = signed[z.Origin]
		}
	}
	if root := made["."]; root != nil {
		tb.anchor = trustAnchor(root)
	}
	return nil
}

// withChildDS returns z with the DS RRset of each signed zone it delegates
// to directly added at the cut, unless the cut has a DS already.
func withChildDS(z *zone.Zone, origins []string, made map[string]*signing) *zone.Zone {
	records := z.Records
	added := false
	for _, child := range origins {
		s := made[child]
		if s == nil || child == z.Origin || parentOrigin(child, origins) != z.Origin {
			continue
		}
		if cut := z.Node(child); cut == nil || !cut.Has(dns.TypeNS) || cut.Has(dns.TypeDS) {
			continue
		}
		if !added {
			records = append([]zone.Record(nil), records...)
			added = true
		}
		for _, rr := range s.ds {
			records = append(records, zone.Record{RR: rr})
		}
	}
	if !added {
		return z
	}
	return zone.New(z.Origin, records)
}

// parentOrigin returns the closest origin among origins strictly above
// child, or "".
func parentOrigin(child string, origins []string) string {
	best := ""
	for _, o := range origins {
		if o != child && dnsname.IsSubdomain(child, o) && (best == "" || dnsname.Labels(o) > dnsname.Labels(best)) {
			best = o
		}
	}
	return best
}

// trustAnchor formats the root's KSK as a trust anchor file: the DS
// (SHA-256) and the DNSKEY, one record a line, in zone file form as
// Unbound's trust-anchor-file and rensa's resolver read it.
func trustAnchor(root *signing) string {
	var b strings.Builder
	b.WriteString("; Trust anchor of the signed testbed's root zone (KSK): DS and DNSKEY forms.\n")
	for _, rr := range root.ds {
		b.WriteString(rr.String() + "\n")
	}
	key := dns.Copy(root.keys[0].DNSKEY)
	key.Header().Ttl = 3600
	b.WriteString(key.String() + "\n")
	return b.String()
}

// TrustAnchor returns the trust anchor of a signed testbed's root zone:
// the DS (SHA-256) and DNSKEY records of its KSK, one a line in zone file
// form. A validating resolver given it and RootHints validates every
// answer of the testbed. It is "" when the testbed is not signed or has no
// root zone.
func (tb *Testbed) TrustAnchor() string { return tb.anchor }

// WriteTrustAnchor writes TrustAnchor to path, for peers that read a file
// (Unbound's trust-anchor-file; delv's -a takes the same keys in BIND's
// trust-anchors syntax).
func (tb *Testbed) WriteTrustAnchor(path string) error {
	if tb.anchor == "" {
		return fmt.Errorf("testbed: not signed, or no root zone: no trust anchor")
	}
	if err := os.WriteFile(path, []byte(tb.anchor), 0o644); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	return nil
}
