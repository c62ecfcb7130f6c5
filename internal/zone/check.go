package zone

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnsname"
)

// Severity says whether a Finding makes the zone unfit to serve.
type Severity int

// The severities. The zero value is Error, so that a finding built without
// one fails closed.
const (
	// Error: named-checkzone refuses such a zone, or the data cannot be
	// served as written.
	Error Severity = iota
	// Warning: the zone loads, but part of it is probably not what was
	// meant.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText encodes the severity as its String, for JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes "error" or "warning".
func (s *Severity) UnmarshalText(text []byte) error {
	switch string(text) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("zone: unknown severity %q", text)
	}
	return nil
}

// Finding is one problem Check found in a zone.
type Finding struct {
	Severity Severity `json:"severity"`
	// File and Line locate the record at fault; both are empty for
	// problems of the zone as a whole (such as a missing SOA).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Name is the owner name concerned (the origin for zone-wide
	// problems).
	Name    string `json:"name"`
	Message string `json:"message"`
}

// String formats the finding as "file:line: error: message", with the
// name in place of the position when the position is unknown.
func (f Finding) String() string {
	where := position(f.File, f.Line)
	if where == "" {
		where = f.Name
	}
	return where + ": " + f.Severity.String() + ": " + f.Message
}

// Check validates the zone as named-checkzone does and returns its
// findings in file order, zone-wide ones first. It reports:
//
//   - the apex: exactly one SOA, no SOA elsewhere, NS records present, no
//     DS at the apex;
//   - records outside the origin (ignored when serving);
//   - a CNAME beside other data (RRSIG and NSEC excepted, RFC 2181 §10.1,
//     RFC 4035 §2.5), two CNAMEs or two DNAMEs at one name;
//   - NS targets inside the zone without address records, or that are
//     CNAMEs, or lie below a DNAME (errors at the apex, warnings at
//     delegations, where glue is checked too);
//   - MX and SRV targets inside the zone that are CNAMEs or have no
//     address (warnings, as named-checkzone);
//   - data hidden below a delegation (other than glue) or below a DNAME;
//   - NS at a wildcard, non-terminal wildcards, class other than the
//     zone's, TTLs over 2^31-1 or differing within an RRset;
//   - CAA tags and issue, issuewild and iodef values (RFC 8659 §4).
//
// Check never looks names up in the DNS: targets outside the zone are not
// checked (named-checkzone resolves them).
func (z *Zone) Check() []Finding {
	c := newChecker(z)
	c.checkRecords()
	c.checkApex()
	for _, name := range z.Names() {
		c.checkNode(z.nodes[name])
	}
	return c.sorted()
}

// checker collects findings for one Check call.
type checker struct {
	z     *Zone
	class uint16
	// index is each record's position in z.Records, to sort findings in
	// file order; duplicates map to their first occurrence.
	index   map[dns.RR]int
	targets map[string]bool // NS targets, for telling glue from occluded data
	dnames  map[string]bool // owners of DNAME records
	found   []ordered
}

type ordered struct {
	order int
	f     Finding
}

func newChecker(z *Zone) *checker {
	c := &checker{z: z, class: dns.ClassINET, index: map[dns.RR]int{},
		targets: map[string]bool{}, dnames: map[string]bool{}}
	if soa := z.SOA(); soa != nil {
		c.class = soa.Hdr.Class
	}
	for i, r := range z.Records {
		if _, ok := c.index[r.RR]; !ok {
			c.index[r.RR] = i
		}
		switch rr := r.RR.(type) {
		case *dns.NS:
			c.targets[dnsname.Canonical(rr.Ns)] = true
		case *dns.DNAME:
			c.dnames[dnsname.Canonical(rr.Hdr.Name)] = true
		}
	}
	return c
}

// report adds a finding about rr (nil for zone-wide ones).
func (c *checker) report(sev Severity, rr dns.RR, format string, args ...any) {
	f := Finding{Severity: sev, Name: c.z.Origin, Message: fmt.Sprintf(format, args...)}
	order := -1
	if rr != nil {
		f.Name = dnsname.Canonical(rr.Header().Name)
		if i, ok := c.index[rr]; ok {
			order = i
			f.File, f.Line = c.z.Records[i].File, c.z.Records[i].Line
		}
	}
	c.found = append(c.found, ordered{order: order, f: f})
}

func (c *checker) sorted() []Finding {
	sort.SliceStable(c.found, func(i, j int) bool { return c.found[i].order < c.found[j].order })
	out := make([]Finding, len(c.found))
	for i, o := range c.found {
		out[i] = o.f
	}
	return out
}

