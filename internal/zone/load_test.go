package zone

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// soaNS starts the test zones: an apex with SOA and NS, $TTL 3600.
const soaNS = `$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600
  IN NS ns1
ns1 IN A 192.0.2.1
`

// writeFiles creates files (name -> text) under dir, making directories.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// positions renders the records of z as "file:line owner type" lines,
// with dir removed from file names.
func positions(z *Zone, dir string) []string {
	var out []string
	for _, r := range z.Records {
		file := strings.TrimPrefix(r.File, dir+string(filepath.Separator))
		out = append(out, position(file, r.Line)+" "+r.RR.Header().Name+" "+dns.TypeToString[r.RR.Header().Rrtype])
	}
	return out
}

func equalLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestLoadPositions checks the file:line of each record: directives,
// comments, quotes, parentheses over several lines, $INCLUDE and
// $GENERATE.
func TestLoadPositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string // "main.zone" is loaded
		want  []string
	}{
		{
			name: "directives and blank owner",
			files: map[string]string{"main.zone": `$ORIGIN example.test.
$TTL 60
@ IN SOA ns1 hostmaster 1 2 3 4 5

    IN NS ns1 ; the owner is the previous one
$ORIGIN sub.example.test.
host IN A 192.0.2.1
$TTL 120
other.example.test. IN A 192.0.2.2
`},
			want: []string{
				"main.zone:3 example.test. SOA",
				"main.zone:5 example.test. NS",
				"main.zone:7 host.sub.example.test. A",
				"main.zone:9 other.example.test. A",
			},
		},
		{
			name: "parentheses spanning lines",
			files: map[string]string{"main.zone": `$TTL 60
@ IN SOA ns1 hostmaster (
      1 ; serial (with a parenthesis in the comment
      2 3 4 5 )
txt IN TXT ( "one ; not a comment"
             "two ( not a parenthesis" )
a IN A 192.0.2.1
(paren IN A
  192.0.2.2)
last IN TXT "a \" quote" ; and "a comment"
`},
			want: []string{
				"main.zone:2 example.test. SOA",
				"main.zone:5 txt.example.test. TXT",
				"main.zone:7 a.example.test. A",
				"main.zone:8 paren.example.test. A",
				"main.zone:10 last.example.test. TXT",
			},
		},
		{
			name:  "quoted newline",
			files: map[string]string{"main.zone": "$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5\nt IN TXT \"line\nbreak\"\nu IN A 192.0.2.1\n"},
			want: []string{
				"main.zone:2 example.test. SOA",
				"main.zone:3 t.example.test. TXT",
				"main.zone:5 u.example.test. A",
			},
		},
		{
			name:  "no final newline and CRLF",
			files: map[string]string{"main.zone": "$TTL 60\r\n@ IN SOA ns1 hostmaster 1 2 3 4 5\r\nu IN A 192.0.2.1"},
			want: []string{
				"main.zone:2 example.test. SOA",
				"main.zone:3 u.example.test. A",
			},
		},
		{
			name: "include relative to the including file",
			files: map[string]string{
				"main.zone":     soaNS + "$INCLUDE sub/hosts.inc\nafter IN A 192.0.2.9\n",
				"sub/hosts.inc": "; hosts\nh1 IN A 192.0.2.10\n$INCLUDE more.inc other.example.test.\nh2 IN A 192.0.2.11\n",
				"sub/more.inc":  "\n\nm1 IN A 192.0.2.12\n",
			},
			want: []string{
				"main.zone:2 example.test. SOA",
				"main.zone:3 example.test. NS",
				"main.zone:4 ns1.example.test. A",
				"sub/hosts.inc:2 h1.example.test. A",
				"sub/more.inc:3 m1.other.example.test. A",
				"sub/hosts.inc:4 h2.example.test. A",
				"main.zone:6 after.example.test. A",
			},
		},
		{
			name: "generate",
			files: map[string]string{"main.zone": soaNS + `$GENERATE 1-3 host$ A 192.0.2.$
$GENERATE 0-4/2 ${10,2,x} TXT "step $"
after IN A 192.0.2.9
`},
			want: []string{
				"main.zone:2 example.test. SOA",
				"main.zone:3 example.test. NS",
				"main.zone:4 ns1.example.test. A",
				"main.zone:5 host1.example.test. A",
				"main.zone:5 host2.example.test. A",
				"main.zone:5 host3.example.test. A",
				"main.zone:6 0a.example.test. TXT",
				"main.zone:6 0c.example.test. TXT",
				"main.zone:6 0e.example.test. TXT",
				"main.zone:7 after.example.test. A",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			z, err := Load(filepath.Join(dir, "main.zone"), "example.test.", LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, positions(z, dir), tt.want)
		})
	}
}

