package zone

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// checkHeader starts the zones of TestCheck: lines 1-5.
const checkHeader = `$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600
  IN NS ns1
  IN NS ns2
ns1 IN A 192.0.2.1
ns2 IN AAAA 2001:db8::2
`

// findingLines renders findings as "line: severity: message".
func findingLines(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = itoa(f.Line) + ": " + f.Severity.String() + ": " + f.Message
	}
	return out
}

// TestCheck runs each rule on a small zone. want holds the findings in
// order as "line: severity: message prefix".
func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header bool // prepend checkHeader (records then start at line 7)
		text   string
		want   []string
	}{
		{"clean zone", true, "www IN A 192.0.2.10\n", nil},
		// The apex.
		{"no SOA", false, "$TTL 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\n",
			[]string{"0: error: no SOA record at the zone apex example.test."}},
		{"two SOAs", true, "@ IN SOA ns1 hostmaster 2 7200 3600 1209600 3600\n",
			[]string{"7: error: more than one SOA record at the zone apex"}},
		{"same SOA twice is one", true, "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n", nil},
		{"SOA below the apex", true, "sub IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n",
			[]string{"7: error: SOA record not at the zone apex (sub.example.test.)"}},
		{"no apex NS", false, "$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n",
			[]string{"0: error: no NS records at the zone apex example.test."}},
		{"DS at the apex", true, "@ IN DS 1 13 2 " + strings.Repeat("AB", 32) + "\n",
			[]string{"7: error: DS record at the zone apex"}},
		{"DS off a delegation", true, "www IN DS 1 13 2 " + strings.Repeat("AB", 32) + "\n",
			[]string{"7: warning: DS record at www.example.test., which is not a delegation point"}},
		// Out of zone.
		{"out of zone", true, "www.example.org. IN A 192.0.2.1\n",
			[]string{"7: warning: ignoring out-of-zone data (www.example.org.)"}},
		// CNAME and DNAME.
		{"CNAME and other data", true, "www IN CNAME ns1\nwww IN TXT \"x\"\n",
			[]string{"8: error: CNAME and other data at www.example.test. (TXT"}},
		{"other data then CNAME", true, "www IN TXT \"x\"\nwww IN CNAME ns1\n",
			[]string{"8: error: CNAME and other data at www.example.test. (TXT"}},
		{"CNAME at the apex", true, "@ IN CNAME ns1\n",
			[]string{"7: error: CNAME and other data at example.test."}},
		{"two CNAMEs", true, "www IN CNAME ns1\nwww IN CNAME ns2\n",
			[]string{"8: error: more than one CNAME record at www.example.test."}},
		{"CNAME with RRSIG and NSEC", true, "www IN CNAME ns1\nwww IN NSEC ns1.example.test. CNAME RRSIG NSEC\n" +
			"www IN RRSIG CNAME 13 3 3600 20300101000000 20240101000000 1 example.test. AAAA\n", nil},
		{"DNAME with other data", true, "old IN DNAME new.example.test.\nold IN A 192.0.2.1\n", nil},
		{"DNAME and CNAME", true, "old IN DNAME new.example.test.\nold IN CNAME ns1\n",
			[]string{"8: error: CNAME and other data at old.example.test. (DNAME"}},
		{"two DNAMEs", true, "old IN DNAME a.example.\nold IN DNAME b.example.\n",
			[]string{"8: error: more than one DNAME record at old.example.test."}},
		{"data below a DNAME", true, "old IN DNAME new.example.test.\nwww.old IN A 192.0.2.1\nx.y.old IN TXT \"t\"\n",
			[]string{"8: warning: www.old.example.test. A is below the DNAME at old.example.test.",
				"9: warning: x.y.old.example.test. TXT is below the DNAME at old.example.test."}},
		// NS targets.
		{"apex NS without address", true, "@ IN NS ns3\n",
			[]string{"7: error: NS ns3.example.test. has no address records (A or AAAA)"}},
		{"apex NS at an empty non-terminal", true, "@ IN NS ns3\nx.ns3 IN A 192.0.2.1\n",
			[]string{"7: error: NS ns3.example.test. has no address records"}},
		{"apex NS matched by a wildcard", true, "@ IN NS ns3\n* IN A 192.0.2.1\n", nil},
		{"apex NS is a CNAME", true, "@ IN NS ns3\nns3 IN CNAME ns1\n",
			[]string{"7: error: NS ns3.example.test. is a CNAME (illegal)"}},
		{"apex NS below a DNAME", true, "@ IN NS ns.old\nold IN DNAME new.example.test.\n",
			[]string{"7: error: NS ns.old.example.test. is below the DNAME at old.example.test. (illegal)"}},
		{"apex NS out of zone", true, "@ IN NS ns.example.org.\n", nil},
		{"delegation with glue", true, "sub IN NS ns.sub\nns.sub IN A 192.0.2.9\n", nil},
		{"delegation without glue", true, "sub IN NS ns.sub\n",
			[]string{"7: warning: sub.example.test. NS ns.sub.example.test. is below the delegation to sub.example.test. and has no glue"}},
		{"delegation to a name without address", true, "sub IN NS ns3\n",
			[]string{"7: warning: sub.example.test. NS ns3.example.test. has no address records"}},
		{"delegation NS is a CNAME", true, "sub IN NS ns3\nns3 IN CNAME ns1\n",
			[]string{"7: warning: sub.example.test. NS ns3.example.test. is a CNAME (illegal)"}},
		{"NS looks like an address", true, "sub IN NS 192.0.2.1\n192.0.2.1 IN A 192.0.2.1\n",
			[]string{"7: warning: NS target 192.0.2.1.example.test. appears to be an address"}},
		{"NS at a wildcard", true, "*.w IN NS ns1\n",
			[]string{"7: error: NS record at the wildcard name *.w.example.test."}},
		// Occluded data.
		{"data below a delegation", true, "sub IN NS ns.sub\nns.sub IN A 192.0.2.9\nwww.sub IN A 192.0.2.10\nsub IN TXT \"t\"\nsub IN DS 1 13 2 " + strings.Repeat("AB", 32) + "\n",
			[]string{"9: warning: www.sub.example.test. A is at or below the delegation to sub.example.test.",
				"10: warning: sub.example.test. TXT is at or below the delegation to sub.example.test."}},
		// MX and SRV targets.
		{"MX is a CNAME", true, "@ IN MX 10 mail\nmail IN CNAME ns1\n",
			[]string{"7: warning: MX target mail.example.test. is a CNAME (illegal"}},
		{"SRV without address", true, "_sip._udp IN SRV 0 0 5060 sip\n",
			[]string{"7: warning: SRV target sip.example.test. has no address records"}},
		{"null MX and SRV", true, "@ IN MX 0 .\n_x._tcp IN SRV 0 0 0 .\n", nil},
		{"MX looks like an address", true, "@ IN MX 10 10.0.0.1\n",
			[]string{"7: warning: MX target 10.0.0.1.example.test. appears to be an address",
				"7: warning: MX target 10.0.0.1.example.test. has no address records"}},
		// Names, classes, TTLs.
		{"non-terminal wildcard", true, "a.*.b IN A 192.0.2.1\n",
			[]string{"7: warning: owner name a.*.b.example.test. contains a non-terminal wildcard"}},
		{"class mismatch", true, "www CH A 192.0.2.1\n",
			[]string{"7: error: class CH differs from the zone's class IN"}},
		{"TTL over 2^31-1", true, "www 2147483648 IN A 192.0.2.1\n",
			[]string{"7: warning: TTL 2147483648 exceeds 2147483647"}},
		{"TTLs differ in an RRset", true, "www 60 IN A 192.0.2.1\nwww 120 IN A 192.0.2.2\n",
			[]string{"8: warning: TTL 120 differs from TTL 60 of the A RRset at www.example.test."}},
		// CAA (RFC 8659 §4).
		{"CAA good", true, "@ IN CAA 0 issue \"ca.example.net; account=1\"\n@ IN CAA 0 issuewild \";\"\n" +
			"@ IN CAA 0 iodef \"mailto:a@example.test\"\n@ IN CAA 128 issue \"ca.example.net\"\n@ IN CAA 0 future \"x\"\n", nil},
		{"CAA tag with a hyphen", true, "@ IN CAA 0 issue-wild \"ca.example.net\"\n",
			[]string{"7: error: CAA tag \"issue-wild\" may contain only letters and digits"}},
		{"CAA tag too long", true, "@ IN CAA 0 abcdefghijklmnop \"x\"\n",
			[]string{"7: warning: CAA tag \"abcdefghijklmnop\" is longer than 15 characters"}},
		{"CAA critical unknown tag", true, "@ IN CAA 128 tbs \"Unknown\"\n",
			[]string{"7: warning: CAA tag \"tbs\" is critical but unknown"}},
		{"CAA reserved flags", true, "@ IN CAA 1 issue \"ca.example.net\"\n",
			[]string{"7: warning: CAA flags 1 set reserved bits"}},
		{"CAA malformed issue", true, "@ IN CAA 0 issue \"%%%%%\"\n@ IN CAA 0 issuewild \"ca.example.net; account\"\n@ IN CAA 0 issue \"ca.example.net.\"\n",
			[]string{"7: warning: CAA issue value \"%%%%%\" is malformed (issuer domain name",
				"8: warning: CAA issuewild value \"ca.example.net; account\" is malformed (parameter \"account\" has no '=')",
				"9: warning: CAA issue value \"ca.example.net.\" is malformed"}},
		{"CAA iodef scheme", true, "@ IN CAA 0 iodef \"ftp://example.test/\"\n",
			[]string{"7: warning: CAA iodef value \"ftp://example.test/\" is not a mailto:, http: or https: URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := tt.text
			if tt.header {
				text = checkHeader + text
			}
			z, err := Parse(strings.NewReader(text), "example.test.", "z", LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := findingLines(z.Check())
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("findings\n\t%s\nwant (prefixes)\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

// TestFindingString checks the printed form of findings.
func TestFindingString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Severity: Error, File: "db.x", Line: 3, Name: "x.", Message: "bad"}, "db.x:3: error: bad"},
		{Finding{Severity: Warning, File: "db.x", Line: 3, Name: "x.", Message: "odd"}, "db.x:3: warning: odd"},
		{Finding{Name: "example.test.", Message: "no SOA"}, "example.test.: error: no SOA"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// caaCase matches one "owner:flags tag "value"" of the RFC 8659 cases.
var caaCase = regexp.MustCompile(`([^\s:;]+):(\d+ \S+ "[^"]*")`)

// TestRFC8659IssueValues checks the issue values of RFC 8659 §4.2 and the
// derived cases in ../shared/conformance: the malformed one ("%%%%%",
// which CAs must read as forbidding issuance), the unknown critical tag and
// the reserved flag bit are flagged, the others not.
func TestRFC8659IssueValues(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"ca1.example.net", "ca2.example.org", ";", "ca1.example.net; account=230123", "", " ca.example ; a=b ; c-d = e "} {
		if msg := checkIssueValue(v); msg != "" {
			t.Errorf("issue value %q: %s, want well-formed", v, msg)
		}
	}
	for _, v := range []string{"%%%%%", "ca.example.", "-ca.example", "ca..example", "ca.example; =v", "ca.example; k=v;", "ca.example; k=v w", "ca.example; k"} {
		if checkIssueValue(v) == "" {
			t.Errorf("issue value %q is well-formed, want malformed", v)
		}
	}

	path := filepath.Join("..", "..", "..", "shared", "conformance", "rfc-vectors", "caa-rfc8659-cases.tsv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("RFC 8659 cases not available (%v): run with ../shared/conformance beside the repository", err)
	}
	cases := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 6 || fields[2] == "(none)" {
			continue
		}
		for _, m := range caaCase.FindAllStringSubmatch(fields[2], -1) {
			rrset, owner, rdata := m[0], m[1], m[2]
			rr, err := dns.NewRR(owner + ". 3600 IN CAA " + rdata)
			if err != nil {
				t.Fatalf("%s: %v", rrset, err)
			}
			z := New(owner, []Record{{RR: rr}})
			c := newChecker(z)
			c.checkCAA(rr.(*dns.CAA))
			// Flagged: malformed issue values, unknown critical tags and
			// reserved flag bits (publishers MUST clear them, §4.1).
			caa := rr.(*dns.CAA)
			want := strings.Contains(fields[5], "malformed") || caa.Flag&0x80 != 0 && caa.Tag == "tbs" || caa.Flag&0x7f != 0
			if flagged := len(c.found) > 0; flagged != want {
				t.Errorf("%s (%s): findings %v, want flagged=%v", rrset, fields[5], findingLines(c.sorted()), want)
			}
			cases++
		}
	}
	if cases < 20 {
		t.Errorf("read only %d CAA records from %s", cases, path)
	}
}

// corpusExpectations lists the corpus files where rensa decides
// differently from named-checkzone on purpose. The file's name says which
// way rensa goes; the test fails if named-checkzone stops disagreeing, so
// the table stays true.
var corpusExpectations = map[string]struct {
	rensaRejects bool
	why          string
}{
	"differ-no-ttl.zone": {true, "no $TTL and no TTL on the first records: BIND takes the SOA minimum with a " +
		"warning; miekg/dns would give such records TTL 0, so rensa refuses the file and names the line"},
	"differ-generate-escape.zone": {true, "a $GENERATE template escape other than \\$ (here \\.): BIND keeps it; " +
		"miekg/dns's expander silently drops the backslash and the escaped character, so rensa refuses the template"},
	"differ-long-txt.zone": {false, "a TXT character-string over 255 octets: BIND refuses it; miekg/dns " +
		"splits it into 255-octet strings before rensa sees the record, so rensa cannot tell"},
}

// corpusFile is one zone of the agreement corpus.
type corpusFile struct {
	name, path, origin string
}

// corpusFiles lists testdata/corpus/*.zone, and the RFC 4035 and RFC 5155
// example zones from ../shared/conformance when they are there. A line
// "; origin: NAME" sets the origin (default example.test.).
func corpusFiles(t *testing.T) []corpusFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.zone"))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		origin := "example.test."
		for _, line := range strings.Split(string(data), "\n") {
			if o, ok := strings.CutPrefix(line, "; origin: "); ok {
				origin = strings.TrimSpace(o)
			}
		}
		out = append(out, corpusFile{name: filepath.Base(p), path: p, origin: origin})
	}
	vectors := filepath.Join("..", "..", "..", "shared", "conformance", "rfc-vectors")
	for _, name := range []string{"rfc4035-A-signed-zone.zone", "rfc5155-A-nsec3-zone.zone"} {
		if p := filepath.Join(vectors, name); fileExists(p) {
			out = append(out, corpusFile{name: "ok-" + name, path: p, origin: "example."})
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// rensaRejects loads and checks a corpus file as rensa check-zone does.
func rensaRejects(f corpusFile) (bool, string) {
	z, err := Load(f.path, f.origin, LoadOptions{})
	if err != nil {
		return true, err.Error()
	}
	var lines []string
	rejects := false
	for _, fd := range z.Check() {
		lines = append(lines, fd.String())
		rejects = rejects || fd.Severity == Error
	}
	return rejects, strings.Join(lines, "\n")
}

// TestCheckZoneCorpus checks the rensa side of the corpus on its own: the
// "bad-" files are refused, the "ok-" files load without findings, the
// "warn-" files load with warnings only. It needs no peer.
func TestCheckZoneCorpus(t *testing.T) {
	t.Parallel()
	files := corpusFiles(t)
	bad := 0
	for _, f := range files {
		if strings.HasPrefix(f.name, "bad-") {
			bad++
		}
	}
	if len(files) < 30 || bad < 15 {
		t.Fatalf("corpus has %d files, %d broken; want at least 30 and 15", len(files), bad)
	}
	for _, f := range files {
		rejects, out := rensaRejects(f)
		switch prefix, _, _ := strings.Cut(f.name, "-"); prefix {
		case "bad":
			if !rejects {
				t.Errorf("%s: rensa accepts it:\n%s", f.name, out)
			}
		case "ok":
			if rejects || out != "" {
				t.Errorf("%s: want no findings, got:\n%s", f.name, out)
			}
		case "warn":
			if rejects || out == "" {
				t.Errorf("%s: want warnings only, got:\n%s", f.name, out)
			}
		case "differ":
			if e, ok := corpusExpectations[f.name]; !ok || rejects != e.rensaRejects {
				t.Errorf("%s: rensa rejects=%v, not as corpusExpectations says:\n%s", f.name, rejects, out)
			}
		default:
			t.Errorf("%s: corpus file names start with bad-, ok-, warn- or differ-", f.name)
		}
	}
}

// TestCheckZoneAgreesWithNamedCheckzone runs named-checkzone (BIND) and
// rensa on every corpus file and asserts the same accept/reject decision,
// except where corpusExpectations documents a deliberate difference.
// named-checkzone runs with "-i local": rensa never looks up names outside
// the zone, and that mode is BIND's equivalent (and keeps the test off the
// network). It runs in the corpus directory because BIND resolves
// $INCLUDE against the working directory, rensa against the including
// file's directory; the corpus is laid out so that both agree.
func TestCheckZoneAgreesWithNamedCheckzone(t *testing.T) {
	bin, err := exec.LookPath("named-checkzone")
	if err != nil {
		if os.Getenv("REQUIRE_PEERS") == "1" {
			t.Fatalf("named-checkzone not found and REQUIRE_PEERS=1: %v", err)
		}
		t.Skip("named-checkzone not found (install bind9-utils); set REQUIRE_PEERS=1 to make this fatal")
	}
	t.Parallel()
	files := corpusFiles(t)
	agree, differ := 0, 0
	for _, f := range files {
		abs, err := filepath.Abs(f.path)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "-i", "local", f.origin, abs)
		cmd.Dir = filepath.Join("testdata", "corpus")
		out, err := cmd.CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("%s: running named-checkzone: %v", f.name, err)
		}
		named := err != nil
		rensa, rensaOut := rensaRejects(f)
		want := named
		if e, ok := corpusExpectations[f.name]; ok {
			if named == e.rensaRejects {
				t.Errorf("%s: named-checkzone now agrees with rensa (rejects=%v); remove it from corpusExpectations", f.name, named)
			}
			want = e.rensaRejects
		}
		switch {
		case rensa != want:
			t.Errorf("%s: named-checkzone rejects=%v, rensa rejects=%v\nnamed-checkzone:\n%s\nrensa:\n%s",
				f.name, named, rensa, out, rensaOut)
		case rensa == named:
			agree++
		default:
			differ++
		}
	}
	t.Logf("%d corpus zones: %d decided as named-checkzone does, %d differ as corpusExpectations documents",
		len(files), agree, differ)
}
