package dnstest

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/zone"
)

// Zone builds a zone with origin from master-file text (RFC 1035 §5;
// relative names are relative to origin, the default TTL is 3600). It
// stops the test when the text does not parse.
func Zone(t testing.TB, origin, text string) *zone.Zone {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), dns.Fqdn(origin), "zone")
	zp.SetDefaultTTL(3600)
	var records []zone.Record
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		records = append(records, zone.Record{RR: rr})
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("dnstest: zone %s: %v", origin, err)
	}
	return zone.New(origin, records)
}

// RR parses one record in presentation form, stopping the test when it
// does not parse. A missing TTL means 3600.
func RR(t testing.TB, text string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("dnstest: record %q: %v", text, err)
	}
	if rr == nil {
		t.Fatalf("dnstest: record %q: empty", text)
	}
	return rr
}