// checkRecords runs the checks that need one record at a time.
func (c *checker) checkRecords() {
	wildWarned := map[string]bool{}
	for i, r := range c.z.Records {
		if c.index[r.RR] != i {
			continue // a duplicate
		}
		rr := r.RR
		h := rr.Header()
		owner := dnsname.Canonical(h.Name)
		if !dnsname.IsSubdomain(owner, c.z.Origin) {
			c.report(Warning, rr, "ignoring out-of-zone data (%s)", owner)
			continue
		}
		if h.Class != c.class {
			c.report(Error, rr, "class %s differs from the zone's class %s",
				dns.ClassToString[h.Class], dns.ClassToString[c.class])
		}
		if h.Ttl > 1<<31-1 {
			c.report(Warning, rr, "TTL %d exceeds 2147483647; resolvers treat it as 0 (RFC 2181 §8)", h.Ttl)
		}
		if ntWildcard(owner) && !wildWarned[owner] {
			wildWarned[owner] = true
			c.report(Warning, rr, "owner name %s contains a non-terminal wildcard (RFC 4592 §2.2.2)", owner)
		}
		c.checkRecord(rr, owner)
	}
}

// checkRecord runs the per-type checks of one in-zone record.
func (c *checker) checkRecord(rr dns.RR, owner string) {
	switch rr := rr.(type) {
	case *dns.SOA:
		if owner != c.z.Origin {
			c.report(Error, rr, "SOA record not at the zone apex (%s)", owner)
		}
	case *dns.DS:
		if owner == c.z.Origin {
			c.report(Error, rr, "DS record at the zone apex; it belongs in the parent zone (RFC 4035 §2.4)")
		} else if n := c.z.Node(owner); n == nil || !c.z.IsCut(n) {
			c.report(Warning, rr, "DS record at %s, which is not a delegation point (RFC 4035 §2.4)", owner)
		}
	case *dns.NS:
		if strings.HasPrefix(owner, "*.") || owner == "*." {
			c.report(Error, rr, "NS record at the wildcard name %s (RFC 4592 §4.2)", owner)
		}
		c.checkAddressLike(rr, rr.Ns, "NS")
	case *dns.MX:
		c.checkAddressLike(rr, rr.Mx, "MX")
	case *dns.CAA:
		c.checkCAA(rr)
	}
}

// checkAddressLike warns when a target name looks like a mistyped IPv4
// address, as named-checkzone does ("ns 192.0.2.1" becomes the name
// 192.0.2.1.example.).
func (c *checker) checkAddressLike(rr dns.RR, target, what string) {
	labels := dns.SplitDomainName(target)
	if len(labels) < 4 {
		return
	}
	for _, l := range labels[:4] {
		if v, err := strconv.Atoi(l); err != nil || v < 0 || v > 255 || l[0] == '+' {
			return
		}
	}
	c.report(Warning, rr, "%s target %s appears to be an address", what, target)
}

// ntWildcard reports whether a "*" label appears other than leftmost.
func ntWildcard(name string) bool {
	labels := dns.SplitDomainName(name)
	for _, l := range labels[min(1, len(labels)):] {
		if l == "*" {
			return true
		}
	}
	return false
}

// checkApex checks the SOA and NS records at the origin.
func (c *checker) checkApex() {
	apex := c.z.Apex()
	soas := apex.RRsets[dns.TypeSOA]
	switch {
	case len(soas) == 0:
		c.report(Error, nil, "no SOA record at the zone apex %s", c.z.Origin)
	case len(soas) > 1:
		for _, rr := range soas[1:] {
			c.report(Error, rr, "more than one SOA record at the zone apex")
		}
	}
	nss := apex.RRsets[dns.TypeNS]
	if len(nss) == 0 {
		c.report(Error, nil, "no NS records at the zone apex %s", c.z.Origin)
	}
	for _, rr := range nss {
		c.checkNSTarget(rr.(*dns.NS), nil)
	}
}

// checkNode runs the checks that need all the data at one name.
func (c *checker) checkNode(n *Node) {
	if n.Empty() {
		return
	}
	c.checkSingletons(n)
	c.checkTTLs(n)
	if c.checkOccluded(n) {
		return
	}
	if c.z.IsCut(n) {
		for _, rr := range n.RRsets[dns.TypeNS] {
			c.checkNSTarget(rr.(*dns.NS), n)
		}
	}
	for _, rr := range n.RRsets[dns.TypeMX] {
		c.checkTarget(rr, rr.(*dns.MX).Mx, "MX")
	}
	for _, rr := range n.RRsets[dns.TypeSRV] {
		c.checkTarget(rr, rr.(*dns.SRV).Target, "SRV")
	}
}

