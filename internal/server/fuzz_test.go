package server

import (
	"encoding/binary"
	"log/slog"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// FuzzServePacket feeds arbitrary datagrams to servePacket, the whole of what the server
// does with one: it must not panic, and any reply must unpack and carry the query's ID.
// Run it with: go test -run=^$ -fuzz=FuzzServePacket -fuzztime=10s ./internal/server/
func FuzzServePacket(f *testing.F) {
	for _, in := range badInputs(f) {
		f.Add(in.msg)
	}
	f.Add(query(f, 1, "www.example.test."))
	f.Add(query(f, 2, "panic.test."))
	signed := new(dns.Msg)
	signed.SetQuestion("signed.test.", dns.TypeSOA)
	signed.SetEdns0(1232, true)
	if wire, err := signed.Pack(); err == nil {
		f.Add(wire)
	}

	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if len(r.Question) == 1 && r.Question[0].Name == "panic.test." {
			panic("handler bug")
		}
		answerA(w, r)
	})
	srv, err := New(Config{Handler: handler, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}
	f.Fuzz(func(t *testing.T, datagram []byte) {
		reply := srv.servePacket(newTestSlot(), datagram, remote)
		if reply == nil {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(reply); err != nil {
			t.Fatalf("reply does not unpack: %v", err)
		}
		if id := binary.BigEndian.Uint16(datagram); m.Id != id {
			t.Fatalf("reply ID %d, query ID %d", m.Id, id)
		}
	})
}
