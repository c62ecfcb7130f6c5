package server

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"sort"
	"testing"

	"github.com/miekg/dns"
)

// badInput is a message the server must survive, and what it must answer (LIMITS.md "Bad
// input"): FORMERR with the query's ID when the header is readable and QR=0, else nothing.
type badInput struct {
	name     string
	msg      []byte
	formerr  bool   // want FORMERR; else no reply at all
	id       uint16 // the FORMERR's ID
	question string // the FORMERR's question name; "" for none, "*" for any
}

// header returns a 12-byte query header: ID, flags, then the four section counts.
func header(id, flags, qd, an, ns, ar uint16) []byte {
	var b []byte
	for _, v := range []uint16{id, flags, qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

// question returns the wire form of a question for name, type A, class IN.
func question(name string) []byte {
	b := make([]byte, 256)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	if err != nil {
		panic(err)
	}
	return append(b[:n], 0, 1, 0, 1)
}

func badInputs(t testing.TB) []badInput {
	garbage := make([]byte, 512)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	garbage[2] &^= qrBit

	response := new(dns.Msg)
	response.SetQuestion("reflect.test.", dns.TypeA)
	response.Response = true
	responseWire, err := response.Pack()
	if err != nil {
		t.Fatal(err)
	}

	return []badInput{
		{name: "empty", msg: []byte{}},
		{name: "header cut at 5 bytes", msg: header(0x1234, 0x0100, 1, 0, 0, 0)[:5]},
		{name: "header then garbage", msg: append(header(0xBEEF, 0x0100, 1, 0, 0, 0), 0xFF, 0xFF, 0x07, 0x00, 0x01),
			formerr: true, id: 0xBEEF},
		{name: "question then garbage record",
			msg:     append(append(header(0xC0DE, 0x0100, 1, 1, 0, 0), question("q.test.")...), 0xC0, 0xFF, 0x00),
			formerr: true, id: 0xC0DE, question: "q.test."},
		{name: "random 512 bytes, QR=0", msg: garbage, formerr: true,
			id: binary.BigEndian.Uint16(garbage), question: "*"},
		{name: "response", msg: responseWire},
		{name: "response garbage", msg: append(header(0x5555, 0x8100, 1, 0, 0, 0), 0xFF, 0xFF)},
	}
}

// oversizedUDP is the longest UDP datagram IPv4 carries (65535 bytes less the IP and UDP
// headers): a readable header and question, then zeros.
func oversizedUDP() badInput {
	msg := append(header(0xCAFE, 0x0100, 1, 0, 0, 0), question("big.test.")...)
	msg = append(msg, make([]byte, 65507-len(msg))...)
	return badInput{name: "oversized datagram", msg: msg, formerr: true, id: 0xCAFE, question: "big.test."}
}

// checkFormErr fails unless m is the FORMERR in answers to.
func (in badInput) checkFormErr(t *testing.T, m *dns.Msg) {
	t.Helper()
	if !m.Response || m.Rcode != dns.RcodeFormatError || m.Id != in.id {
		t.Fatalf("want FORMERR with ID %d, got:\n%v", in.id, m)
	}
	switch in.question {
	case "*":
	case "":
		if len(m.Question) != 0 {
			t.Errorf("FORMERR carries question %v, want none", m.Question)
		}
	default:
		if len(m.Question) != 1 || m.Question[0].Name != in.question {
			t.Errorf("FORMERR carries question %v, want %s", m.Question, in.question)
		}
	}
}

// TestServePacketBadInput checks each bad input's reply exactly, without the network.
func TestServePacketBadInput(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{Handler: answerA, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300}
	for _, in := range append(badInputs(t), oversizedUDP()) {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			// A datagram over udpQueryMax arrives cut to udpQueryMax+1 bytes.
			msg := in.msg[:min(len(in.msg), udpQueryMax+1)]
			reply := srv.servePacket(newTestSlot(), msg, remote)
			switch {
			case in.formerr && reply == nil:
				t.Fatal("no reply, want FORMERR")
			case in.formerr:
				in.checkFormErr(t, unpack(t, reply))
			case reply != nil:
				t.Fatalf("want no reply, got:\n%v", unpack(t, reply))
			}
		})
	}
}

// TestBadInputUDP sends each bad input, then a canary query, from one socket. A FORMERR
// must come with the canary's answer; a wrongly answered input would show up before it.
func TestBadInputUDP(t *testing.T) {
	t.Parallel()
	_, udpAddr, _ := startServer(t, Config{})
	for _, in := range append(badInputs(t), oversizedUDP()) {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, "udp", udpAddr)
			if _, err := c.Write(in.msg); err != nil {
				t.Fatal(err)
			}
			c.Write(query(t, 4242, "canary.test."))
			replies := []*dns.Msg{readUDP(t, c)}
			if in.formerr {
				replies = append(replies, readUDP(t, c))
			}
			in.checkReplies(t, replies, "udp")
			canaryUDP(t, udpAddr)
		})
	}
}

// TestBadInputTCP sends each bad input, then a canary query, on one connection, closes
// its writing side and reads every reply until the server closes: exactly the canary's
// answer, plus the FORMERR where one is due.
func TestBadInputTCP(t *testing.T) {
	t.Parallel()
	_, _, tcpAddr := startServer(t, Config{})
	for _, in := range badInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, "tcp", tcpAddr)
			writeTCP(t, c, in.msg, query(t, 4242, "canary.test."))
			in.checkReplies(t, readAllTCP(t, c), "tcp")
			canaryTCP(t, tcpAddr)
		})
	}
	t.Run("length prefix beyond the data, then close", func(t *testing.T) {
		t.Parallel()
		c := dial(t, "tcp", tcpAddr)
		c.Write(append([]byte{0, 100}, query(t, 1, "short.test.")...))
		if replies := readAllTCP(t, c); len(replies) != 0 {
			t.Fatalf("want no reply, got %v", replies)
		}
		canaryTCP(t, tcpAddr)
	})
}

// checkReplies fails unless replies are the canary's answer (ID 4242) and, where due, the
// FORMERR, in any order.
func (in badInput) checkReplies(t *testing.T, replies []*dns.Msg, network string) {
	t.Helper()
	want := 1
	if in.formerr {
		want = 2
	}
	if len(replies) != want {
		t.Fatalf("got %d replies, want %d: %v", len(replies), want, replies)
	}
	sort.Slice(replies, func(i, j int) bool { return replies[i].Id == 4242 && replies[j].Id != 4242 })
	checkAnswered(t, replies[0], 4242, network)
	if in.formerr {
		in.checkFormErr(t, replies[1])
	}
}
