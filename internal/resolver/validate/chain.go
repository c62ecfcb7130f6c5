package validate

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
	"github.com/rensa-dns/rensa/internal/dnssec"
)

// cutKind is what the chain of trust learnt about one name on the way
// down from a trust anchor.
type cutKind uint8

const (
	// notCut: the name is inside its parent's zone (no delegation).
	notCut cutKind = iota
	// secureCut: a zone apex whose DNSKEY RRset a DS or anchor proves.
	secureCut
	// stopCut: the name does not exist (proven NXDOMAIN), or failed:
	// the walk ends, with fail set when it failed (Insecure or Bogus).
	stopCut
)

// cutEntry is one remembered step of a walk.
type cutEntry struct {
	kind    cutKind
	keys    []*dnssec.PublicKey // secureCut: the zone's proven DNSKEY RRset, prepared
	fail    *failure            // stopCut: why the walk ends (nil: NXDOMAIN)
	expires time.Time
}

// zoneOf walks the chain of trust from the closest trust anchor down to
// name, one label at a time (RFC 4035 §5.1-5.2): at each label it asks
// for the DS RRset and proves either the DS (and then the child's DNSKEY
// RRset) or its absence. It stops early at stop, the signer of the data
// to check, when stop is not "". It returns the deepest secure zone at or
// above name and its proven keys, or the failure that ended the walk: an
// Insecure delegation, Bogus data, or Indeterminate when no anchor covers
// name.
func (st *state) zoneOf(name, stop string) (string, []*dnssec.PublicKey, *failure) {
	anchor, ok := st.v.cfg.Anchors.closest(name)
	if !ok {
		return "", nil, &failure{sec: Indeterminate, text: "no trust anchor above " + name}
	}
	if stop != "" && !dnsname.IsSubdomain(stop, anchor) {
		return "", nil, &failure{sec: Indeterminate, text: "signer " + stop + " is outside trust anchor " + anchor}
	}
	e := st.cut(anchor, "", nil)
	if e.kind != secureCut {
		return "", nil, e.fail
	}
	zone, keys := anchor, e.keys
	target := name
	if stop != "" {
		target = stop
	}
	target = dnsname.Canonical(target)
	for n, last := dnsname.Labels(anchor)+1, dnsname.Labels(target); n <= last; n++ {
		off, _ := dns.PrevLabel(target, n) // target's last n labels, a name
		c := target[off:]
		e := st.cut(c, zone, keys)
		switch e.kind {
		case secureCut:
			zone, keys = c, e.keys
		case stopCut:
			if e.fail != nil {
				return "", nil, e.fail
			}
			return zone, keys, nil
		}
	}
	return zone, keys, nil
}

// cut returns what is known of name below the secure zone parent (with
// keys), learning it when it is not remembered. With parent "" name is a
// trust anchor.
func (st *state) cut(name, parent string, keys []*dnssec.PublicKey) cutEntry {
	st.v.mu.Lock()
	e, ok := st.v.cuts[name]
	st.v.mu.Unlock()
	if ok && st.now.Before(e.expires) {
		return e
	}
	var ttl time.Duration
	if parent == "" {
		e, ttl = st.learnAnchor(name)
	} else {
		e, ttl = st.learnCut(name, parent, keys)
	}
	if e.kind == stopCut && e.fail != nil && e.fail.sec == Bogus {
		ttl = bogusTTL
	}
	if ttl <= 0 {
		return e
	}
	e.expires = st.now.Add(ttl)
	st.v.mu.Lock()
	if len(st.v.cuts) >= maxCacheEntries {
		clear(st.v.cuts)
	}
	st.v.cuts[name] = e
	st.v.mu.Unlock()
	return e
}

// stopWith returns a stopCut entry for f.
func stopWith(f *failure) (cutEntry, time.Duration) {
	return cutEntry{kind: stopCut, fail: f}, bogusTTL
}

