package caa_test

import (
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/audit/caa"
	"github.com/rensa-dns/rensa/internal/zone"
)

func TestCAALint(t *testing.T) {
	t.Parallel()
	text := `$ORIGIN example.test.
@        300 SOA ns h 1 7200 900 1209600 300
@        300 NS ns
ns       300 A 192.0.2.1
@        300 CAA 0 issue "ca.example.net"
@        300 CAA 0 iodef "mailto:security@example.test"
ok2      300 CAA 0 issue "letsencrypt.org; accounturi=https://acme.example/acct/1; validationmethods=dns-01,http-01"
crit     300 CAA 128 tbs "x"
unknown  300 CAA 0 tbs "x"
bad      300 CAA 0 issue "ca.example.net; a_b=1"
badname  300 CAA 0 issue "%%%"
wildonly 300 CAA 0 issuewild "ca.example.net"
contra   300 CAA 0 issue ";"
contra   300 CAA 0 issue "ca.example.net"
iodef    300 CAA 0 iodef "ftp://example.test/"
reserved 300 CAA 1 issue "ca.example.net"
twice    300 CAA 0 issue "ca.example.net; accounturi=a; accounturi=b"
dup      300 CAA 0 issue "ca.example.net"
dup      300 CAA 0 ISSUE "ca.example.net"
mail     300 CAA 0 issuemail "mail.example.net"
`
	z, err := zone.Parse(strings.NewReader(text), "example.test.", "example.test.zone", zone.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range caa.Lint(z.Records) {
		if f.File != "example.test.zone" || f.Line == 0 {
			t.Errorf("finding without position: %s", f)
		}
		got[strings.TrimSuffix(f.Name, ".example.test.")] = append(got[strings.TrimSuffix(f.Name, ".example.test.")], string(f.Severity)+": "+f.Message)
	}
	for name, want := range map[string]string{
		"crit":     "error: unknown property \"tbs\" is marked critical",
		"unknown":  "warning: unknown property \"tbs\" is ignored",
		"bad":      "error: issue value",
		"badname":  "error: issue value \"%%%\"",
		"wildonly": "warning: issuewild without issue",
		"contra":   "warning: contradiction",
		"iodef":    "error: iodef \"ftp://example.test/\"",
		"reserved": "warning: flags 1 set reserved bits",
		"twice":    "error: issue value",
		"dup":      "warning: duplicate property",
	} {
		if len(got[name]) != 1 || !strings.HasPrefix(got[name][0], want) {
			t.Errorf("%s: findings %q, want one starting %q", name, got[name], want)
		}
	}
	for _, name := range []string{"example.test.", "ok2", "mail"} {
		if len(got[name]) != 0 {
			t.Errorf("%s: unexpected findings %q", name, got[name])
		}
	}
}
