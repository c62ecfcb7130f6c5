// Package testbed runs a small copy of the DNS on loopback: a root zone,
// top-level domains and zones below them, each served by its own rensa
// authoritative server on its own address. Tests, the demo and the lab
// resolve names through it exactly as through the real DNS, from root
// hints down through referrals and glue, and nothing leaves 127.0.0.0/8.
//
// The default hierarchy ([Default]) follows the address plan of DESIGN.md:
// the root server at 127.53.0.1, TLD servers at 127.53.1.x and the servers
// of the zones below at 127.53.2.x. Its zones hold one of each thing a
// resolver must get right: plain answers of several types, NXDOMAIN and
// NODATA, CNAMEs inside a zone and across zones and TLDs, wildcards, a
// DNAME, an empty non-terminal, CAA records, an answer too big for UDP,
// and delegations with in-bailiwick glue, with sibling glue, without glue
// (the server names live in other zones, one under another TLD) and to a
// third level. The zone files in internal/testbed/zones/ comment on each.
//
// # Ports
//
// Glue and root hints carry addresses, never ports: a real resolver
// always asks port 53. Running as root, [Start] gives each server port 53
// on its own address, so peers such as Unbound, kdig and delv use the
// testbed unchanged. Otherwise, or with [PortFree], each server gets a
// free port, and clients reach it through [Testbed.Dial], which turns
// "127.53.2.1:53" into the real address. Tests should use PortFree so
// they never collide with each other or with a testbed on port 53; only
// tests of peers that cannot map ports need port 53 (and root).
//
// # Usage
//
//	tb, err := testbed.Start(ctx, testbed.Config{Port: testbed.PortFree})
//	if err != nil {
//		return err
//	}
//	defer tb.Close()
//	root := &transport.Do53{Addr: "127.53.0.1:53", Dial: tb.Dial}
//	reply, err := root.Exchange(ctx, query) // a referral to test.
//
// To run a resolver against it, give the resolver tb.RootHints() (or
// the file [Testbed.WriteRootHints] writes) and tb.Dial as its dial
// function.
//
// # Signed testbeds
//
// With Config.Signed every zone gets a KSK and a ZSK (ECDSAP256SHA256,
// from Config.Rand), its parent carries its DS, and each zone is signed
// at Config.Now with NSEC, or NSEC3 when its ZoneSpec says so; a spec
// marked Unsigned stays unsigned (an insecure delegation), and a DS the
// parent's text already has is kept (a chain broken on purpose). A
// validating resolver given [Testbed.TrustAnchor] (or the file
// [Testbed.WriteTrustAnchor] writes beside the root hints) validates
// every answer:
//
//	tb, err := testbed.Start(ctx, testbed.Config{Signed: true})
//	...
//	err = tb.WriteRootHints(dir + "/root.hints")
//	err = tb.WriteTrustAnchor(dir + "/root.key")
package testbed
