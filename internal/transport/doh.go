package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// dohContentType is the media type of a DNS message in DoH (RFC 8484 §6).
const dohContentType = "application/dns-message"

// DoH is an [Exchanger] for DNS over HTTPS (RFC 8484).
//
// Each exchange is one HTTP request carrying the query with ID 0 (RFC 8484 §4.1, so that
// identical queries are cacheable): a POST with an application/dns-message body by default,
// or a GET with the query base64url-encoded in the dns parameter. Connections are reused
// by the http.Client, over HTTP/2 when the server offers it. A reply other than 200 with an
// application/dns-message body is no reply: Exchange returns an error naming the status.
//
// The zero value is not usable: URL must be set. A DoH must not be copied after first use;
// it is safe for concurrent use.
type DoH struct {
	// URL is the server's DoH endpoint, e.g. "https://dns.example/dns-query".
	URL string

	// Method is http.MethodPost (the default) or http.MethodGet.
	Method string

	// Client sends the requests. Default: a client built once from TLSConfig, CAFile,
	// SPKIPin and Dial, speaking HTTP/2 and HTTP/1.1. Set it and those fields are ignored.
	Client *http.Client

	// TLSConfig, CAFile and SPKIPin check the server's certificate as for [DoT]; the name
	// checked is the host of URL.
	TLSConfig *tls.Config
	CAFile    string
	SPKIPin   string

	// Timeout bounds each exchange. Zero means DefaultTimeout. The context bounds it too.
	Timeout time.Duration

	// Dial opens TCP connections. Nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	setup    sync.Once
	client   *http.Client
	setupErr error
}

var _ Exchanger = (*DoH)(nil)

// Exchange sends m in one HTTP request and returns the reply. It follows the [Exchanger]
// contract; the reply carries ID 0, as sent.
func (d *DoH) Exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	client, err := d.httpClient()
	if err != nil {
		return nil, err
	}
	q, wire, err := packQuery(m)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOr(d.Timeout))
	defer cancel()
	req, err := d.request(ctx, wire)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("transport: doh %s: %w", d.URL, wrapTimeout(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTCPMessage+1))
	if err != nil {
		return nil, fmt.Errorf("transport: doh %s: reading reply: %w", d.URL, wrapTimeout(err))
	}
	if err := checkDoHResponse(resp, body); err != nil {
		return nil, fmt.Errorf("transport: doh %s: %w", d.URL, err)
	}
	r, ok := match(q, body)
	if !ok {
		return nil, fmt.Errorf("transport: doh %s: %w", d.URL, ErrMismatch)
	}
	return r, nil
}

// request builds the GET or POST request for wire.
func (d *DoH) request(ctx context.Context, wire []byte) (*http.Request, error) {
	var req *http.Request
	var err error
	switch d.Method {
	case "", http.MethodPost:
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(wire))
		if err == nil {
			req.Header.Set("Content-Type", dohContentType)
		}
	case http.MethodGet:
		var u *url.URL
		if u, err = url.Parse(d.URL); err != nil {
			break
		}
		v := u.Query()
		v.Set("dns", base64.RawURLEncoding.EncodeToString(wire))
		u.RawQuery = v.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	default:
		return nil, fmt.Errorf("transport: DoH.Method is %q, not GET or POST", d.Method)
	}
	if err != nil {
		return nil, fmt.Errorf("transport: doh: %w", err)
	}
	req.Header.Set("Accept", dohContentType)
	return req, nil
}

// checkDoHResponse accepts a 200 reply of type application/dns-message no longer than a
// DNS message can be.
func checkDoHResponse(resp *http.Response, body []byte) error {
	if resp.StatusCode != http.StatusOK {
		snippet := bytes.TrimSpace(body[:min(len(body), 200)])
		return fmt.Errorf("HTTP status %s: %q", resp.Status, snippet)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != dohContentType {
		return fmt.Errorf("reply has content type %q, not %s", resp.Header.Get("Content-Type"), dohContentType)
	}
	if len(body) > maxTCPMessage {
		return errors.New("reply is longer than a DNS message can be")
	}
	return nil
}

// httpClient returns Client, or the client built from the TLS fields.
func (d *DoH) httpClient() (*http.Client, error) {
	if d.Client != nil {
		return d.Client, nil
	}
	d.setup.Do(func() {
		u, err := url.Parse(d.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			d.setupErr = fmt.Errorf("transport: DoH.URL %q is not an https:// URL", d.URL)
			return
		}
		cfg, err := tlsOptions{base: d.TLSConfig, serverName: u.Hostname(), caFile: d.CAFile,
			spkiPin: d.SPKIPin, alpn: []string{"h2", "http/1.1"}}.config()
		if err != nil {
			d.setupErr = err
			return
		}
		dial := d.Dial
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		t := &http.Transport{
			TLSClientConfig:     cfg,
			DialContext:         dial,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     dohIdleConnTimeout,
			TLSHandshakeTimeout: timeoutOr(d.Timeout),
		}
		d.client = &http.Client{Transport: t}
	})
	return d.client, d.setupErr
}
