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
	starts := dns.Split(sent) // label offsets, the same in plain
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
				fix(name)
			}
		}
	}
}

// rdataNames returns pointers to the domain names inside rr's data, for
// the types a resolver caches or follows; other types have none it
// touches.
func rdataNames(rr dns.RR) []*string {
	switch rr := rr.(type) {
	case *dns.NS:
		return []*string{&rr.Ns}
	case *dns.CNAME:
		return []*string{&rr.Target}
	case *dns.DNAME:
		return []*string{&rr.Target}
	case *dns.PTR:
		return []*string{&rr.Ptr}
	case *dns.MX:
		return []*string{&rr.Mx}
	case *dns.SOA:
		return []*string{&rr.Ns, &rr.Mbox}
	case *dns.SRV:
		return []*string{&rr.Target}
	case *dns.NAPTR:
		return []*string{&rr.Replacement}
	case *dns.SVCB:
		return []*string{&rr.Target}
	case *dns.HTTPS:
		return []*string{&rr.Target}
	case *dns.KX:
		return []*string{&rr.Exchanger}
	case *dns.AFSDB:
		return []*string{&rr.Hostname}
	case *dns.RP:
		return []*string{&rr.Mbox, &rr.Txt}
	case *dns.MINFO:
		return []*string{&rr.Rmail, &rr.Email}
	case *dns.RRSIG:
		return []*string{&rr.SignerName}
	case *dns.NSEC:
		return []*string{&rr.NextDomain}
	}
	return nil
}
