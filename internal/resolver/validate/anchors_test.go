package validate

import (
	"os"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestIANARootAnchors: the built-in anchors are KSK-2017 and KSK-2024.
func TestIANARootAnchors(t *testing.T) {
	a := IANARootAnchors()
	var tags []uint16
	for _, ds := range a.DS["."] {
		tags = append(tags, ds.KeyTag)
	}
	if len(tags) != 2 || tags[0] != 20326 || tags[1] != 38696 {
		t.Errorf("root anchor tags %v, want [20326 38696]", tags)
	}
}

// debianRootKey is the form of Debian's /usr/share/dns/root.key: the
// root KSKs as DNSKEY lines.
const debianRootKey = `. IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU= ; keytag 20326
`

// TestParseAnchors reads DNSKEY and DS anchors, checks that Debian's
// root.key DNSKEY hashes to the built-in KSK-2017 DS, and rejects other
// records and empty files.
func TestParseAnchors(t *testing.T) {
	a, err := ParseAnchors(strings.NewReader(debianRootKey), "root.key")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Keys["."]) != 1 || a.Keys["."][0].KeyTag() != 20326 {
		t.Fatalf("keys %v", a.Keys)
	}
	ds := a.Keys["."][0].ToDS(dns.SHA256)
	if !strings.EqualFold(ds.Digest, IANARootAnchors().DS["."][0].Digest) {
		t.Errorf("root.key KSK-2017 digest %s does not match the built-in DS", ds.Digest)
	}
	if _, err := ParseAnchors(strings.NewReader(". IN A 192.0.2.1\n"), "x"); err == nil {
		t.Error("an A record was accepted as a trust anchor")
	}
	if _, err := ParseAnchors(strings.NewReader("; nothing\n"), "x"); err == nil {
		t.Error("an empty file was accepted")
	}
	if _, err := os.Stat("/usr/share/dns/root.key"); err == nil {
		if _, err := ReadAnchors("/usr/share/dns/root.key"); err != nil {
			t.Errorf("Debian's root.key: %v", err)
		}
	}
}