// checkSingletons reports CNAME beside other data and repeated CNAME,
// DNAME and (below the apex) nothing else: those are the singleton types.
func (c *checker) checkSingletons(n *Node) {
	for _, t := range []uint16{dns.TypeCNAME, dns.TypeDNAME} {
		rrs := n.RRsets[t]
		for _, rr := range rrs[min(1, len(rrs)):] {
			c.report(Error, rr, "more than one %s record at %s", dns.TypeToString[t], n.Name)
		}
	}
	cnames := n.RRsets[dns.TypeCNAME]
	if len(cnames) == 0 {
		return
	}
	// The later of the CNAME and the other data is the one at fault.
	var other dns.RR
	for t, rrs := range n.RRsets {
		if t == dns.TypeCNAME || t == dns.TypeNSEC {
			continue
		}
		for _, rr := range rrs {
			if other == nil || c.index[rr] < c.index[other] {
				other = rr
			}
		}
	}
	if other == nil {
		return
	}
	at := cnames[0]
	if c.index[other] > c.index[at] {
		at = other
	}
	c.report(Error, at, "CNAME and other data at %s (%s; RFC 1034 §3.6.2, RFC 2181 §10.1)",
		n.Name, dns.TypeToString[other.Header().Rrtype])
}

// checkTTLs warns when the records of an RRset have different TTLs
// (RFC 2181 §5.2); servers then answer with the smallest.
func (c *checker) checkTTLs(n *Node) {
	for _, t := range n.Types() {
		rrs := n.RRsets[t]
		for _, rr := range rrs[min(1, len(rrs)):] {
			if rr.Header().Ttl != rrs[0].Header().Ttl {
				c.report(Warning, rr, "TTL %d differs from TTL %d of the %s RRset at %s (RFC 2181 §5.2)",
					rr.Header().Ttl, rrs[0].Header().Ttl, dns.TypeToString[t], n.Name)
			}
		}
	}
}

// checkOccluded reports data that no query can reach: below a DNAME, or
// at or below a delegation point other than NS, DS, NSEC and glue. It
// reports whether n is occluded.
func (c *checker) checkOccluded(n *Node) bool {
	if owner := c.dnameAbove(n.Name); owner != "" {
		for _, t := range n.Types() {
			c.report(Warning, c.first(n, t), "%s %s is below the DNAME at %s and is never served (RFC 6672 §2.4)",
				n.Name, dns.TypeToString[t], owner)
		}
		return true
	}
	cut := c.z.CutAbove(n.Name)
	if cut == nil {
		return false
	}
	for _, t := range n.Types() {
		switch {
		case n == cut && (t == dns.TypeNS || t == dns.TypeDS || t == dns.TypeNSEC || t == dns.TypeRRSIG):
			continue
		case (t == dns.TypeA || t == dns.TypeAAAA) && c.targets[n.Name]:
			continue // glue
		}
		c.report(Warning, c.first(n, t), "%s %s is at or below the delegation to %s and is never served; only glue is",
			n.Name, dns.TypeToString[t], cut.Name)
	}
	return n != cut
}

// first returns the earliest record of type t at n.
func (c *checker) first(n *Node, t uint16) dns.RR {
	rrs := n.RRsets[t]
	if t == dns.TypeRRSIG {
		for _, sigs := range n.Sigs {
			rrs = append(rrs, sigs...)
		}
	}
	var best dns.RR
	for _, rr := range rrs {
		if best == nil || c.index[rr] < c.index[best] {
			best = rr
		}
	}
	return best
}

// dnameAbove returns the nearest strict ancestor of name within the zone
// that owns a DNAME, or "".
func (c *checker) dnameAbove(name string) string {
	if len(c.dnames) == 0 || name == c.z.Origin {
		return ""
	}
	for p := dnsname.Parent(name); ; p = dnsname.Parent(p) {
		if c.dnames[p] {
			return p
		}
		if p == c.z.Origin || p == "." {
			return ""
		}
	}
}

// checkNSTarget checks an NS target inside the zone. At the apex (cut ==
// nil) problems are errors, as in named-checkzone; at a delegation they
// are warnings.
func (c *checker) checkNSTarget(ns *dns.NS, cut *Node) {
	target := dnsname.Canonical(ns.Ns)
	if !dnsname.IsSubdomain(target, c.z.Origin) {
		return
	}
	sev := Error
	where := ""
	if cut != nil {
		sev, where = Warning, cut.Name+" "
	}
	r := c.z.Lookup(target, dns.TypeA)
	switch r.Kind {
	case DNAME:
		c.report(sev, ns, "%sNS %s is below the DNAME at %s (illegal)", where, target, r.Node.Name)
	case CNAME:
		c.report(sev, ns, "%sNS %s is a CNAME (illegal)", where, target)
	case Delegation:
		if n := c.z.Node(target); n == nil || (!n.Has(dns.TypeA) && !n.Has(dns.TypeAAAA)) {
			c.report(Warning, ns, "%sNS %s is below the delegation to %s and has no glue address records (A or AAAA)",
				where, target, r.Node.Name)
		}
	case Success:
	default:
		if c.z.Lookup(target, dns.TypeAAAA).Kind != Success {
			c.report(sev, ns, "%sNS %s has no address records (A or AAAA)", where, target)
		}
	}
}

