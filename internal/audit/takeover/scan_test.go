package takeover_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rensa-dns/rensa/internal/audit/takeover"
	"github.com/rensa-dns/rensa/internal/testbed"
)

// providerHierarchy is the world of the takeover tests: a root, the TLDs
// test. and com., a CDN provider (cdnprovider.test.), a DNS host whose
// server does not serve the zone delegated to it (lame-dns.test.), a
// hoster for healthy delegations, S3 (any bucket name resolves to
// 127.0.0.1, where the test's web server answers) and the customer zone
// given.
func providerHierarchy(customer, provider string) []testbed.ZoneSpec {
	root := zoneText(
		". 86400 SOA a.root-servers.test. hostmaster.root. 1 1800 900 604800 300",
		". 86400 NS a.root-servers.test.",
		"a.root-servers.test. 86400 A 127.53.0.1",
		"test. 86400 NS ns1.nic.test.",
		"ns1.nic.test. 86400 A 127.53.1.1",
		"com. 86400 NS ns1.nic.test.",
	)
	tld := zoneText(append(soaNS("test.", "ns1.nic.test.", "127.53.1.1"),
		"a.root-servers.test. 3600 A 127.53.0.1",
		"example.test. 3600 NS ns1.example.test.",
		"ns1.example.test. 3600 A 127.53.2.1",
		"cdnprovider.test. 3600 NS ns.cdnprovider.test.",
		"ns.cdnprovider.test. 3600 A 127.53.2.2",
		"lame-dns.test. 3600 NS ns.lame-dns.test.",
		"ns.lame-dns.test. 3600 A 127.53.2.3",
		"goodhost.test. 3600 NS ns.goodhost.test.",
		"ns.goodhost.test. 3600 A 127.53.2.4",
	)...)
	com := zoneText(
		"com. 3600 SOA ns1.nic.test. hostmaster.com. 1 7200 900 1209600 300",
		"com. 3600 NS ns1.nic.test.",
		"*.s3.amazonaws.com. 300 A 127.0.0.1",
	)
	specs := []testbed.ZoneSpec{
		{Origin: ".", Server: "127.53.0.1", Text: root},
		{Origin: "test.", Server: "127.53.1.1", Text: tld},
		{Origin: "com.", Server: "127.53.1.1", Text: com},
		{Origin: "example.test.", Server: "127.53.2.1", Text: customer},
		{Origin: "cdnprovider.test.", Server: "127.53.2.2", Text: provider},
		// The lame DNS host serves some other zone, not lame-dns.test.:
		// it answers REFUSED for names in it.
		{Origin: "decoy.test.", Server: "127.53.2.3", Text: zoneText(soaNS("decoy.test.", "ns.decoy.test.", "127.53.2.3")...)},
	}
	for i := 1; i <= 5; i++ {
		origin := fmt.Sprintf("goodsub%d.example.test.", i)
		specs = append(specs, testbed.ZoneSpec{Origin: origin, Server: "127.53.2.4", Text: zoneText(
			origin+" 3600 SOA ns.goodhost.test. h."+origin+" 1 7200 900 1209600 300",
			origin+" 3600 NS ns.goodhost.test.",
			origin+" 3600 A 192.0.2.40",
		)})
	}
	specs = append(specs, testbed.ZoneSpec{Origin: "goodhost.test.", Server: "127.53.2.4", Text: zoneText(soaNS("goodhost.test.", "ns.goodhost.test.", "127.53.2.4")...)})
	return specs
}

