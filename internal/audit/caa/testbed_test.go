package caa_test

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/caa"
	"github.com/rensa-dns/rensa/internal/testbed"
	"github.com/rensa-dns/rensa/internal/testbed/testresolver"
	"github.com/rensa-dns/rensa/internal/transport"
)

// lameServer answers for one unrelated zone only, so a delegation to it
// is lame: it answers REFUSED, and the resolver SERVFAIL.
const lameServer = "127.53.1.2"

// hierarchy builds a testbed hierarchy holding extra (zone-file lines
// with absolute owners): a root zone delegating every TLD the lines use
// to one TLD server at 127.53.1.1, which holds all the records, and
// delegations in lame to a server that does not serve them.
func hierarchy(extra []string, lame []string) []testbed.ZoneSpec {
	byTLD := map[string][]string{}
	tld := func(owner string) string {
		labels := dns.SplitDomainName(owner)
		return dns.Fqdn(labels[len(labels)-1])
	}
	for _, line := range extra {
		owner := strings.Fields(line)[0]
		byTLD[tld(owner)] = append(byTLD[tld(owner)], line)
	}
	for _, name := range lame {
		byTLD[tld(name)] = append(byTLD[tld(name)], fmt.Sprintf("%s 300 NS ns.lame.", name))
	}
	root := []string{
		". 86400 SOA a.root-servers.test. hostmaster.root. 1 1800 900 604800 300",
		". 86400 NS a.root-servers.test.",
		"a.root-servers.test. 86400 A 127.53.0.1",
		"lame. 86400 NS ns.lame.",
		"ns.lame. 86400 A " + lameServer,
	}
	specs := []testbed.ZoneSpec{}
	tlds := make([]string, 0, len(byTLD))
	for t := range byTLD {
		tlds = append(tlds, t)
	}
	slices.Sort(tlds)
	for _, t := range tlds {
		ns := "ns.nic-" + strings.TrimSuffix(t, ".") + ".test."
		root = append(root, t+" 86400 NS "+ns, ns+" 86400 A 127.53.1.1")
		text := []string{
			t + " 3600 SOA " + ns + " hostmaster." + t + " 1 7200 900 1209600 300",
			t + " 3600 NS " + ns,
		}
		specs = append(specs, testbed.ZoneSpec{Origin: t, Server: "127.53.1.1", Text: strings.Join(append(text, byTLD[t]...), "\n") + "\n"})
	}
	specs = append(specs,
		testbed.ZoneSpec{Origin: ".", Server: "127.53.0.1", Text: strings.Join(root, "\n") + "\n"},
		testbed.ZoneSpec{Origin: "lame.", Server: lameServer, Text: "lame. 3600 SOA ns.lame. h.lame. 1 7200 900 1209600 300\nlame. 3600 NS ns.lame.\nns.lame. 3600 A " + lameServer + "\n"},
	)
	return specs
}

// startResolver runs the testbed of specs and rensa's resolver over it.
func startResolver(t *testing.T, specs []testbed.ZoneSpec) string {
	return testresolver.Start(t, specs)
}

// newChecker returns a checker asking the resolver at addr.
func newChecker(t *testing.T, addr string) *caa.Checker {
	t.Helper()
	c, err := caa.New(caa.Config{Resolver: &transport.Do53{Addr: addr, Timeout: 3 * time.Second}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// blackHole binds a UDP socket that never answers and returns its
// address: a resolver that is down.
func blackHole(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// caaLine formats one CAA record as a zone file line.
func caaLine(owner string, p caa.Property) string {
	v := strings.ReplaceAll(strings.ReplaceAll(p.Value, `\`, `\\`), `"`, `\"`)
	return fmt.Sprintf("%s 300 CAA %d %s \"%s\"", dns.Fqdn(owner), p.Flag, p.Tag, v)
}

// transportTo returns a Do53 client for addr with a short timeout.
func transportTo(addr string) *transport.Do53 {
	return &transport.Do53{Addr: addr, Timeout: 300 * time.Millisecond}
}
