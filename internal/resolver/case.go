package resolver

import (
	"io"
	"strings"

	"github.com/miekg/dns"
)

// randomCase returns name with the case of each letter flipped or kept
// by one random bit from rnd (0x20, draft-vixie-dnsext-dns0x20): a
// forger must guess the pattern as well as the ID and port. When rnd
// fails, the name is returned as it is.
func randomCase(rnd io.Reader, name string) string {
	b := []byte(name)
	bits := make([]byte, (len(b)+7)/8)
	if _, err := rnd.Read(bits); err != nil {
		return name
	}
	for i, c := range b {
		if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && bits[i/8]&(1<<(i%8)) != 0 {
			b[i] ^= 0x20
		}
	}
	return string(b)
}

// restoreCase undoes 0x20 in a reply that passed the question check:
// every name in it, owners and the names inside record data, that ends in
// a suffix of sent (the name as sent, in random case) byte for byte, at a
// label boundary, gets plain's case for that suffix instead. Servers
// compress names by pointing them at the question or a part of it (NSD
// and Knot DNS do), so without this one query's random case would be
// cached and served to clients in NS, CNAME, MX and SOA data. Unbound
// writes the original question back into the wire reply for the same
// reason.
func restoreCase(m *dns.Msg, sent, plain string) {
	if sent == plain || len(sent) != len(plain) {
		return
	}
	var buf [maxStackLabels]int
	starts := labelStarts(buf[:0], sent) // label offsets, the same in plain
	fix := func(name *string) {
		n := *name
		for _, i := range starts {
			suffix := sent[i:]
			if !strings.HasSuffix(n, suffix) {
				continue
			}
			if cut := len(n) - len(suffix); cut == 0 || n[cut-1] == '.' && (cut < 2 || n[cut-2] != '\\') {
				*name = n[:cut] + plain[i:]
				return
			}
		}
	}
	for i := range m.Question {
		fix(&m.Question[i].Name)
	}
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			fix(&rr.Header().Name)
			for _, name := range rdataNames(rr) {
				if name != nil {
					fix(name)
				}
			}
		}
	}
}

// rdataNames returns pointers to the domain names inside rr's data, for
// the types a resolver caches or follows, nil after the last (other types
// have none it touches): an array, not a slice made for every record of
// every reply.
func rdataNames(rr dns.RR) [2]*string {
	switch rr := rr.(type) {
	case *dns.NS:
		return [2]*string{&rr.Ns}
	case *dns.CNAME:
		return [2]*string{&rr.Target}
	case *dns.DNAME:
		return [2]*string{&rr.Target}
	case *dns.PTR:
		return [2]*string{&rr.Ptr}
	case *dns.MX:
		return [2]*string{&rr.Mx}
	case *dns.SOA:
		return [2]*string{&rr.Ns, &rr.Mbox}
	case *dns.SRV:
		return [2]*string{&rr.Target}
	case *dns.NAPTR:
		return [2]*string{&rr.Replacement}
	case *dns.SVCB:
		return [2]*string{&rr.Target}
	case *dns.HTTPS:
		return [2]*string{&rr.Target}
	case *dns.KX:
		return [2]*string{&rr.Exchanger}
	case *dns.AFSDB:
		return [2]*string{&rr.Hostname}
	case *dns.RP:
		return [2]*string{&rr.Mbox, &rr.Txt}
	case *dns.MINFO:
		return [2]*string{&rr.Rmail, &rr.Email}
	case *dns.RRSIG:
		return [2]*string{&rr.SignerName}
	case *dns.NSEC:
		return [2]*string{&rr.NextDomain}
	}
	return [2]*string{}
}

// maxStackLabels is how many label offsets restoreCase keeps on the stack
// (more, and they go to the heap): query names rarely have more labels.
const maxStackLabels = 16

// labelStarts appends to starts the offsets at which the labels of name
// begin, as dns.Split returns them (none for the root), without making a
// slice per reply.
func labelStarts(starts []int, name string) []int {
	if name == "." {
		return starts
	}
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		starts = append(starts, off)
	}
	return starts
}
