// Command plainmiekg is the benchmark baseline: the simplest authoritative
// server one can write with github.com/miekg/dns (a map lookup per query,
// dns.Server's default UDP loop). make bench runs it beside rensa, NSD and
// Knot DNS so the ratios show what rensa's serving path adds.
//
//	plainmiekg -listen 127.0.0.1:5301 -zone bench.test.zone -origin bench.test.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/miekg/dns"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5301", "UDP address to serve on")
	file := flag.String("zone", "", "zone file")
	origin := flag.String("origin", "", "zone origin")
	flag.Parse()
	if err := serve(*listen, *file, *origin); err != nil {
		log.Fatal(err)
	}
}

type key struct {
	name  string
	qtype uint16
}

func serve(listen, file, origin string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	data := map[key][]dns.RR{}
	names := map[string]bool{}
	var soa dns.RR
	zp := dns.NewZoneParser(f, dns.Fqdn(origin), file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		k := key{strings.ToLower(h.Name), h.Rrtype}
		data[k] = append(data[k], rr)
		names[k.name] = true
		if h.Rrtype == dns.TypeSOA {
			soa = rr
		}
	}
	if err := zp.Err(); err != nil {
		return err
	}
	if soa == nil {
		return fmt.Errorf("plainmiekg: no SOA in %s", file)
	}
	dns.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		switch {
		case len(data[key{name, q.Qtype}]) > 0:
			m.Answer = data[key{name, q.Qtype}]
		case names[name]:
			m.Ns = []dns.RR{soa}
		default:
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{soa}
		}
		_ = w.WriteMsg(m)
	})
	return dns.ListenAndServe(listen, "udp", nil)
}
