// Package presubmit holds repository-wide checks that no compiler makes:
// imports point down the layers of ARCHITECTURE.md, package names match
// their directories, and error strings are lowercase.
package presubmit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

const module = "github.com/rensa-dns/rensa/"

// layers ranks every package directory; a package may import only packages
// of a strictly lower layer. A new package must be added here, which is the
// moment to decide where it belongs (see ARCHITECTURE.md).
var layers = map[string]int{
	"internal/dnsname": 0,

	"internal/zone":      1,
	"internal/transport": 1,
	"internal/ratelimit": 1,
	"internal/cookie":    1,
	"internal/config":    1,
	"internal/wire":      1,

	"internal/dnssec":  2,
	"internal/dnstest": 2,

	"internal/resolver/cache":    3,
	"internal/resolver/validate": 3,

	"internal/auth":     4,
	"internal/resolver": 4,
	"internal/server":   4,

	"internal/audit/caa":      5,
	"internal/audit/takeover": 5,
	"internal/audit/chain":    5,
	"internal/audit/amp":      5,
	"internal/testbed":        5,

	"internal/lab": 6,

	"internal/testbed/testresolver": 6,
	"internal/interop":              6,

	"cmd/rensa":        7,
	"bench/plainmiekg": 7,
	".":                8,
}

type goFile struct {
	dir  string
	name string
	test bool
	ast  *ast.File
}

func parseTree(t *testing.T) []goFile {
	t.Helper()
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		full, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		files = append(files, goFile{dir: filepath.ToSlash(filepath.Dir(p)), name: p, test: strings.HasSuffix(p, "_test.go"), ast: full})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestImportsPointDown enforces the layer table for non-test files. Test
// files may import any package below the commands.
func TestImportsPointDown(t *testing.T) {
	for _, f := range parseTree(t) {
		from, ok := layers[f.dir]
		if !ok {
			t.Errorf("%s: package directory %q is not in the layer table of presubmit_test.go", f.name, f.dir)
			continue
		}
		for _, imp := range f.ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			to := strings.TrimPrefix(p, module)
			if f.test && to == "internal/dnstest" {
				continue
			}
			lv, ok := layers[to]
			if !ok {
				t.Errorf("%s imports %s, which is not in the layer table", f.name, to)
				continue
			}
			// Test files may use anything below the commands: integration
			// tests of a low package run it inside the testbed, for example.
			if f.test && lv < layers["cmd/rensa"] {
				continue
			}
			if lv >= from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", f.name, from, to, lv)
			}
		}
	}
}

// TestPackageNamesMatchDirectories keeps package names predictable.
func TestPackageNamesMatchDirectories(t *testing.T) {
	for _, f := range parseTree(t) {
		want := path.Base(f.dir)
		switch f.dir {
		case "cmd/rensa", "bench/plainmiekg":
			want = "main"
		case ".":
			want = "presubmit"
		}
		got := strings.TrimSuffix(f.ast.Name.Name, "_test")
		if got != want {
			t.Errorf("%s: package %s, want %s", f.name, f.ast.Name.Name, want)
		}
	}
}

// TestErrorStringsLowercase checks errors.New and fmt.Errorf literals in
// non-test files: Go errors start lowercase (they are wrapped into longer
// messages) and do not end with punctuation.
func TestErrorStringsLowercase(t *testing.T) {
	for _, f := range parseTree(t) {
		if f.test {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok || !(pkg.Name == "errors" && sel.Sel.Name == "New" || pkg.Name == "fmt" && sel.Sel.Name == "Errorf") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			if s == "" {
				return true
			}
			first := []rune(s)[0]
			if unicode.IsUpper(first) && !startsWithAcronym(s) {
				t.Errorf("%s: error string %q starts with a capital letter", f.name, s)
			}
			if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "\n") {
				t.Errorf("%s: error string %q ends with punctuation or newline", f.name, s)
			}
			return true
		})
	}
}

// startsWithAcronym allows "DNSSEC ...", "TCP ...", "SOA ...".
func startsWithAcronym(s string) bool {
	word := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(word) == 0 {
		return false
	}
	w := word[0]
	return len(w) > 1 && strings.ToUpper(w) == w
}
