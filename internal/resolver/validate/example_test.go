package validate_test

import (
	"context"
	"fmt"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver/validate"
)

// A Fetch that gets no replies leaves nothing provable: the verdict is
// Bogus (fail closed), with the reason as an Extended DNS Error.
func ExampleValidator_Validate() {
	v, err := validate.New(validate.Config{}) // the IANA root KSKs
	if err != nil {
		panic(err)
	}
	offline := func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
		return nil, fmt.Errorf("offline")
	}
	vd := v.Validate(context.Background(), dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, offline)
	fmt.Println(vd.Security, vd.EDE.InfoCode)
	// Output: bogus 6
}
