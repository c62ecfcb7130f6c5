package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
)

// h2Request is what the server reads of a request's header list.
type h2Request struct {
	method, scheme, path string
	contentType          string
	contentLength        int64 // -1 when absent
}

// parseH2Request reads the fields of a request's header list and reports whether it is
// well formed (RFC 9113 §8.3.1: :method, :scheme and a non-empty :path; no
// connection-specific fields, §8.2.2). The Framer has already refused invalid names and
// values, pseudo-fields after regular ones and repeated pseudo-fields.
func parseH2Request(f *http2.MetaHeadersFrame) (h2Request, bool) {
	r := h2Request{contentLength: -1}
	for _, hf := range f.Fields {
		switch hf.Name {
		case ":method":
			r.method = hf.Value
		case ":scheme":
			r.scheme = hf.Value
		case ":path":
			r.path = hf.Value
		case ":authority":
		case ":protocol":
			return r, false // extended CONNECT (RFC 8441), which the server does not offer
		case "content-type":
			if r.contentType == "" {
				r.contentType = hf.Value
			}
		case "content-length":
			n, err := strconv.ParseUint(hf.Value, 10, 63)
			if err != nil || (r.contentLength >= 0 && int64(n) != r.contentLength) {
				return r, false
			}
			r.contentLength = int64(n)
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			return r, false
		case "te":
			if hf.Value != "trailers" {
				return r, false
			}
		}
	}
	return r, r.method != "" && r.scheme != "" && r.path != ""
}

// onHeaders takes a HEADERS frame (with its CONTINUATIONs): a new request, or the trailers
// that end one.
func (c *h2Conn) onHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 != 1 {
		return http2.ConnectionError(http2.ErrCodeProtocol) // clients use odd streams (§5.1.1)
	}
	c.mu.Lock()
	st := c.streams[id]
	switch {
	case st != nil:
		remoteDone := st.remoteDone
		c.mu.Unlock()
		return c.onTrailers(st, f, remoteDone)
	case id <= c.lastStream:
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeProtocol) // stream ids only grow (§5.1.1)
	}
	c.lastStream = id
	switch {
	case c.draining:
		c.mu.Unlock()
		return nil // after GOAWAY: the client knows streams above its last id are not served
	case len(c.streams) >= c.maxStreams:
		c.resetLocked(id, http2.ErrCodeRefusedStream) // §5.1.2: the client may retry it
		c.mu.Unlock()
		return nil
	}
	st = &h2Stream{id: id, sendWindow: 0, declared: -1}
	st.remoteDone = f.StreamEnded()
	c.streams[id] = st
	c.mu.Unlock()

	if f.Truncated {
		c.refuse(st, http.StatusRequestHeaderFieldsTooLarge, "server: request headers too large")
		return nil
	}
	req, ok := parseH2Request(f)
	if !ok {
		c.resetStream(id, http2.ErrCodeProtocol) // malformed (§8.1.1)
		return nil
	}
	st.declared = req.contentLength
	c.startRequest(st, req, f.StreamEnded())
	return nil
}

// onTrailers takes a HEADERS frame on an open stream: trailers, which must end the
// request (§8.1); they are otherwise ignored.
func (c *h2Conn) onTrailers(st *h2Stream, f *http2.MetaHeadersFrame, remoteDone bool) error {
	switch {
	case remoteDone:
		c.resetStream(st.id, http2.ErrCodeStreamClosed) // §5.1, half-closed (remote)
	case !f.StreamEnded():
		c.resetStream(st.id, http2.ErrCodeProtocol)
	default:
		c.endOfRequest(st)
	}
	return nil
}

