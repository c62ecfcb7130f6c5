package lab

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rensa-dns/rensa/internal/auth"
	"github.com/rensa-dns/rensa/internal/zone"
)

// cdn is the takeover scenario's simulated CDN: an HTTP API where any
// account claims a name under cdn.test. (first come, first served, as
// the services of can-i-take-over-xyz do), the authoritative zone
// cdn.test. that follows the claims, and an edge web server that serves
// each claimed name the page of the account that holds it.
type cdn struct {
	engine *auth.Server
	edge   netip.Addr
	mu     sync.Mutex       // guards claims
	claims map[string]claim // canonical name -> holder
}

// claim is one claimed name: the account holding it, the custom host
// name the account serves under it (the owner's name that will CNAME to
// it) and the page.
type claim struct {
	account, host, page string
}

// newCDN returns a CDN whose names point at edge.
func newCDN(edge netip.Addr) (*cdn, error) {
	engine, err := auth.New(auth.Config{})
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	c := &cdn{engine: engine, edge: edge, claims: map[string]claim{}}
	if err := c.publish(); err != nil {
		return nil, err
	}
	return c, nil
}

// publish rebuilds the cdn.test. zone from the claims and swaps it in.
// The caller holds c.mu or is newCDN.
func (c *cdn) publish() error {
	var b strings.Builder
	b.WriteString("$ORIGIN cdn.test.\n$TTL 60\n@ IN SOA ns hostmaster 1 7200 900 1209600 60\n@ IN NS ns\nns IN A " + cdnServer + "\n")
	names := make([]string, 0, len(c.claims))
	for n := range c.claims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s IN A %s\n", n, c.edge)
	}
	z, err := zone.Parse(strings.NewReader(b.String()), "cdn.test.", "lab cdn.test. zone", zone.LoadOptions{})
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	c.engine.SetZones(zone.NewSet(z))
	return nil
}

// API serves POST /claim?name=N&account=A&host=H&page=P and
// POST /release?name=N&account=A.
func (c *cdn) API() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		name, account := dns.CanonicalName(q.Get("name")), q.Get("account")
		if req.Method != http.MethodPost || !dns.IsSubDomain("cdn.test.", name) || name == "cdn.test." || account == "" {
			http.Error(w, "POST /claim or /release with name (under cdn.test) and account", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		held, taken := c.claims[name]
		switch req.URL.Path {
		case "/claim":
			if taken {
				http.Error(w, name+" is taken", http.StatusConflict)
				return
			}
			c.claims[name] = claim{account: account, host: dns.CanonicalName(q.Get("host")), page: q.Get("page")}
		case "/release":
			if !taken || held.account != account {
				http.Error(w, name+" is not yours", http.StatusForbidden)
				return
			}
			delete(c.claims, name)
		default:
			http.NotFound(w, req)
			return
		}
		if err := c.publish(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "ok: %s %s\n", strings.TrimPrefix(req.URL.Path, "/"), name)
	})
}

// Edge serves the page of whoever holds the name the request's Host
// header names, directly or as the custom host of a claim: a CDN routes by
// Host, and the Host of a visitor who followed the owner's CNAME is the
// owner's name.
func (c *cdn) Edge() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host := req.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = dns.CanonicalName(host)
		c.mu.Lock()
		var page string
		found := false
		for name, cl := range c.claims {
			if name == host || cl.host == host {
				page, found = cl.page, true
			}
		}
		c.mu.Unlock()
		if !found {
			http.Error(w, "There isn't a site here.", http.StatusNotFound)
			return
		}
		fmt.Fprintln(w, page)
	})
}
