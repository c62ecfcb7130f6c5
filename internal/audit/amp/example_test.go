package amp_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/audit/amp"
	"github.com/rensa-dns/rensa/internal/server"
)

// Example audits a server that refuses everything: its replies are no
// larger than the queries, so it is no amplifier.
func Example() {
	refuse := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeRefused)
		w.WriteMsg(m)
	})
	srv, _ := server.New(server.Config{Handler: refuse, Logger: slog.New(slog.DiscardHandler), UDPSockets: 1})
	addr, _, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	a, err := amp.New(amp.Config{Target: addr.(*net.UDPAddr).AddrPort(), Burst: amp.MinLimited})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := a.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Verdict.Status, rep.Verdict.Bad, rep.Recursion.Offered)
	// Output: ok false false
}