// checkTarget checks an MX or SRV target inside the zone (warnings, as
// named-checkzone). "." is the null target (RFC 7505, RFC 2782).
func (c *checker) checkTarget(rr dns.RR, target, what string) {
	target = dnsname.Canonical(target)
	if target == "." || !dnsname.IsSubdomain(target, c.z.Origin) {
		return
	}
	switch c.z.Lookup(target, dns.TypeA).Kind {
	case CNAME:
		c.report(Warning, rr, "%s target %s is a CNAME (illegal, RFC 2181 §10.3)", what, target)
	case Success, Delegation, DNAME:
	default:
		if c.z.Lookup(target, dns.TypeAAAA).Kind != Success {
			c.report(Warning, rr, "%s target %s has no address records (A or AAAA)", what, target)
		}
	}
}

// ---- CAA (RFC 8659) ----

// knownCAATags are the property tags with defined meaning: RFC 8659 §4,
// RFC 9495 (issuemail), the BIMI issuevmc tag and the CA/Browser Forum
// contact tags.
var knownCAATags = map[string]bool{
	"issue": true, "issuewild": true, "iodef": true, "issuemail": true,
	"issuevmc": true, "contactemail": true, "contactphone": true,
}

// checkCAA checks one CAA record against RFC 8659 §4.
func (c *checker) checkCAA(rr *dns.CAA) {
	tag := rr.Tag
	switch {
	case tag == "":
		c.report(Error, rr, "CAA tag is empty (RFC 8659 §4.1)")
		return
	case !isAlnum(tag):
		c.report(Error, rr, "CAA tag %q may contain only letters and digits (RFC 8659 §4.1)", tag)
		return
	case len(tag) > 15:
		c.report(Warning, rr, "CAA tag %q is longer than 15 characters (RFC 6844 §5.1)", tag)
	}
	if rr.Flag&0x7f != 0 {
		c.report(Warning, rr, "CAA flags %d set reserved bits, which CAs ignore (RFC 8659 §4.1)", rr.Flag)
	}
	lower := strings.ToLower(tag)
	if rr.Flag&0x80 != 0 && !knownCAATags[lower] {
		c.report(Warning, rr, "CAA tag %q is critical but unknown: CAs that do not know it will not issue (RFC 8659 §4.5)", tag)
	}
	switch lower {
	case "issue", "issuewild":
		if err := checkIssueValue(rr.Value); err != "" {
			c.report(Warning, rr, "CAA %s value %q is malformed (%s): CAs treat it as forbidding all issuance (RFC 8659 §4.2)",
				lower, rr.Value, err)
		}
	case "iodef":
		if !hasAnyPrefix(strings.ToLower(rr.Value), "mailto:", "http://", "https://") {
			c.report(Warning, rr, "CAA iodef value %q is not a mailto:, http: or https: URL (RFC 8659 §4.4)", rr.Value)
		}
	}
}

// checkIssueValue checks an issue or issuewild value against the ABNF of
// RFC 8659 §4.2 and returns what is wrong, or "":
//
//	issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
//	parameters  = (parameter *WSP ";" *WSP parameters) / parameter
//	parameter   = tag *WSP "=" *WSP value
//	value       = *(%x21-3A / %x3C-7E)
func checkIssueValue(v string) string {
	domain, params, hasParams := strings.Cut(v, ";")
	if domain = trimWSP(domain); domain != "" && !isLDHName(domain) {
		return "issuer domain name " + strconv.Quote(domain) + " is not a letter-digit-hyphen name"
	}
	if !hasParams {
		return ""
	}
	params = trimWSP(params)
	if params == "" {
		return ""
	}
	for _, p := range strings.Split(params, ";") {
		key, val, ok := strings.Cut(trimWSP(p), "=")
		key, val = trimWSP(key), trimWSP(val)
		switch {
		case !ok:
			return "parameter " + strconv.Quote(trimWSP(p)) + " has no '='"
		case !isLDHLabel(key):
			return "parameter tag " + strconv.Quote(key) + " is not letters, digits and hyphens"
		}
		for i := 0; i < len(val); i++ {
			if val[i] < 0x21 || val[i] > 0x7e {
				return "parameter value " + strconv.Quote(val) + " has spaces or non-ASCII characters"
			}
		}
	}
	return ""
}

func trimWSP(s string) string { return strings.Trim(s, " \t") }

// isLDHName reports whether s is label *("." label) with LDH labels.
func isLDHName(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if !isLDHLabel(l) {
			return false
		}
	}
	return true
}

// isLDHLabel reports whether l is (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)).
func isLDHLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	return isAlnum(strings.ReplaceAll(l, "-", ""))
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
