package zone

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzOptions keep fuzzed zones small so that each input runs fast.
var fuzzOptions = LoadOptions{MaxRecords: 500, MaxGenerateSteps: 100}

// FuzzParse feeds master-file text to Parse and Check. Properties:
//   - neither panics, and every load error is a *LoadError or says "zone:";
//   - every record loaded has the position of its file and a line (the
//     position mapper agrees with miekg/dns's parser);
//   - printing the records and parsing them again gives the same set
//     (the round trip is stable).
//
// Run it with: go test -run=^$ -fuzz=FuzzParse -fuzztime=10s ./internal/zone/
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*.zone"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil && !hasInclude(data) {
			f.Add(data)
		}
	}
	for _, s := range []string{
		soaNS,
		soaNS + "$GENERATE 1-3 h$ A 192.0.2.$\n",
		soaNS + "t IN TXT ( \"a;b\" \n \"c\" ) ; c\n",
		soaNS + "w IN A\n",
		soaNS + "x IN TYPE1234 \\# 2 abcd\n",
		"$ORIGIN a.\n$TTL 1\n@ SOA a. b. 1 2 3 4 5\n",
		"@ 1 IN SOA a b 1 2 3 4 5\n   IN NS a\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if hasInclude(data) {
			t.Skip("$INCLUDE would read files outside the test")
		}
		z, err := Parse(bytes.NewReader(data), "example.test.", "fuzz.zone", fuzzOptions)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) && !strings.HasPrefix(err.Error(), "zone: ") {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		for _, fd := range z.Check() {
			if fd.Severity != Error && fd.Severity != Warning {
				t.Fatalf("finding with severity %d: %v", fd.Severity, fd)
			}
		}
		for _, r := range z.Records {
			if r.File != "fuzz.zone" || r.Line <= 0 {
				t.Fatalf("record %v at %q: the position mapper and the parser disagree", r.RR, r.Where())
			}
		}
		var text strings.Builder
		for _, r := range z.Records {
			text.WriteString(r.RR.String() + "\n")
		}
		z2, err := Parse(strings.NewReader(text.String()), "example.test.", "printed.zone", fuzzOptions)
		if err != nil {
			t.Fatalf("printed records do not parse: %v\n%s", err, text.String())
		}
		if a, b := recordSet(z), recordSet(z2); !slices.Equal(a, b) {
			t.Fatalf("round trip changed the records:\nfirst\n\t%s\nsecond\n\t%s", strings.Join(a, "\n\t"), strings.Join(b, "\n\t"))
		}
	})
}

// hasInclude reports whether text may hold an $INCLUDE directive:
// parentheses and carriage returns vanish inside tokens.
func hasInclude(data []byte) bool {
	clean := bytes.Map(func(r rune) rune {
		if r == '(' || r == ')' || r == '\r' {
			return -1
		}
		return r
	}, data)
	return bytes.Contains(bytes.ToLower(clean), []byte("$include"))
}

// recordSet returns the records of z printed, sorted, without duplicates.
func recordSet(z *Zone) []string {
	out := make([]string, 0, len(z.Records))
	for _, r := range z.Records {
		out = append(out, r.RR.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
