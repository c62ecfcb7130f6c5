package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// startHTTP serves h over HTTP on ip, on a free port, and returns its
// address and the function that stops it.
func startHTTP(env *Env, ip netip.Addr, h http.Handler) (netip.AddrPort, func(), error) {
	ln, err := env.listenTCP(netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		return netip.AddrPort{}, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: httpTimeout}
	done := make(chan struct{})
	go func() { // owned by the returned stop function
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
	return ln.Addr().(*net.TCPAddr).AddrPort(), stop, nil
}

// httpClient returns a client whose connections go through dial, which
// must check every address with CheckLoopback.
func httpClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{
		Timeout:   httpTimeout,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil},
	}
}

// fetch sends one request and returns the status and up to maxPage bytes
// of the body.
func fetch(ctx context.Context, c *http.Client, method, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("lab: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("lab: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("lab: %w", err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body)), nil
}
