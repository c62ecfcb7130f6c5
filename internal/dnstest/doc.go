// Package dnstest holds test helpers shared by rensa's packages: a
// Recorder that stands in for a client connection, zones and records
// built from presentation text, query builders, and Sections, which
// compares reply sections as presentation lines, ignoring order.
//
// A handler test reads like the DNS it checks:
//
//	z := dnstest.Zone(t, "example.", `
//	@   3600 IN SOA ns.example. admin.example. 1 7200 3600 1209600 300
//	@   3600 IN NS  ns.example.
//	www 3600 IN A   192.0.2.1`)
//	srv, _ := auth.New(auth.Config{Zones: zone.NewSet(z)})
//	reply := dnstest.Exchange(t, srv, dnstest.Query("www.example.", dns.TypeA), "udp")
//	dnstest.Sections{Answer: []string{"www.example. 3600 IN A 192.0.2.1"}}.Check(t, reply)
//
// Every helper that takes a testing.TB stops the test on bad input, so
// tables stay free of error plumbing.
package dnstest