// TestLoadTTL checks default TTLs: $TTL, the last explicit TTL, and
// $GENERATE records, which get the zone's default TTL (miekg/dns alone
// would give them 3600).
func TestLoadTTL(t *testing.T) {
	t.Parallel()
	text := `@ 300 IN SOA ns1 hostmaster 1 2 3 4 5
@ IN NS ns1
$TTL 60
a IN A 192.0.2.1
b 10 IN A 192.0.2.2
c IN A 192.0.2.3
$GENERATE 1-1 g$ A 192.0.2.$
$GENERATE 1-1 h$ 7 A 192.0.2.$
`
	z, err := Parse(strings.NewReader(text), "example.test.", "t.zone", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{"example.test./SOA": 300, "example.test./NS": 300, "a.example.test./A": 60,
		"b.example.test./A": 10, "c.example.test./A": 60, "g1.example.test./A": 60, "h1.example.test./A": 7}
	for _, r := range z.Records {
		h := r.RR.Header()
		key := h.Name + "/" + dns.TypeToString[h.Rrtype]
		if h.Ttl != want[key] {
			t.Errorf("%s: TTL %d, want %d", key, h.Ttl, want[key])
		}
	}
}

// TestLoadErrors checks that syntax errors, unreadable includes and
// unservable records fail the load with the file and line at fault.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  string // the whole error, with the temp dir removed
	}{
		{"bad IPv4", map[string]string{"main.zone": soaNS + "www IN A 192.0.2.256\n"},
			`main.zone:5: bad A A: "192.0.2.256"`},
		{"bad line inside parentheses", map[string]string{"main.zone": soaNS + "www IN MX (\n 10\n bad..name )\n"},
			`main.zone:7: bad MX Mx: "bad..name"`},
		{"missing rdata mid-file", map[string]string{"main.zone": soaNS + "www IN A\nx IN A 192.0.2.1\n"},
			`main.zone:5: unexpected newline`},
		{"missing rdata at the end", map[string]string{"main.zone": soaNS + "www IN A "},
			`main.zone:5: bad A A`},
		{"unknown type", map[string]string{"main.zone": soaNS + "www IN FOOBAR 1\n"},
			`main.zone:5: not a TTL or a known type: "FOOBAR"`},
		{"no TTL anywhere", map[string]string{"main.zone": "@ IN SOA ns1 hostmaster 1 2 3 4 5\n"},
			`main.zone:1: record has no TTL and no $TTL precedes it`},
		{"error in an include", map[string]string{"main.zone": soaNS + "$INCLUDE inc/a.inc\n", "inc/a.inc": "ok IN A 192.0.2.1\n\nbad IN AAAA 1.2.3.4\n"},
			`inc/a.inc:3: bad AAAA AAAA: "1.2.3.4"`},
		{"include missing", map[string]string{"main.zone": soaNS + "\n$INCLUDE nothere.inc\n"},
			`main.zone:6: $INCLUDE nothere.inc: open nothere.inc: no such file or directory`},
		{"include a directory", map[string]string{"main.zone": soaNS + "$INCLUDE inc\n", "inc/x": ""},
			`main.zone:5: $INCLUDE inc: not a regular file`},
		{"error in a generated record", map[string]string{"main.zone": soaNS + "\n$GENERATE 1-3 h$ A 192.0.2.${253}\n"},
			`main.zone:6: bad A A: "192.0.2.256"`},
		{"bad generate range", map[string]string{"main.zone": soaNS + "$GENERATE 3-1 h$ A 192.0.2.$\n"},
			`main.zone:5: bad range in $GENERATE range: "3-1"`},
		{"generate template is a directive", map[string]string{"main.zone": soaNS + `$GENERATE 1-3 \$INCLUDE x` + "\n"},
			`main.zone:5: $GENERATE template must be a record, not a directive`},
		{"name too long after the origin", map[string]string{"main.zone": soaNS + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 50) + " IN A 192.0.2.1\n"},
			`main.zone:5: record cannot be decoded from its wire form: domain name exceeded 255 wire-format octets`},
		{"extra closing parenthesis", map[string]string{"main.zone": soaNS + "www IN A 192.0.2.1 )\n"},
			`main.zone:5: garbage after rdata: "extra closing brace"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := Load(filepath.Join(dir, "main.zone"), "example.test.", LoadOptions{})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want a *LoadError", err, err)
			}
			if got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""); got != tt.want {
				t.Errorf("error\n\t%s\nwant\n\t%s", got, tt.want)
			}
			if le.Line == 0 || le.File == "" {
				t.Errorf("LoadError without position: %+v", le)
			}
		})
	}
}

// TestLoadParseErrorUnwraps checks that syntax errors keep miekg/dns's
// *dns.ParseError reachable.
func TestLoadParseErrorUnwraps(t *testing.T) {
	t.Parallel()
	_, err := Parse(strings.NewReader(soaNS+"www IN A x\n"), "example.test.", "z", LoadOptions{})
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v does not unwrap to *dns.ParseError", err)
	}
}

// TestLoadLimits proves each limit in limits.go holds, with the error at
// the line that crossed it.
func TestLoadLimits(t *testing.T) {
	t.Parallel()
	many := func(n int, line func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(line(i) + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name  string
		opts  LoadOptions
		files map[string]string
		limit string
		want  string // error prefix, temp dir removed
	}{
		{"include depth", LoadOptions{MaxIncludeDepth: 2},
			map[string]string{"main.zone": soaNS + "$INCLUDE a.inc\n", "a.inc": "$INCLUDE b.inc\n", "b.inc": "\n$INCLUDE c.inc\n", "c.inc": "x IN A 192.0.2.1\n"},
			"MaxIncludeDepth", "b.inc:2: $INCLUDE nesting exceeds the limit of 2"},
		{"include cycle at the default depth", LoadOptions{},
			map[string]string{"main.zone": soaNS + "$INCLUDE main.zone\n"},
			"MaxIncludeDepth", "main.zone:5: $INCLUDE nesting exceeds the limit of 5"},
		{"generate steps", LoadOptions{MaxGenerateSteps: 100},
			map[string]string{"main.zone": soaNS + "$GENERATE 1-100 a$ A 192.0.2.1\n$GENERATE 0-100 b$ A 192.0.2.1\n"},
			"MaxGenerateSteps", "main.zone:6: $GENERATE of 101 steps exceeds the limit of 100"},
		{"generate steps default", LoadOptions{},
			map[string]string{"main.zone": soaNS + "$GENERATE 0-65535 h$ A 192.0.2.1\n"},
			"MaxGenerateSteps", "main.zone:5: $GENERATE of 65536 steps exceeds the limit of 10000"},
		{"records", LoadOptions{MaxRecords: 10},
			map[string]string{"main.zone": soaNS + many(8, func(i int) string { return "h" + itoa(i) + " IN A 192.0.2.1" })},
			"MaxRecords", "main.zone:12: the number of records exceeds the limit of 10"},
		{"records by generate", LoadOptions{MaxRecords: 10},
			map[string]string{"main.zone": soaNS + "$GENERATE 1-20 h$ A 192.0.2.1\n"},
			"MaxRecords", "main.zone:5: the number of records exceeds the limit of 10"},
		{"RRset size", LoadOptions{},
			map[string]string{"main.zone": soaNS + many(101, func(i int) string { return "big IN A 10.0." + itoa(i/256) + "." + itoa(i%256) })},
			"MaxRRsPerRRset", "main.zone:105: the RRset big.example.test. A of 101 records exceeds the limit of 100"},
		{"types per name", LoadOptions{MaxTypesPerName: 3},
			map[string]string{"main.zone": soaNS + "x IN A 192.0.2.1\nx IN AAAA ::1\nx IN TXT \"t\"\nx IN MX 1 .\n"},
			"MaxTypesPerName", "main.zone:8: the number of types at x.example.test. exceeds the limit of 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := Load(filepath.Join(dir, "main.zone"), "example.test.", tt.opts)
			var lim *LimitError
			if !errors.As(err, &lim) || lim.Limit != tt.limit {
				t.Fatalf("error %v, want a %s *LimitError", err, tt.limit)
			}
			if got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error\n\t%s\nwant prefix\n\t%s", got, tt.want)
			}
		})
	}
}

// TestLoadDuplicatesDoNotCountTowardsRRsetLimit: exact duplicates are
// one record (New keeps them once), so they do not trip MaxRRsPerRRset.
func TestLoadDuplicatesDoNotCountTowardsRRsetLimit(t *testing.T) {
	t.Parallel()
	text := soaNS + strings.Repeat("dup IN A 192.0.2.1\n", 300)
	z, err := Parse(strings.NewReader(text), "example.test.", "z", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(z.Node("dup.example.test.").RRsets[dns.TypeA]); n != 1 {
		t.Errorf("dup has %d A records, want 1", n)
	}
}

// TestLoadOrigin checks how the origin is found when none is given.
func TestLoadOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, origin, want string
		err                      error
	}{
		{"given", soaNS, "example.test", "example.test.", nil},
		{"SOA owner", "$TTL 60\nexample.test. IN SOA ns1 h 1 2 3 4 5\nwww IN A 192.0.2.1\n", "", "example.test.", nil},
		{"$ORIGIN", "$ORIGIN example.test.\n$TTL 60\n@ IN SOA ns1 h 1 2 3 4 5\n", "", "example.test.", nil},
		{"$ORIGIN without SOA", "$TTL 60\n$ORIGIN Example.TEST.\nwww IN A 192.0.2.1\n", "", "example.test.", nil},
		{"relative SOA owner", soaNS, "", "", ErrNoOrigin},
		{"nothing", "$TTL 60\nwww.example.test. IN A 192.0.2.1\n", "", "", ErrNoOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z, err := Parse(strings.NewReader(tt.text), tt.origin, "z", LoadOptions{})
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil && z.Origin != tt.want {
				t.Errorf("origin %q, want %q", z.Origin, tt.want)
			}
		})
	}
	if _, err := Parse(strings.NewReader(soaNS), "bad..origin", "z", LoadOptions{}); err == nil || !strings.HasPrefix(err.Error(), "zone: ") {
		t.Errorf("bad origin: error %v, want a zone: error", err)
	}
}

// TestLoadRelativePath loads a file named relative to the working
// directory, whose $INCLUDE is relative to the file's own directory.
func TestLoadRelativePath(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"zones/main.zone":     soaNS + "$INCLUDE inc/hosts.inc\n",
		"zones/inc/hosts.inc": "h IN A 192.0.2.5\n",
	})
	t.Chdir(dir)
	z, err := Load(filepath.Join("zones", "main.zone"), "example.test.", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := z.Records[len(z.Records)-1]
	if want := filepath.Join("zones", "inc", "hosts.inc") + ":1"; last.Where() != want {
		t.Errorf("included record at %s, want %s", last.Where(), want)
	}
	if _, err := Load("missing.zone", "example.test.", LoadOptions{}); err == nil || !strings.HasPrefix(err.Error(), "zone: open missing.zone") {
		t.Errorf("missing file: error %v", err)
	}
}

// TestLoadErrorOrder checks that of a syntax error and an exceeded limit,
// the one earlier in the file is reported.
func TestLoadErrorOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"syntax error first", soaNS + "bad IN A x\n$GENERATE 1-20 h$ A 192.0.2.1\n", `f:5: bad A A: "x"`},
		{"limit first", soaNS + "$GENERATE 1-20 h$ A 192.0.2.1\nbad IN A x\n", "f:5: $GENERATE of 20 steps exceeds the limit of 10 (MaxGenerateSteps)"},
		{"bad $TTL before a limit", soaNS + "$TTL x\n$GENERATE 1-20 h$ A 192.0.2.1\n", `f:5: expecting $TTL value, not this...: "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tt.text), "example.test.", "f", LoadOptions{MaxGenerateSteps: 10})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n\t%v\nwant\n\t%s", err, tt.want)
			}
		})
	}
}

