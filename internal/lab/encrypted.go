package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/resolver"
	"github.com/rensa-dns/rensa/internal/server"
	"github.com/rensa-dns/rensa/internal/transport"
)

// encrypted shows what an on-path observer (the Wi-Fi operator, an ISP)
// learns from a client's DNS: over Do53 every name in clear, over DoT
// (RFC 7858) and DoH (RFC 8484) only TLS records and their sizes.
type encrypted struct{}

func (encrypted) Name() string { return "encrypted" }

func (encrypted) Summary() string {
	return "an on-path observer reads query names over Do53, only TLS records over DoT and DoH"
}

// encryptedNames are the names the client looks up.
var encryptedNames = []string{"www.example.test.", "mail.example.test.", "example.test."}

// Run serves rensa's resolver over Do53, DoT and DoH with a self-signed
// certificate (for "localhost", the name the clients check), and has a
// client ask the same names over each while the observer taps its
// connections.
func (encrypted) Run(ctx context.Context, env *Env, out Narrator) (Report, error) {
	var rep Report
	host := env.service(40)
	if err := env.checkAddrs(host); err != nil {
		return rep, err
	}
	n, err := startNet(ctx, env, labZones(true))
	if err != nil {
		return rep, err
	}
	defer n.close()
	r, err := n.resolver(resolver.Config{})
	if err != nil {
		return rep, err
	}
	dir, err := os.MkdirTemp("", "rensa-lab-")
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	defer os.RemoveAll(dir)
	certFile, keyFile, caFile, err := server.SelfSigned(dir)
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	certs, err := server.LoadCertSource(certFile, keyFile)
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	srv, err := server.New(server.Config{Handler: r, Logger: discardLogger(), UDPSockets: 1})
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	udp, _, err := srv.Listen(netip.AddrPortFrom(host, 0).String())
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	dot, err := srv.ListenTLS(netip.AddrPortFrom(host, 0).String(), certs.TLSConfig())
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	doh, err := srv.ListenHTTPS(netip.AddrPortFrom(host, 0).String(), "/dns-query", certs.TLSConfig())
	if err != nil {
		return rep, fmt.Errorf("lab: %w", err)
	}
	for _, c := range []struct {
		name    string
		defence bool
		client  func(dial func(context.Context, string, string) (net.Conn, error)) transport.Exchanger
	}{
		{"Do53 (UDP, plaintext)", false, func(d func(context.Context, string, string) (net.Conn, error)) transport.Exchanger {
			return &transport.Do53{Addr: udp.String(), Timeout: queryTimeout, Dial: d}
		}},
		{"DoT (DNS over TLS, RFC 7858)", true, func(d func(context.Context, string, string) (net.Conn, error)) transport.Exchanger {
			return &transport.DoT{Addr: dot.String(), ServerName: "localhost", CAFile: caFile, Timeout: queryTimeout, Dial: d}
		}},
		{"DoH (DNS over HTTPS, RFC 8484)", true, func(d func(context.Context, string, string) (net.Conn, error)) transport.Exchanger {
			return &transport.DoH{URL: "https://" + doh.String() + "/dns-query", CAFile: caFile, Timeout: queryTimeout, Dial: d,
				TLSConfig: &tls.Config{ServerName: "localhost"}}
		}},
	} {
		set, err := observe(ctx, env, c.name, c.defence, c.client, out)
		if err != nil {
			return rep, err
		}
		rep.Settings = append(rep.Settings, set)
	}
	return rep, nil
}

// observe has the client ask every name through a tapped connection and
// reports what the observer could read.
func observe(ctx context.Context, env *Env, name string, defence bool,
	client func(func(context.Context, string, string) (net.Conn, error)) transport.Exchanger, out Narrator) (Setting, error) {
	set := Setting{Name: name, Defence: defence}
	out.Section(name)
	obs := &observer{env: env}
	ex := client(obs.dial)
	if c, ok := ex.(interface{ Close() error }); ok {
		defer c.Close()
	}
	out.Step("The client's packets to the resolver pass the observer, who keeps every byte in both directions.")
	answered := 0
	for _, qn := range encryptedNames {
		q := new(dns.Msg)
		q.SetQuestion(qn, dns.TypeA)
		if r, err := ex.Exchange(ctx, q); err == nil && r.Rcode == dns.RcodeSuccess {
			answered++
		}
	}
	out.Step("The client looks up %s: %d answered.", strings.Join(encryptedNames, ", "), answered)
	seen := obs.namesSeen(encryptedNames)
	records := obs.tlsRecords()
	if len(seen) > 0 {
		out.Step("The observer's log: %s.", strings.Join(seen, ", "))
	} else {
		out.Step("The observer's log: %s; no name, no type, no address.", records)
	}
	set.AttackSucceeded = len(seen) > 0
	set.add("names looked up (answered)", float64(answered), "")
	set.add("names the observer read", float64(len(seen)), "")
	set.add("bytes the observer saw", float64(obs.total()), "B")
	return set, nil
}

// observer is the on-path eavesdropper: dial gives the client a
// connection whose bytes it copies, both ways, in the order sent.
type observer struct {
	env *Env
	mu  sync.Mutex // guards up, down
	// up and down are what the client sent and received.
	up, down []byte
}

// maxObserved bounds the bytes the observer keeps per direction.
const maxObserved = 1 << 20

func (o *observer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := o.env.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &tap{Conn: c, obs: o}, nil
}

// keep appends b to one direction's log.
func (o *observer) keep(dst *[]byte, b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(*dst)+len(b) <= maxObserved {
		*dst = append(*dst, b...)
	}
}

func (o *observer) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.up) + len(o.down)
}

// namesSeen returns the names whose wire form (length-prefixed labels,
// any case) appears in the observed bytes.
func (o *observer) namesSeen(names []string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	all := strings.ToLower(string(o.up) + string(o.down))
	var seen []string
	for _, n := range names {
		wire := make([]byte, 255)
		l, err := dns.PackDomainName(n, wire, 0, nil, false)
		if err == nil && strings.Contains(all, strings.ToLower(string(wire[:l]))) {
			seen = append(seen, "query "+n)
		}
	}
	return seen
}

// tlsRecords describes the TLS records of both directions by type.
func (o *observer) tlsRecords() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	counts := map[byte]int{}
	for _, stream := range [][]byte{o.up, o.down} {
		for len(stream) >= 5 {
			l := int(stream[3])<<8 | int(stream[4])
			counts[stream[0]]++
			if len(stream) < 5+l {
				break
			}
			stream = stream[5+l:]
		}
	}
	names := map[byte]string{20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
	var parts []string
	for _, t := range []byte{22, 20, 23, 21} {
		if counts[t] > 0 {
			parts = append(parts, fmt.Sprintf("%d TLS %s records", counts[t], names[t]))
		}
	}
	if len(parts) == 0 {
		return "nothing readable"
	}
	return strings.Join(parts, ", ")
}

// tap is a connection whose bytes the observer copies.
type tap struct {
	net.Conn
	obs *observer
}

func (t *tap) Read(b []byte) (int, error) {
	n, err := t.Conn.Read(b)
	t.obs.keep(&t.obs.down, b[:n])
	return n, err
}

func (t *tap) Write(b []byte) (int, error) {
	t.obs.keep(&t.obs.up, b)
	return t.Conn.Write(b)
}
