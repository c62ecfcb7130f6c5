// Package cache holds what a recursive resolver has learned: RRsets ranked
// by how far they can be trusted, negative answers, the delegations learned
// from referrals, and what it knows about each upstream server (the infra
// cache).
//
// Every RRset is stored with a [Rank] from RFC 2181 §5.4.1. A lower rank
// never replaces a higher one that is still live, so an address that rode
// along in the additional section of some reply cannot overwrite the
// address an authoritative server gave as its answer. Delegations (the NS
// set of a zone cut and its glue) live apart from the answer data: only
// the resolver's referral handling writes them, so NS records in the
// authority section of an answer — the Kaminsky attack's tool — cannot
// redirect later queries.
//
// Negative answers follow RFC 2308: NXDOMAIN is cached per name, NODATA per
// name and type, each with the SOA that proves it, for the SOA's TTL or its
// MINIMUM field, whichever is smaller.
//
// The cache is bounded in bytes and evicts the least recently used entries
// first. TTLs are clamped (limits.go) and time comes from Config.Now, so
// tests move the clock instead of sleeping:
//
//	now := time.Unix(1700000000, 0)
//	c := cache.New(cache.Config{Now: func() time.Time { return now }})
//	rr, _ := dns.NewRR("www.example.test. 300 IN A 192.0.2.10")
//	c.Put([]dns.RR{rr}, cache.RankAnswerAuth)
//	res := c.Get("www.example.test.", dns.TypeA, dns.ClassINET)
//	fmt.Println(res.Kind, res.RRs[0].Header().Ttl) // Positive 300
package cache