// TestPositionMapperRandomZones builds random zone texts in which each
// record's first TXT string names the line the record starts on, mixing
// comments (holding quotes and parentheses), blank lines, directives,
// blank owners, quoted strings with escapes, semicolons and parentheses,
// records spread over lines, and CRLF line ends. The mapper must put
// every record on the line its text names.
func TestPositionMapperRandomZones(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for iter := range 300 {
		var b strings.Builder
		line := 1
		nl := "\n"
		if iter%5 == 0 {
			nl = "\r\n"
		}
		emit := func(s string) { // s may hold "\n"
			b.WriteString(strings.ReplaceAll(s, "\n", nl))
			line += strings.Count(s, "\n")
		}
		emit("$TTL 60\n@ IN SOA ns1 hostmaster 1 2 3 4 5 ; line 2\n")
		for range 5 + rng.IntN(20) {
			switch rng.IntN(6) {
			case 0:
				emit(pick("\n", "; a comment with \"quote and ( paren\n", "   \n", "\t; ) stray\n"))
			case 1:
				emit(pick("$TTL 30\n", "$ORIGIN example.test.\n", "$TTL 1h ; comment (\n"))
			default:
				owner := pick("www", "a.b", "@", "x\\.y", "")
				rec := owner + pick(" ", "\t") + pick("", "10 ", "IN ", "20 IN ", "IN 20 ") + "TXT "
				if owner == "" {
					rec = " " + rec
				}
				rec += `"L` + itoa(line) + `"`
				for range rng.IntN(4) {
					rec += pick(" ", "\t") + pick(`"a;b"`, `"q\"q"`, `"(p)"`, `"back\\"`, "plain", `"semi;colon (x"`, `""`)
				}
				if rng.IntN(3) == 0 {
					rec += " ( " + pick(`"m1"`, "m2") + " ; inside (\n   " + pick(`"m3"`, `"m;4"`, "m5") + pick(" )", ")", " ) ; after")
				}
				emit(rec + pick("", " ; tail \"q", " ;") + "\n")
			}
		}
		text := b.String()
		z, err := Parse(strings.NewReader(text), "example.test.", "r.zone", LoadOptions{})
		if err != nil {
			t.Fatalf("zone %d: %v\n%s", iter, err, text)
		}
		for _, r := range z.Records {
			txt, ok := r.RR.(*dns.TXT)
			if !ok {
				continue
			}
			if want := "L" + itoa(r.Line); txt.Txt[0] != want {
				t.Fatalf("zone %d: record %q mapped to line %d\n%s", iter, r.RR, r.Line, text)
			}
		}
	}
}

// TestLoadIncludeCount proves maxIncludeFiles: a flat list of includes,
// each within the depth limit, still stops at the limit.
func TestLoadIncludeCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.zone": soaNS + strings.Repeat("$INCLUDE empty.inc\n", maxIncludeFiles+1),
		"empty.inc": "; nothing\n",
	})
	_, err := Load(filepath.Join(dir, "main.zone"), "example.test.", LoadOptions{})
	var lim *LimitError
	if !errors.As(err, &lim) || lim.Limit != "maxIncludeFiles" {
		t.Fatalf("error %v, want the maxIncludeFiles limit", err)
	}
	if want := "main.zone:" + itoa(5+maxIncludeFiles) + ":"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it at %s", err, want)
	}
}