// learnAnchor proves the DNSKEY RRset of the anchored zone: by a DS
// anchor (like any delegation) or signed by an anchored DNSKEY.
func (st *state) learnAnchor(zone string) (cutEntry, time.Duration) {
	a := st.v.cfg.Anchors
	if ds := a.DS[zone]; len(ds) > 0 {
		rrs := make([]dns.RR, len(ds))
		for i, d := range ds {
			rrs[i] = d
		}
		st.step(zone, dsName(ds[0]), "trust anchor (configured, not fetched)", "the DS of "+zone+" is trusted", nil)
		return st.childKeys(zone, rrs)
	}
	st.step(zone, fmt.Sprintf("DNSKEY %d", a.Keys[zone][0].KeyTag()), "trust anchor (configured, not fetched)", "the key of "+zone+" is trusted", nil)
	m, f := st.fetch(zone, dns.TypeDNSKEY)
	if f != nil {
		return stopWith(f)
	}
	set := pick(groupRRsets(m.Answer), zone, dns.TypeDNSKEY)
	if set == nil {
		return stopWith(bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no DNSKEY RRset at trust anchor %s", zone))
	}
	keys := dnssec.PublicKeys(dnskeys(set))
	var trusted []*dnssec.PublicKey
	for _, k := range keys {
		for _, ak := range a.Keys[zone] {
			if d := k.DNSKEY; d.Flags == ak.Flags && d.Algorithm == ak.Algorithm && d.PublicKey == ak.PublicKey {
				trusted = append(trusted, k)
			}
		}
	}
	if len(trusted) == 0 {
		f := bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no DNSKEY of %s matches its trust anchor", zone)
		st.step(zone, "anchor", "DNSKEY RRset of "+zone, "the anchored key is published", f)
		return stopWith(f)
	}
	sig, f := st.verify(set, zone, trusted, st.now)
	st.step(zone, keyName(sig, trusted), "RRSIG over the DNSKEY RRset of "+zone, "every DNSKEY of "+zone+" (the ZSK too) is trusted", f)
	if f != nil {
		return stopWith(f)
	}
	return cutEntry{kind: secureCut, keys: keys}, minTTL(maxCacheTTL, set.rrs)
}

// learnCut asks for the DS RRset of name in the secure zone parent and
// proves what the reply says: a DS (name is a secure zone: its keys are
// proven next), a CNAME (no cut), a proven absence of DS (no cut, or an
// insecure delegation), or NXDOMAIN (the walk stops).
func (st *state) learnCut(name, parent string, keys []*dnssec.PublicKey) (cutEntry, time.Duration) {
	m, f := st.fetch(name, dns.TypeDS)
	if f != nil {
		return stopWith(f)
	}
	ans := groupRRsets(m.Answer)
	if ds := pick(ans, name, dns.TypeDS); ds != nil && m.Rcode == dns.RcodeSuccess {
		sig, f := st.verify(ds, parent, keys, st.now)
		st.step(parent, keyName(sig, keys), "RRSIG over the DS RRset of "+name+" in "+parent, "the DS of "+name+" is authentic", f)
		if f != nil {
			return stopWith(f)
		}
		e, ttl := st.childKeys(name, ds.rrs)
		return e, min(ttl, minTTL(maxCacheTTL, ds.rrs))
	}
	if cn := pick(ans, name, dns.TypeCNAME); cn != nil && m.Rcode == dns.RcodeSuccess {
		if _, f := st.verify(cn, parent, keys, st.now); f != nil {
			return stopWith(f)
		}
		return cutEntry{kind: notCut}, minTTL(maxCacheTTL, cn.rrs)
	}
	auth := groupRRsets(m.Ns)
	d, f := st.denial(parent, keys, auth)
	if f != nil {
		return stopWith(f)
	}
	ttl := minTTL(maxCacheTTL, plain(auth...))
	if m.Rcode == dns.RcodeNameError {
		rcode, f := st.proveNameError(d, name, dns.TypeDS)
		switch {
		case f != nil && f.sec == Bogus:
			return stopWith(f)
		case rcode == dns.RcodeSuccess:
			return cutEntry{kind: notCut}, ttl // an empty non-terminal
		}
		return cutEntry{kind: stopCut}, ttl
	}
	res, f := st.proveNoData(d, name, dns.TypeDS)
	switch {
	case f != nil:
		return stopWith(f)
	case res == insecureDelegation || res == optOutSpan:
		f := insecure(0, "%s is an insecure delegation: %s proves it has no DS", name, parent)
		st.step(parent, denialName(d), "denial of the DS of "+name, name+" is an unsigned zone: its data is Insecure", f)
		return cutEntry{kind: stopCut, fail: f}, ttl
	}
	return cutEntry{kind: notCut}, ttl
}

// childKeys proves the DNSKEY RRset of zone from its DS RRset (RFC 4035
// §5.2): a DNSKEY whose digest a DS holds must sign the DNSKEY RRset. DS
// records of algorithms or digests the validator does not implement are
// ignored; when none is left the zone is Insecure (RFC 6840 §5.2), with
// EDE 1 or 2.
func (st *state) childKeys(zone string, dsRRs []dns.RR) (cutEntry, time.Duration) {
	var usable []*dns.DS
	code := uint16(0)
	for _, rr := range dsRRs {
		ds, ok := rr.(*dns.DS)
		switch {
		case !ok:
		case !supportedAlg(ds.Algorithm):
			code = dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm
		case !supportedDigest(ds.DigestType):
			if code == 0 {
				code = dns.ExtendedErrorCodeUnsupportedDSDigestType
			}
		default:
			usable = append(usable, ds)
		}
	}
	if len(usable) == 0 {
		f := insecure(code, "%s: no DS with a supported algorithm and digest (RFC 6840 §5.2)", zone)
		st.step(zone, dsName(dsRRs[0].(*dns.DS)), "DS algorithm and digest type", zone+" is Insecure", f)
		return cutEntry{kind: stopCut, fail: f}, bogusTTL
	}
	m, f := st.fetch(zone, dns.TypeDNSKEY)
	if f != nil {
		return stopWith(f)
	}
	set := pick(groupRRsets(m.Answer), zone, dns.TypeDNSKEY)
	if set == nil {
		return stopWith(bogus(dns.ExtendedErrorCodeDNSKEYMissing, "%s has a DS but no DNSKEY RRset", zone))
	}
	keys := dnssec.PublicKeys(dnskeys(set))
	trusted := matchDS(usable, keys)
	if len(trusted) == 0 {
		f := bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no DNSKEY of %s matches its DS", zone)
		st.step(zone, dsName(usable[0]), "digest of the DNSKEYs of "+zone, "the KSK of "+zone+" is the one the parent vouches for", f)
		return stopWith(f)
	}
	voucher := "the parent"
	if len(st.v.cfg.Anchors.DS[zone]) > 0 {
		voucher = "the trust anchor"
	}
	st.step(zone, dsName(usable[0]), fmt.Sprintf("digest of DNSKEY %d of %s", trusted[0].Tag, zone), "the KSK of "+zone+" is the one "+voucher+" vouches for", nil)
	sig, f := st.verify(set, zone, trusted, st.now)
	st.step(zone, keyName(sig, trusted), "RRSIG over the DNSKEY RRset of "+zone, "every DNSKEY of "+zone+" (the ZSK too) is trusted", f)
	if f != nil {
		return stopWith(f)
	}
	return cutEntry{kind: secureCut, keys: keys}, minTTL(maxCacheTTL, set.rrs)
}

// matchDS returns the keys whose digest one of ds holds, at most
// maxKeysPerTag per DS (KeyTrap: colliding key tags).
func matchDS(ds []*dns.DS, keys []*dnssec.PublicKey) []*dnssec.PublicKey {
	var out []*dnssec.PublicKey
	for _, d := range ds {
		n := 0
		for _, k := range keys {
			if n == maxKeysPerTag {
				break
			}
			if k.DNSKEY.Algorithm != d.Algorithm || k.Tag != d.KeyTag || k.DNSKEY.Flags&dns.ZONE == 0 {
				continue
			}
			n++
			if got := k.DNSKEY.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) {
				out = append(out, k)
			}
		}
	}
	return out
}

// dnskeys returns the DNSKEY records of set.
func dnskeys(set *rrset) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, rr := range set.rrs {
		if k, ok := rr.(*dns.DNSKEY); ok {
			out = append(out, k)
		}
	}
	return out
}
