// Package interop tests rensa against the DNS software people actually
// run: dig and kdig as clients of rensa's authoritative server, Unbound
// resolving names through the rensa testbed, and BIND's named-checkzone
// judging the testbed's zones. It holds no code, only tests; run them with
//
//	go test ./internal/interop/
//
// Each test looks for its peer binaries on PATH (and in /usr/sbin) and is
// skipped when one is missing; with REQUIRE_PEERS=1 in the environment a
// missing peer fails the test instead, which is what CI sets.
// scripts/install-peers.sh installs them all (Debian packages unbound,
// bind9-dnsutils, bind9-utils and knot-dnsutils among others).
//
// The Unbound test needs root: Unbound always asks name servers on port
// 53, which only root may bind, so it runs the testbed on port 53 of its
// loopback addresses (127.53.0.0/16).
//
// The corpus in testdata/corpus.txt lists the questions Unbound must
// answer through the default testbed, one per line; add a line for each
// new kind of record or delegation the testbed gains.
package interop