// scanWorld builds the customer zone of 50 dangling records (owners
// "dang-...") of every kind and 50 healthy ones ("ok-..."), and the
// provider zone they point into.
func scanWorld() (customer, provider string) {
	c := soaNS("example.test.", "ns1.example.test.", "127.53.2.1")
	p := soaNS("cdnprovider.test.", "ns.cdnprovider.test.", "127.53.2.2")
	add := func(n int, f func(i int)) {
		for i := 1; i <= n; i++ {
			f(i)
		}
	}
	// Dangling: 50.
	add(15, func(i int) { // CNAME to a released CDN name
		c = append(c, fmt.Sprintf("dang-cname%d CNAME released%d.cdnprovider.test.", i, i))
	})
	add(5, func(i int) { // CNAME chain ending in NXDOMAIN
		c = append(c, fmt.Sprintf("dang-chain%d CNAME chain%d.cdnprovider.test.", i, i))
		p = append(p, fmt.Sprintf("chain%d CNAME edge-gone%d.cdnprovider.test.", i, i))
	})
	add(5, func(i int) { // CNAME into a domain nobody registered
		c = append(c, fmt.Sprintf("dang-unreg%d CNAME www.unregistered%d.test.", i, i))
	})
	add(5, func(i int) { // CNAME into a zone whose server does not serve it
		c = append(c, fmt.Sprintf("dang-lame%d CNAME app%d.lame-dns.test.", i, i))
	})
	add(5, func(i int) { // MX to a released host
		c = append(c, fmt.Sprintf("dang-mx%d MX 10 mx-gone%d.cdnprovider.test.", i, i))
	})
	add(5, func(i int) { // SRV to a released host
		c = append(c, fmt.Sprintf("_sip._tcp.dang-srv%d SRV 10 60 5060 sip-gone%d.cdnprovider.test.", i, i))
	})
	add(5, func(i int) { // delegation to a name server that does not exist
		c = append(c, fmt.Sprintf("dang-ns%d NS ns-gone%d.cdnprovider.test.", i, i))
	})
	add(2, func(i int) { // delegation to a server that does not serve the zone
		c = append(c, fmt.Sprintf("dang-lamens%d NS ns.cdnprovider.test.", i))
	})
	add(3, func(i int) { // S3 bucket deleted: the page says so
		c = append(c, fmt.Sprintf("dang-http%d CNAME dang-bucket%d.s3.amazonaws.com.", i, i))
	})
	// Healthy: 50.
	add(25, func(i int) {
		c = append(c, fmt.Sprintf("ok-cname%d CNAME live%d.cdnprovider.test.", i, i))
		p = append(p, fmt.Sprintf("live%d A 192.0.2.%d", i, i))
	})
	add(5, func(i int) {
		c = append(c, fmt.Sprintf("ok-chain%d CNAME hop%d.cdnprovider.test.", i, i))
		p = append(p, fmt.Sprintf("hop%d CNAME live%d.cdnprovider.test.", i, i))
	})
	add(5, func(i int) {
		c = append(c, fmt.Sprintf("ok-mx%d MX 10 live%d.cdnprovider.test.", i, i))
	})
	add(5, func(i int) {
		c = append(c, fmt.Sprintf("_sip._tcp.ok-srv%d SRV 10 60 5060 live%d.cdnprovider.test.", i, i+5))
	})
	add(5, func(i int) {
		c = append(c, fmt.Sprintf("goodsub%d NS ns.goodhost.test.", i))
	})
	add(5, func(i int) {
		c = append(c, fmt.Sprintf("ok-http%d CNAME ok-bucket%d.s3.amazonaws.com.", i, i))
	})
	for i := range c[3:] {
		c[i+3] = strings.Replace(c[i+3], " ", " 300 IN ", 1)
	}
	return zoneText(c...), zoneText(p...)
}

// bucketServer is S3 on loopback: buckets named dang-* are gone.
func bucketServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "dang-") {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>")
			return
		}
		fmt.Fprint(w, "<html>welcome to "+r.Host+"</html>")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTakeoverScan: every one of 50 dangling records is found, with the
