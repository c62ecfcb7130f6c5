package dnssec

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/zone"
)

// NSEC3 constants (RFC 5155 §3.1, §11).
const (
	// nsec3SHA1 is the only NSEC3 hash algorithm (RFC 5155 §11).
	nsec3SHA1 = dns.SHA1
	// nsec3OptOut is the Opt-Out flag bit of NSEC3 (RFC 5155 §3.1.2.1).
	nsec3OptOut = 1
	// nsec3HashLength is the length of a SHA-1 hash.
	nsec3HashLength = 20
)

// nsec3Salt checks a hexadecimal salt ("" or "-" for none) and returns it
// in miekg/dns's form (uppercase hex, "" for none).
func nsec3Salt(salt string) (string, error) {
	if salt == "" || salt == "-" {
		return "", nil
	}
	b, err := hex.DecodeString(salt)
	if err != nil {
		return "", fmt.Errorf("dnssec: NSEC3 salt %q is not hexadecimal", salt)
	}
	if len(b) > MaxNSEC3SaltLength {
		return "", fmt.Errorf("dnssec: NSEC3 salt of %d octets is longer than %d", len(b), MaxNSEC3SaltLength)
	}
	return strings.ToUpper(salt), nil
}

// NSEC3Hash returns the NSEC3 hash of name (RFC 5155 §5) in base32hex
// without padding, lowercase, as used in NSEC3 owner names. salt is in
// hexadecimal, "" for none.
func NSEC3Hash(name string, iterations uint16, salt string) (string, error) {
	s, err := nsec3Salt(salt)
	if err != nil {
		return "", err
	}
	h := dns.HashName(dnsname.Canonical(name), nsec3SHA1, iterations, s)
	if h == "" {
		return "", fmt.Errorf("dnssec: cannot hash %q", name)
	}
	return strings.ToLower(h), nil
}

// nsec3Names returns the names of z that get an NSEC3 record (RFC 5155
// §7.1): every authoritative name and delegation point, and every empty
// non-terminal above one of them. With opt-out, delegations without a
// DS are left out, and so are empty non-terminals that only lead to them.
func nsec3Names(z *zone.Zone, kinds map[string]nodeKind, optOut bool) []string {
	needed := map[string]bool{}
	for _, name := range z.Names() {
		n := z.Node(name)
		switch {
		case kinds[name] == kindOccluded || n.Empty():
			continue
		case optOut && kinds[name] == kindCut && !n.Has(dns.TypeDS):
			continue
		}
		for a := name; !needed[a]; a = dnsname.Parent(a) {
			needed[a] = true
			if a == z.Origin || a == "." {
				break
			}
		}
	}
	var names []string
	for _, name := range z.Names() {
		if needed[name] {
			names = append(names, name)
		}
	}
	return names
}

// nsec3Entry is one name of the NSEC3 chain with its hash.
type nsec3Entry struct {
	name, hash string
}

// nsec3Chain returns the NSEC3PARAM record and the NSEC3 chain of z with
// parameters p (RFC 5155 §7.1): one NSEC3 per name from nsec3Names, at
// the hash of the name under the apex, in hash order, each pointing to
// the next hash and the last back to the first.
func nsec3Chain(z *zone.Zone, p NSEC3Params, workers int) ([]zone.Record, error) {
	salt, err := nsec3Salt(p.Salt)
	if err != nil {
		return nil, err
	}
	kinds := classifyAll(z)
	names := nsec3Names(z, kinds, p.OptOut)
	entries := hashNames(names, p.Iterations, salt, workers)
	sort.Slice(entries, func(i, j int) bool { return entries[i].hash < entries[j].hash })
	for i := 1; i < len(entries); i++ {
		if entries[i].hash == entries[i-1].hash {
			return nil, fmt.Errorf("dnssec: NSEC3 hash collision between %s and %s: choose another salt", entries[i-1].name, entries[i].name)
		}
	}
	var flags uint8
	if p.OptOut {
		flags = nsec3OptOut
	}
	ttl := negativeTTL(z.SOA())
	out := []zone.Record{{RR: &dns.NSEC3PARAM{
		Hdr:        dns.RR_Header{Name: z.Origin, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET, Ttl: ttl},
		Hash:       nsec3SHA1,
		Iterations: p.Iterations,
		SaltLength: uint8(len(salt) / 2),
		Salt:       salt,
	}}}
	apex := z.Node(z.Origin)
	for i, e := range entries {
		n := z.Node(e.name)
		types := nsec3Types(n, kinds[e.name])
		if n == apex {
			// The NSEC3PARAM record is added after the chain is built.
			types = typeList(addType(types, dns.TypeNSEC3PARAM))
		}
		out = append(out, zone.Record{RR: &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: strings.ToLower(e.hash) + "." + z.Origin, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: ttl},
			Hash:       nsec3SHA1,
			Flags:      flags,
			Iterations: p.Iterations,
			SaltLength: uint8(len(salt) / 2),
			Salt:       salt,
			HashLength: nsec3HashLength,
			NextDomain: entries[(i+1)%len(entries)].hash,
			TypeBitMap: types,
		}})
	}
	return out, nil
}

// hashNames returns the NSEC3 hashes of names, in their order, computed
// on workers goroutines: hashing is the costly part of building the chain
// of a large zone.
func hashNames(names []string, iterations uint16, salt string, workers int) []nsec3Entry {
	entries := make([]nsec3Entry, len(names))
	chunk := (len(names) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for start := 0; start < len(names); start += chunk {
		end := min(start+chunk, len(names))
		wg.Go(func() {
			for i := start; i < end; i++ {
				entries[i] = nsec3Entry{name: names[i], hash: dns.HashName(names[i], nsec3SHA1, iterations, salt)}
			}
		})
	}
	wg.Wait()
	return entries
}

// addType returns the types of ts and t as a set.
func addType(ts []uint16, t uint16) map[uint16]bool {
	set := setOf(ts)
	set[t] = true
	return set
}

// setOf returns the types of ts as a set.
func setOf(ts []uint16) map[uint16]bool {
	set := make(map[uint16]bool, len(ts))
	for _, x := range ts {
		set[x] = true
	}
	return set
}
