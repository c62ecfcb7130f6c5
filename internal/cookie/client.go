package cookie

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// Errors Check returns. A resolver drops the reply for any of them; over UDP
// it may retry over TCP, which an off-path attacker cannot spoof.
var (
	// ErrClientCookieMismatch means the reply echoed a Client Cookie other
	// than the one sent to that server: it was forged by someone who did not
	// see the query (RFC 7873 §5.3).
	ErrClientCookieMismatch = errors.New("cookie: reply has the wrong client cookie")
	// ErrMissingCookie means a server known to speak cookies sent a reply
	// without one, which is what a forger who never saw the query does.
	ErrMissingCookie = errors.New("cookie: reply from a cookie-speaking server has no cookie")
	// ErrBadCookie means the server answered BADCOOKIE: the Server Cookie it
	// sent is now learned, and the query should be sent once more
	// (RFC 7873 §5.3).
	ErrBadCookie = errors.New("cookie: server answered BADCOOKIE")
)

// ClientConfig configures a ClientJar. Its zero value works.
type ClientConfig struct {
	// Secret is the 16-byte SipHash-2-4 key for Client Cookies. Default
	// (all zero): 16 bytes read from Rand. RFC 9018 §3 asks clients to
	// change it when their own address changes, so a cookie cannot be used to
	// track them.
	Secret [16]byte
	// Rand is read for a default Secret. Default: crypto/rand.Reader.
	Rand io.Reader
	// LocalAddr is the client's own address, mixed into the Client Cookie
	// with the server's (RFC 7873 §4.1). Default: none; RFC 9018 §3 allows
	// leaving it out, as a resolver behind NAT or sending from a wildcard
	// address does not know it.
	LocalAddr netip.Addr
}

// ClientJar is the client side of DNS Cookies for a resolver talking to
// authoritative servers (RFC 7873 §5.1, §5.3): Prepare puts a Client Cookie
// for the server, and the Server Cookie learned from it, into each query;
// Check verifies the echo in each reply. It is safe for concurrent use.
type ClientJar struct {
	secret [16]byte
	local  netip.Addr
	mu     sync.Mutex
	known  map[netip.Addr]learned // guarded by mu: what each server's last cookie was
}

// learned is what the jar keeps of a server's last Server Cookie: its
// bytes, to tell whether a reply brings a new one, and the COOKIE option
// data to send it back with (Client Cookie and Server Cookie) in the hex
// form miekg/dns's EDNS0_COOKIE holds. Both are made once per new Server
// Cookie, not per query: encoding and decoding the option's hex on every
// query was 2 % of a resolver's CPU per cache miss.
type learned struct {
	server []byte
	hex    string
}

// NewClientJar returns a ClientJar for cfg, or an error wrapping ErrConfig.
func NewClientJar(cfg ClientConfig) (*ClientJar, error) {
	j := &ClientJar{secret: cfg.Secret, local: cfg.LocalAddr.Unmap(), known: make(map[netip.Addr]learned)}
	if j.secret == [16]byte{} {
		r := cfg.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, j.secret[:]); err != nil {
			return nil, fmt.Errorf("%w: read a random client secret: %v", ErrConfig, err)
		}
	}
	return j, nil
}

// ClientCookie returns the Client Cookie the jar uses towards server:
// SipHash-2-4 of the client's address (when configured) and server's, keyed
// with the client secret (RFC 7873 §4.1, RFC 9018 §3). It is stable per
// server, so a server sees one client, and differs between servers, so
// servers cannot link the client's queries to each other.
func (j *ClientJar) ClientCookie(server netip.Addr) [clientCookieLen]byte {
	in := make([]byte, 0, 32)
	if j.local.IsValid() {
		in = append(in, j.local.AsSlice()...)
	}
	in = append(in, server.Unmap().AsSlice()...)
	return sipHash24Bytes(&j.secret, in)
}

// Prepare adds the COOKIE option for server to m, an outgoing query: the
// Client Cookie and, when one was learned, the server's last Server Cookie.
// It replaces any COOKIE option m had and adds an OPT record (advertising
// 1232 bytes) when m has none. m is changed in place: it is the caller's
// query, not yet sent.
func (j *ClientJar) Prepare(m *dns.Msg, server netip.Addr) {
	server = server.Unmap()
	j.mu.Lock()
	data := j.known[server].hex
	j.mu.Unlock()
	if data == "" {
		c := j.ClientCookie(server)
		data = hex.EncodeToString(c[:]) // a server not (yet) seen to speak cookies
	}
	opt := m.IsEdns0()
	if opt == nil {
		opt = newOPT()
		m.Extra = append(m.Extra, opt)
	}
	kept := opt.Option[:0:0]
	for _, e := range opt.Option {
		if e.Option() != dns.EDNS0COOKIE {
			kept = append(kept, e)
		}
	}
	opt.Option = append(kept, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: data})
}

// Check verifies the COOKIE option of reply, which came from server, and
// learns the Server Cookie in it. It returns nil for a good echo, and for a
// reply without a cookie from a server never seen to send one (it does not
// speak cookies). It returns an error wrapping ErrMalformed,
// ErrClientCookieMismatch or ErrMissingCookie when the reply must be
// dropped, and ErrBadCookie when the server wants the query again with the
// cookie just learned.
func (j *ClientJar) Check(reply *dns.Msg, server netip.Addr) error {
	server = server.Unmap()
	data, found, err := cookieData(reply)
	if err != nil {
		return err
	}
	j.mu.Lock()
	last, speaks := j.known[server]
	j.mu.Unlock()
	if !found {
		if speaks {
			return ErrMissingCookie
		}
		return nil
	}
	var buf [clientCookieLen + maxServerCookieLen]byte
	o, err := parseHex(&buf, data)
	if err != nil {
		return err
	}
	if o.Client != j.ClientCookie(server) {
		return ErrClientCookieMismatch
	}
	if o.Server != nil && !(speaks && bytes.Equal(o.Server, last.server)) {
		j.learn(server, bytes.Clone(o.Server))
	}
	if reply.Rcode == dns.RcodeBadCookie {
		return ErrBadCookie
	}
	return nil
}

// learn remembers server's cookie, forgetting an arbitrary other server when
// the jar is full (maxJarServers).
func (j *ClientJar) learn(server netip.Addr, cookie []byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.known[server]; !ok && len(j.known) >= maxJarServers {
		for k := range j.known {
			delete(j.known, k)
			break
		}
	}
	j.known[server] = learned{server: cookie, hex: hex.EncodeToString(Option{Client: j.ClientCookie(server), Server: cookie}.Bytes())}
}

// Forget drops what the jar learned about server, for example after the
// server stopped speaking cookies.
func (j *ClientJar) Forget(server netip.Addr) {
	j.mu.Lock()
	delete(j.known, server.Unmap())
	j.mu.Unlock()
}