// startRequest judges a new request by its headers, with the statuses of https.go: an
// error is answered at once; a GET is answered; a POST waits for its body unless it ended.
func (c *h2Conn) startRequest(st *h2Stream, req h2Request, ended bool) {
	p, rawQuery, _ := strings.Cut(req.path, "?")
	if !c.pathMatches(p) {
		c.refuse(st, http.StatusNotFound, "404 page not found")
		return
	}
	switch req.method {
	case http.MethodGet:
		query, status, err := dohGETQuery(rawQuery)
		if err != nil {
			c.refuse(st, status, err.Error())
			return
		}
		c.answer(st, query)
	case http.MethodPost:
		if status, err := dohPOSTCheck(req.contentType, req.contentLength); err != nil {
			c.refuse(st, status, err.Error())
			return
		}
		st.receiving = true
		if ended {
			c.endOfRequest(st)
		}
	default:
		c.refuse(st, http.StatusMethodNotAllowed, errDoHMethod.Error())
	}
}

// pathMatches reports whether the path of a request URI is the DoH path, compared, as
// net/http does, after percent-decoding.
func (c *h2Conn) pathMatches(p string) bool {
	if p == c.path {
		return true
	}
	if !strings.Contains(p, "%") {
		return false
	}
	u, err := url.PathUnescape(p)
	return err == nil && u == c.path
}

// endOfRequest is the client's END_STREAM: a POST's body is complete, and is answered
// unless an answer was already decided. A body whose length is not its content-length is
// malformed (§8.1.1).
func (c *h2Conn) endOfRequest(st *h2Stream) {
	c.mu.Lock()
	st.remoteDone = true
	c.mu.Unlock()
	if !st.receiving || st.answered {
		return
	}
	st.receiving = false
	if st.declared >= 0 && st.declared != int64(len(st.body)) {
		c.resetStream(st.id, http2.ErrCodeProtocol)
		return
	}
	c.giveBack(st)
	query := st.body
	st.body = nil
	c.answer(st, query)
}

// refuse answers st with an HTTP error status and message, as http.Error does.
func (c *h2Conn) refuse(st *h2Stream, status int, msg string) {
	st.answered, st.receiving, st.body = true, false, nil
	c.respond(st, h2Response{status: status, body: []byte(msg + "\n")})
}

// answer runs query through the server: at once what cannot block (answerFast: the raw
// handler, and the messages that get no handler), on a worker the rest.
func (c *h2Conn) answer(st *h2Stream, query []byte) {
	st.answered = true
	sink := &dohSink{}
	w := c.newResponseWriter(sink)
	if c.srv.answerFast(query, tcpMessageMax, w) {
		c.respondDNS(st, sink)
		return
	}
	st.query = query
	c.dispatch(st)
}

func (c *h2Conn) newResponseWriter(sink *dohSink) *responseWriter {
	return &responseWriter{sink: sink, network: "tcp", local: c.local, remote: c.remote, encrypted: true}
}

// dispatch hands st to an idle worker, or starts one while fewer than maxStreams run. With
// every worker busy it waits for one: the connection stops reading rather than start more
// (only a client that resets streams whose answers are still being worked on gets there).
func (c *h2Conn) dispatch(st *h2Stream) {
	select {
	case c.jobs <- st:
		return
	default:
	}
	if c.workers < c.maxStreams {
		c.workers++
		c.workerWG.Go(func() { c.work(st) })
		return
	}
	c.jobs <- st
}

// work answers st, then every stream dispatched to it, until the connection ends.
func (c *h2Conn) work(st *h2Stream) {
	for ok := true; ok; st, ok = <-c.jobs {
		sink := &dohSink{}
		c.srv.answerWithHandler(st.query, c.newResponseWriter(sink))
		st.query = nil
		c.respondDNS(st, sink)
	}
}

// respondDNS answers st with the DNS reply in sink, or 400 when there is none, as
// dohHandler does.
func (c *h2Conn) respondDNS(st *h2Stream, sink *dohSink) {
	if sink.reply == nil {
		c.respond(st, h2Response{status: http.StatusBadRequest, body: []byte(errDoHNoReply.Error() + "\n")})
		return
	}
	c.respond(st, h2Response{status: http.StatusOK, body: sink.reply, dns: true, maxAge: cacheLifetime(sink.reply)})
}
