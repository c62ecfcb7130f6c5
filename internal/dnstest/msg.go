package dnstest

import (
	"testing"

	"github.com/miekg/dns"
)

// QueryID is the ID of the queries Query builds.
const QueryID = 0x5353

// Query returns a query for name and qtype, class IN, ID QueryID, no
// flags: what a resolver sends an authoritative server. name is used as
// given, case included, and made fully qualified.
func Query(name string, qtype uint16) *dns.Msg {
	m := &dns.Msg{Question: []dns.Question{{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}}}
	m.Id = QueryID
	return m
}

// EDNS adds an OPT record to m (RFC 6891): version 0, UDP payload size,
// the DO bit and the given options. It returns m.
func EDNS(m *dns.Msg, size uint16, do bool, opts ...dns.EDNS0) *dns.Msg {
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: size}, Option: opts}
	if do {
		opt.SetDo()
	}
	m.Extra = append(m.Extra, opt)
	return m
}

// OPT returns m's OPT record, or nil.
func OPT(m *dns.Msg) *dns.OPT {
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			return opt
		}
	}
	return nil
}

// Exchange sends m to h as a client on network ("udp" or "tcp") would:
// m is packed and unpacked, served through a Recorder, and the reply
// comes back unpacked from its wire form. It returns nil when h wrote
// nothing, and stops the test when h wrote more than one message or
// something that does not unpack.
func Exchange(t testing.TB, h dns.Handler, m *dns.Msg, network string) *dns.Msg {
	t.Helper()
	wire, err := m.Pack()
	if err != nil {
		t.Fatalf("dnstest: pack query: %v", err)
	}
	req := new(dns.Msg)
	if err := req.Unpack(wire); err != nil {
		t.Fatalf("dnstest: unpack query: %v", err)
	}
	rec := NewRecorder(network)
	h.ServeDNS(rec, req)
	if rec.Writes > 1 {
		t.Fatalf("dnstest: handler wrote %d messages", rec.Writes)
	}
	return rec.Msg
}
