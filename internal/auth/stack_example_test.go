package auth_test

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/ratelimit"
	"github.com/rensa-dns/rensa/internal/zone"
)

// A spoofed flood of one question from one /24 meets the same rate limit on
// the fast path as behind the middleware: five answers a second, then
// drops, every second one slipping out as a tiny TC=1 reply.
func ExampleNewStack() {
	var records []zone.Record
	for _, text := range []string{
		"example. 3600 IN SOA ns.example. admin.example. 1 7200 3600 1209600 300",
		"example. 3600 IN NS  ns.example.",
		"www.example. 3600 IN A 192.0.2.1",
	} {
		rr, err := dns.NewRR(text)
		if err != nil {
			panic(err)
		}
		records = append(records, zone.Record{RR: rr})
	}
	engine, err := auth.New(auth.Config{Zones: zone.NewSet(zone.New("example.", records))})
	if err != nil {
		panic(err)
	}
	now := time.Unix(1700000000, 0)
	st, err := auth.NewStack(engine, auth.StackConfig{RRL: ratelimit.Config{Now: func() time.Time { return now }}})
	if err != nil {
		panic(err)
	}
	// In a server: server.Config{Handler: st.Handler, RawHandler: st.RawHandler}.
	// Here, the fast path alone: it compiles the reply on the second query.
	q := new(dns.Msg)
	q.SetQuestion("www.example.", dns.TypeA)
	wire, err := q.Pack()
	if err != nil {
		panic(err)
	}
	for range 2 {
		st.FastPath.AnswerRaw(wire, "udp", nil)
	}
	victim := &net.UDPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 53}
	var got []string
	for range 9 {
		reply, ok := st.RawHandler(wire, "udp", victim, nil)
		switch {
		case !ok:
			got = append(got, "engine")
		case len(reply) == 0:
			got = append(got, "drop")
		case reply[2]&0x02 != 0:
			got = append(got, fmt.Sprintf("TC(%d octets)", len(reply)))
		default:
			got = append(got, fmt.Sprintf("answer(%d octets)", len(reply)))
		}
	}
	fmt.Println(strings.Join(got, " "))
	fmt.Printf("%+v\n", st.Limiter.Stats())
	// Output:
	// answer(45 octets) answer(45 octets) answer(45 octets) answer(45 octets) answer(45 octets) drop TC(29 octets) drop TC(29 octets)
	// {Answered:5 Dropped:2 Slipped:2 Exempt:0 Entries:1}
}