// right reason, and none of 50 healthy ones is flagged.
func TestTakeoverScan(t *testing.T) {
	t.Parallel()
	customer, provider := scanWorld()
	addr := startResolver(t, providerHierarchy(customer, provider))
	web := bucketServer(t)
	var progress []int
	s := newScanner(t, addr, takeover.Config{HTTP: true, HTTPDial: loopbackDial(web.Listener.Addr().String()),
		Progress: func(done, total int) { progress = append(progress, done) }})
	recs := zoneRecords(t, "example.test.", customer)
	rep, err := s.Scan(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("scan errors: %v", rep.Errors)
	}
	if rep.Scanned != len(recs) || len(progress) != len(recs) || progress[len(progress)-1] != len(recs) {
		t.Errorf("scanned %d, progress %d calls, want %d", rep.Scanned, len(progress), len(recs))
	}
	found := map[string]takeover.Finding{}
	for _, f := range rep.Findings {
		if !strings.Contains(f.Owner, "dang-") {
			t.Errorf("healthy record flagged: %s", f)
		}
		found[f.Owner] = f
	}
	wantReason := map[string]takeover.Reason{
		"dang-cname": takeover.ReasonNXDomain, "dang-chain": takeover.ReasonNXDomain, "dang-unreg": takeover.ReasonUnregistered,
		"dang-lame": takeover.ReasonLame, "dang-mx": takeover.ReasonNXDomain, "dang-srv": takeover.ReasonNXDomain,
		"dang-ns": takeover.ReasonNXDomain, "dang-lamens": takeover.ReasonLame, "dang-http": takeover.ReasonHTTP,
	}
	dangling := 0
	for _, r := range recs {
		if !strings.Contains(r.Owner, "dang-") {
			continue
		}
		dangling++
		f, ok := found[r.Owner]
		if !ok {
			t.Errorf("dangling record not found: %s", r.RR)
			continue
		}
		kind := strings.TrimRight(strings.Split(strings.TrimPrefix(r.Owner, "_sip._tcp."), ".")[0], "0123456789")
		if f.Reason != wantReason[kind] {
			t.Errorf("%s: reason %s, want %s: %s", r.Owner, f.Reason, wantReason[kind], f)
		}
		if f.Record == "" || f.Target == "" || f.Severity < takeover.Low || f.Confidence == "" {
			t.Errorf("%s: incomplete finding %+v", r.Owner, f)
		}
	}
	if dangling != 50 || len(recs)-dangling != 51 { // 50 healthy + the apex NS
		t.Errorf("world has %d dangling and %d other records, want 50 and 51", dangling, len(recs)-dangling)
	}
	http1 := found["dang-http1.example.test."]
	if http1.Service != "AWS/S3" || http1.Severity != takeover.High || http1.Confidence != takeover.ConfidenceHigh {
		t.Errorf("S3 finding: %s", http1)
	}
	if f := found["dang-chain1.example.test."]; !slices.Equal(f.Chain, []string{"edge-gone1.cdnprovider.test."}) {
		t.Errorf("chain finding: %+v", f)
	}
	if f := found["dang-unreg1.example.test."]; f.Severity != takeover.Critical {
		t.Errorf("unregistered finding: %s", f)
	}

	// Names instead of a zone file: the records are asked for.
	names := []string{"dang-cname1.example.test", "ok-cname1.example.test", "dang-mx1.example.test", "_sip._tcp.dang-srv1.example.test", "ok-mx1.example.test."}
	drecs, derrs, err := s.Discover(context.Background(), names)
	if err != nil || len(derrs) > 0 || len(drecs) != 5 {
		t.Fatalf("Discover: %d records %v %v", len(drecs), derrs, err)
	}
	rep, err = s.Scan(context.Background(), drecs)
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, f := range rep.Findings {
		owners = append(owners, f.Owner)
	}
	if !slices.Equal(owners, []string{"dang-cname1.example.test.", "dang-mx1.example.test.", "_sip._tcp.dang-srv1.example.test."}) {
		t.Errorf("findings from names: %v", owners)
	}
}

// TestTakeoverStory is the guide's story: sub.example.test points at the
// CDN; while the CDN name exists there is no finding; after the CDN
// releases it (the provider's zone reloaded without it) the scan names
// the record.
func TestTakeoverStory(t *testing.T) {
	t.Parallel()
	customer := zoneText(append(soaNS("example.test.", "ns1.example.test.", "127.53.2.1"),
		"sub.example.test. 300 CNAME sub.example.cdnprovider.test.")...)
	provider := soaNS("cdnprovider.test.", "ns.cdnprovider.test.", "127.53.2.2")
	recs := zoneRecords(t, "example.test.", customer)
	ctx := context.Background()

	before := newScanner(t, startResolver(t, providerHierarchy(customer, zoneText(append(provider, "sub.example.cdnprovider.test. 300 A 192.0.2.7")...))), takeover.Config{})
	rep, err := before.Scan(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Fatalf("while the CDN name exists: %v", rep.Findings)
	}

	after := newScanner(t, startResolver(t, providerHierarchy(customer, zoneText(provider...))), takeover.Config{})
	rep, err = after.Scan(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("after the CDN released the name: %v", rep.Findings)
	}
	f := rep.Findings[0]
	if f.Owner != "sub.example.test." || f.Target != "sub.example.cdnprovider.test." || f.Reason != takeover.ReasonNXDomain || !strings.Contains(f.Record, "sub.example.test.") {
		t.Errorf("finding: %s", f)
	}
}
