// Package amp audits a DNS server for use as an amplifier in reflection
// attacks: how many octets it sends back for each octet it is sent, whether
// it resolves names for strangers (an open resolver), and whether it
// defends itself with response rate limiting (RRL) and DNS cookies.
//
// # Amplification
//
// DNS over UDP has no handshake, so a query's source address is whatever
// its sender writes. An attacker sends small queries with a victim's
// address as the source; the server's answers, much larger, go to the
// victim. The amplification factor is the size of the answer over the
// size of the query (DNS message octets): a 40-octet DNSKEY query with DO
// that draws a 1 200-octet answer has a factor of 30, and turns 1 Gbit/s
// of forged queries into 30 Gbit/s at the victim. ANY queries (RFC 8482
// lets servers answer them minimally), DNSKEY with signatures, and long
// TXT RRsets are the usual choices. An open resolver is the worst case:
// it answers any name for anyone, including the attacker's own zone full
// of large records.
//
// The defences LIMITS.md requires of rensa, and this audit looks for, are
// to answer recursion only to known clients (an ACL), minimal ANY, a UDP
// payload of at most 1232 octets, RRL (a few identical answers per second
// per client prefix, then drops and small TC=1 "slips" that send real
// clients to TCP), and DNS cookies (RFC 7873), which let real clients
// prove their address.
//
// # What an audit sends
//
// Every query is counted in limits.go: ANY, DNSKEY, TXT and NS for the
// root and for Config.Name, each once with RD=1 and EDNS DO; a random name
// under Config.Name with RD=1 to see recursion; one query with a client
// cookie; and a burst of Config.Burst (at most MaxBurst) copies of the
// question with the largest factor, to see rate limiting. A run sends at
// most MaxQueries datagrams.
//
// From loopback or a private address, recursion offered says only that
// this client is trusted; who else is, is the server's ACL's business.
// Config.Source sends from another address that stands for an outside
// client (on loopback, 127.66.0.1 of the testbed's attacker range): a
// server that resolves for it is an open resolver.
//
// # Usage
//
//	a, err := amp.New(amp.Config{
//		Target: netip.MustParseAddrPort("127.0.0.1:5353"),
//		Name:   "example.test.",
//	})
//	if err != nil {
//		return err
//	}
//	rep, err := a.Run(ctx)
//	if err != nil {
//		return err
//	}
//	fmt.Println(rep.Verdict.Summary)
//	if rep.Verdict.Bad {
//		os.Exit(1)
//	}
//
// New refuses targets outside loopback and the private ranges unless
// Config.OwnTarget is set: probing, however gently, is traffic aimed at
// someone's server.
package amp
