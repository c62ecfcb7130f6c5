package takeover_test

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
)

// Records to check come from zone files (FromZone), from names
// (Scanner.Discover), or from single records.
func ExampleFromRR() {
	rr, _ := dns.NewRR("sub.example.test. 300 CNAME sub.example.cdnprovider.test.")
	rec, ok := takeover.FromRR(rr)
	fmt.Println(ok, rec.Owner, "->", rec.Target)
	nullMX, _ := dns.NewRR("example.test. 300 MX 0 .")
	_, ok = takeover.FromRR(nullMX)
	fmt.Println(ok)
	// Output:
	// true sub.example.test. -> sub.example.cdnprovider.test.
	// false
}

// The embedded fingerprints recognise takeover-prone services by their
// CNAME suffixes and say what their "nothing here" answer looks like.
func ExampleDefaultFingerprints() {
	fps, err := takeover.DefaultFingerprints()
	if err != nil {
		panic(err)
	}
	for _, f := range fps {
		if f.MatchesName("assets.s3.amazonaws.com.") {
			fmt.Printf("%s (%s): %q\n", f.Service, f.Status, f.Fingerprint)
		}
	}
	// Output:
	// AWS/S3 (Vulnerable): "The specified bucket does not exist"
}

// --fail-on takes a severity name.
func ExampleParseSeverity() {
	s, _ := takeover.ParseSeverity("medium")
	fmt.Println(s, takeover.High > s)
	// Output: medium true
}
