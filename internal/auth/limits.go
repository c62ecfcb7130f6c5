package auth

import "github.com/rensa-dns/rensa/internal/dnssec"

// Limits of the authoritative engine. Each one names the RFC or the attack
// it answers (LIMITS.md); the tests in limits_test.go prove each one holds.
const (
	// defaultMaxUDPSize is the largest UDP reply sent when Config.MaxUDPSize
	// is zero: 1232 octets, the DNS Flag Day 2020 value, which fits an IPv6
	// packet on a 1280-octet link without IP fragmentation. Fragmented UDP
	// replies are what off-path cache poisoning by fragment injection needs,
	// and large UDP replies are what amplification attacks want.
	defaultMaxUDPSize = 1232

	// minUDPSize is the UDP payload every client accepts (RFC 1035 §4.2.1);
	// smaller EDNS buffer sizes are treated as 512 (RFC 6891 §6.2.5).
	minUDPSize = 512

	// maxTCPSize is the largest message a TCP stream can carry: its length
	// prefix is two octets (RFC 1035 §4.2.2, RFC 7766 §8).
	maxTCPSize = 65535

	// maxChainLinks bounds the CNAME and DNAME links followed inside one zone
	// for one query (RFC 1034 §3.6.2: chains should be bounded; BIND's
	// max-restarts and LIMITS.md use 11). It keeps a CNAME loop, or a long
	// chain planted in a zone, from costing unbounded work or reply size.
	maxChainLinks = 11

	// maxNameOctets is the longest domain name in wire form (RFC 1035
	// §2.3.4). A DNAME substitution that would exceed it gets YXDOMAIN
	// (RFC 6672 §2.2).
	maxNameOctets = 255

	// maxNSIDOctets bounds the configured NSID (RFC 5001) so that a
	// truncated reply, question plus OPT record, always fits the 512 octets
	// every client accepts.
	maxNSIDOctets = 128

	// maxTXTOctets is the longest character-string of a TXT record
	// (RFC 1035 §3.3), the bound on the CHAOS identity strings.
	maxTXTOctets = 255
)

// maxNSEC3Iterations is the most additional NSEC3 hash iterations a
// pre-signed zone may use to be served (CheckNSEC3). The server hashes
// names at query time to find the NSEC3 records proving a denial: with
// the closest encloser proof that is one hash per label of the query
// name, each costing 1+iterations SHA-1 computations, so a zone signed
// with the RFC 5155 maximum of 2500 iterations lets every NXDOMAIN query
// cost thousands of hashes (the server-side twin of CVE-2023-50868).
// RFC 9276 §3.1 says to use 0, and §3.2 lets validators treat higher
// counts as insecure; rensa's resolver and Unbound do so above 50
// (LIMITS.md), so such a zone's denials would not validate anyway. The
// same number bounds what rensa signs with (dnssec.MaxNSEC3Iterations).
const maxNSEC3Iterations = dnssec.MaxNSEC3Iterations
