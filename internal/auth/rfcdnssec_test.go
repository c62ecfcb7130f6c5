package auth

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/dnstest"
	"github.com/rensa-dns/rensa/internal/zone"
)

// rfcVectors is where the RFC zones and example responses live.
const rfcVectors = "../../../shared/conformance/rfc-vectors"

// TestRFC4035AppendixB serves the signed zone of RFC 4035 Appendix A and
// checks each example response of Appendix B: rcode, AA and the three
// sections, ignoring record order.
func TestRFC4035AppendixB(t *testing.T) {
	t.Parallel()
	runAppendixB(t, "rfc4035-A-signed-zone.zone", "rfc4035-B-example-responses.txt", map[string]rfcErratum{
		// B.6 shows the apex NS RRset in the authority section but,
		// unlike B.1, not the addresses of ns1 and ns2 in the additional
		// section. rensa treats both answers alike, as B.1 does.
		"B.6": {extra: []string{
			"ns1.example. 3600 IN A 192.0.2.1",
			"ns2.example. 3600 IN A 192.0.2.2",
		}, extraSigned: true},
	})
}

// TestRFC5155AppendixB serves the NSEC3-signed zone of RFC 5155 Appendix A
// and checks each example response of Appendix B.
func TestRFC5155AppendixB(t *testing.T) {
	t.Parallel()
	runAppendixB(t, "rfc5155-A-nsec3-zone.zone", "rfc5155-B-example-responses.txt", map[string]rfcErratum{
		// B.3 prints one NS record of c.example., which owns two in
		// Appendix A (and B.3's additional section has both addresses).
		"B.3": {authority: []string{"c.example. 3600 IN NS ns2.c.example."}},
		// As RFC 4035 B.6: the addresses of the apex NS names.
		"B.4": {extra: []string{
			"ns1.example. 3600 IN A 192.0.2.1",
			"ns2.example. 3600 IN A 192.0.2.2",
		}, extraSigned: true},
	})
}

// rfcErratum is what an RFC example leaves out that the zone it is
// made from implies: records added to the expected sections.
type rfcErratum struct {
	authority   []string
	extra       []string
	extraSigned bool // the extra records come with their RRSIGs from the zone
}

// rfcExample is one example response of an RFC appendix.
type rfcExample struct {
	name     string // "B.1"
	question dns.Question
	aa       bool
	rcode    int
	sections map[string][]dns.RR // "Answer", "Authority", "Additional"
}

func runAppendixB(t *testing.T, zoneFile, responses string, errata map[string]rfcErratum) {
	z, err := zone.Load(filepath.Join(rfcVectors, zoneFile), "example.", zone.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{FullResponses: true}, z)
	examples := parseRFCExamples(t, filepath.Join(rfcVectors, responses))
	if len(examples) < 6 {
		t.Fatalf("read %d examples from %s, want at least 6", len(examples), responses)
	}
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			q := new(dns.Msg)
			q.Id = 4035
			q.Question = []dns.Question{ex.question}
			q.SetEdns0(4096, true)
			got := s.Answer(q, "tcp")
			if got == nil {
				t.Fatal("no reply")
			}
			checkHeader(t, q, got, ex.rcode, ex.aa, false)
			want := ex.want()
			if e, ok := errata[ex.name]; ok {
				want.Ns = append(want.Ns, e.authority...)
				want.Extra = append(want.Extra, e.extra...)
				if e.extraSigned {
					want.Extra = append(want.Extra, zoneSigs(t, z, e.extra)...)
				}
			}
			want.Check(t, got)
		})
	}
}

// want returns the example's sections as dnstest.Sections.
func (ex rfcExample) want() dnstest.Sections {
	lines := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			out = append(out, rr.String())
		}
		return out
	}
	return dnstest.Sections{
		Answer: lines(ex.sections["Answer"]),
		Ns:     lines(ex.sections["Authority"]),
		Extra:  lines(ex.sections["Additional"]),
	}
}

// zoneSigs returns the zone's RRSIGs over the RRsets of the given records.
func zoneSigs(t *testing.T, z *zone.Zone, records []string) []string {
	var out []string
	for _, text := range records {
		rr, err := dns.NewRR(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range z.Node(rr.Header().Name).Sigs[rr.Header().Rrtype] {
			out = append(out, sig.String())
		}
	}
	return out
}

var (
	exampleHeading = regexp.MustCompile(`^(B\.[0-9.]*[0-9])\.\s`)
	headerLine     = regexp.MustCompile(`^;; Header: (.*)RCODE=(\d+)`)
)

// parseRFCExamples reads the example responses as the RFCs print them:
// a "B.n." heading, a ";; Header:" line with the flags and rcode, the
// question, then ";; Answer", ";; Authority" and ";; Additional" with
// records, possibly spread over lines in parentheses, without TTL or
// class. Prose and comments between them are skipped.
func parseRFCExamples(t *testing.T, path string) []rfcExample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rfcExample
	var cur *rfcExample
	section, pending, depth := "", "", 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if depth > 0 { // inside a record's parentheses
			pending += " " + line
			depth += strings.Count(line, "(") - strings.Count(line, ")")
			if depth == 0 {
				cur.add(t, section, pending)
			}
			continue
		}
		switch m := exampleHeading.FindStringSubmatch(line); {
		case m != nil:
			out = append(out, rfcExample{name: m[1], sections: map[string][]dns.RR{}})
			cur, section = &out[len(out)-1], ""
			continue
		case cur == nil:
			continue
		}
		if m := headerLine.FindStringSubmatch(line); m != nil {
			cur.aa = slices.Contains(strings.Fields(m[1]), "AA")
			cur.rcode = int(m[2][0] - '0')
			continue
		}
		if strings.HasPrefix(line, ";;") {
			if name := strings.TrimSpace(strings.TrimPrefix(line, ";;")); slices.Contains([]string{"Question", "Answer", "Authority", "Additional"}, name) {
				section = name
			}
			continue
		}
		fields := strings.Fields(line)
		if section == "" || len(fields) < 3 || !strings.HasSuffix(fields[0], ".") || !recordStart(fields[1]) {
			continue // prose
		}
		if section == "Question" {
			cur.question = dns.Question{Name: fields[0], Qtype: dns.StringToType[fields[2]], Qclass: dns.ClassINET}
			continue
		}
		pending, depth = line, strings.Count(line, "(")-strings.Count(line, ")")
		if _, err := dns.NewRR(line); depth == 0 && err != nil {
			// RFC 5155 B.6 leaves out the "(" of a record printed over
			// several lines: one that does not parse alone goes on.
			pending, depth = line+" (", 1
		}
		if depth == 0 {
			cur.add(t, section, pending)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordStart reports whether f, the second field of a line, can follow
// an owner name: a TTL, the class or a type.
func recordStart(f string) bool {
	_, isType := dns.StringToType[f]
	return isType || f == "IN" || strings.Trim(f, "0123456789") == ""
}

// add parses one record of a section; NSEC and NSEC3 type bitmaps are
// sorted, as the zone loader sorts them (RFC 5155 prints them unsorted).
func (ex *rfcExample) add(t *testing.T, section, text string) {
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("%s %s: %v", ex.name, section, err)
	}
	switch r := rr.(type) {
	case *dns.NSEC:
		slices.Sort(r.TypeBitMap)
	case *dns.NSEC3:
		slices.Sort(r.TypeBitMap)
	}
	ex.sections[section] = append(ex.sections[section], rr)
}
