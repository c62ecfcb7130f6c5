package testbed

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// hintsTTL is the TTL written in root hints, as in IANA's named.root.
const hintsTTL = 3600000

// RootHints returns a root hints file for the testbed, in the format of
// IANA's named.root: the NS records of the root zone and the addresses of
// those servers. A resolver (rensa's, Unbound's root-hints, BIND's hint
// zone) starts every resolution from them. It is "" when the testbed has
// no root zone.
//
// The addresses are the servers' IPs; the port is always the implied 53,
// so when the testbed runs on other ports the resolver must dial through
// Testbed.Dial.
func (tb *Testbed) RootHints() string { return tb.hints }

// WriteRootHints writes RootHints to path, for peers that read a file.
func (tb *Testbed) WriteRootHints(path string) error {
	if tb.hints == "" {
		return fmt.Errorf("testbed: no root zone, so no root hints")
	}
	if err := os.WriteFile(path, []byte(tb.hints), 0o644); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	return nil
}

// rootHints builds the hints text from the root zone's apex NS set and
// the addresses found for those names in any zone (the root's glue).
func rootHints(servers []*nameServer) string {
	var root *nameServer
	for _, ns := range servers {
		if slices.Contains(ns.info.Origins, ".") {
			root = ns
			break
		}
	}
	if root == nil {
		return ""
	}
	addrs := addressRecords(servers)
	var b strings.Builder
	b.WriteString("; Root hints for the rensa testbed, in the format of IANA's named.root.\n")
	for _, z := range root.zones {
		if z.Origin != "." {
			continue
		}
		var glue []string
		for _, rr := range z.Apex().RRsets[dns.TypeNS] {
			target := dnsname.Canonical(rr.(*dns.NS).Ns)
			fmt.Fprintf(&b, "%-24s %d IN NS %s\n", ".", hintsTTL, target)
			for _, ip := range addrs[target] {
				typ := "A"
				if ip.Is6() {
					typ = "AAAA"
				}
				glue = append(glue, fmt.Sprintf("%-24s %d IN %-4s %s\n", target, hintsTTL, typ, ip))
			}
		}
		for _, g := range glue {
			b.WriteString(g)
		}
	}
	return b.String()
}

// addressRecords maps each owner name of an A or AAAA record, in any zone,
// to its addresses, sorted and without duplicates.
func addressRecords(servers []*nameServer) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	for _, ns := range servers {
		for _, z := range ns.zones {
			for _, r := range z.Records {
				var ip netip.Addr
				switch rr := r.RR.(type) {
				case *dns.A:
					ip, _ = netip.AddrFromSlice(rr.A.To4())
				case *dns.AAAA:
					ip, _ = netip.AddrFromSlice(rr.AAAA)
				default:
					continue
				}
				owner := dnsname.Canonical(r.RR.Header().Name)
				if !slices.Contains(out[owner], ip) {
					out[owner] = append(out[owner], ip)
				}
			}
		}
	}
	for _, ips := range out {
		slices.SortFunc(ips, netip.Addr.Compare)
	}
	return out
}

// serverNames maps each server address to the host names NS records give
// it: targets of some NS record that have an address record with the
// server's IP.
func serverNames(servers []*nameServer) map[netip.Addr][]string {
	targets := map[string]bool{}
	for _, ns := range servers {
		for _, z := range ns.zones {
			for _, r := range z.Records {
				if n, ok := r.RR.(*dns.NS); ok {
					targets[dnsname.Canonical(n.Ns)] = true
				}
			}
		}
	}
	out := map[netip.Addr][]string{}
	for owner, ips := range addressRecords(servers) {
		if !targets[owner] {
			continue
		}
		for _, ip := range ips {
			if !slices.Contains(out[ip], owner) {
				out[ip] = append(out[ip], owner)
			}
		}
	}
	for _, names := range out {
		slices.SortFunc(names, dnsname.Compare)
	}
	return out
}
