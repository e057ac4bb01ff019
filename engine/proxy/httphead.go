package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// maxHeaderFields bounds the field lines of a request head (Apache's
// LimitRequestFields is 100), so that a head within the byte limit cannot
// cost much more memory than its size.
const maxHeaderFields = 128

// request is a client's request head, checked, with the framing of its
// body decided; header holds what goes on to the backend.
type request struct {
	method, target string
	minor          int // HTTP/1.minor: 0 or 1
	host           string
	hostField      []string // []string{host}, for X-Forwarded-Host
	header         http.Header
	length         int64  // body length: 0 none, -1 chunked
	close          bool   // the client connection ends after this exchange
	expect         bool   // the client waits for 100 Continue before its body
	upgrade        string // the protocol asked for (WebSocket), or ""
	bodyRead       bool   // some of the body has been read off the client
}

// headError is a request the proxy refuses, with the status to answer.
type headError struct {
	code int
	msg  string
}

func (e *headError) Error() string { return e.msg }

func badRequest(msg string) error { return &headError{http.StatusBadRequest, msg} }

// requestScratch is what reading a request head reuses from one request
// to the next on a client connection: the request, its header map and the
// backing array of its fields' values. A request read is done with before
// the next is read.
type requestScratch struct {
	req    request
	header http.Header
	values []string
}

// readRequest reads and checks a request head. A client that closes
// between requests gets io.EOF.
func readRequest(br *bufio.Reader) (*request, error) {
	return new(requestScratch).read(br)
}

// read is readRequest into sc.
func (sc *requestScratch) read(br *bufio.Reader) (*request, error) {
	lines := newHeadLines(br)
	line, err := lines.next()
	for skip := 0; err == nil && line == "" && skip < 4; skip++ {
		line, err = lines.next() // RFC 9112 §2.2: empty lines before a request
	}
	if err != nil {
		return nil, err
	}
	r := &sc.req
	if err := parseRequestLine(line, r); err != nil {
		return nil, err
	}
	if sc.header == nil {
		sc.header = http.Header{}
	}
	clear(sc.header)
	sc.values = sc.values[:0]
	if r.header, err = readFields(&lines, sc.header, &sc.values); err != nil {
		return nil, err
	}
	if err := r.frame(); err != nil {
		return nil, err
	}
	r.connection()
	return r, nil
}

// readLine reads one head line without its CRLF (or bare LF); a line
// longer than the reader's buffer is too large.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errHeadTooLarge
	case err == io.EOF && len(b) > 0:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte("\r"))
	return string(b), nil
}

// headLines gives a head's lines: first from text, what of the head was
// already whole in the read buffer when its reading began (one string for
// all those lines), then one by one from the reader.
type headLines struct {
	br   *bufio.Reader
	text string // whole lines, each ending in LF
}

// newHeadLines takes the buffered lines of br up to the first empty line,
// when there is one: no more than the head (an empty line either ends it
// or comes before the request line).
func newHeadLines(br *bufio.Reader) headLines {
	buf, _ := br.Peek(br.Buffered())
	end := -1
	if i := bytes.Index(buf, []byte("\n\n")); i >= 0 {
		end = i + 2
	}
	if i := bytes.Index(buf, []byte("\n\r\n")); i >= 0 && (end < 0 || i+3 < end) {
		end = i + 3
	}
	if end < 0 {
		return headLines{br: br}
	}
	text := string(buf[:end])
	_, _ = br.Discard(end)
	return headLines{br: br, text: text}
}

// next is the head's next line, as readLine reads it.
func (h *headLines) next() (string, error) {
	if h.text == "" {
		return readLine(h.br)
	}
	line, rest, _ := strings.Cut(h.text, "\n")
	h.text = rest
	return strings.TrimSuffix(line, "\r"), nil
}

// parseRequestLine splits "METHOD TARGET HTTP/1.x" into r, a new request.
func parseRequestLine(line string, r *request) error {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !httpguts.ValidHeaderFieldName(method) || !validTarget(target) {
		return badRequest("malformed request line")
	}
	*r = request{method: method, target: target}
	switch proto {
	case "HTTP/1.1":
		r.minor = 1
	case "HTTP/1.0":
	default:
		if strings.HasPrefix(proto, "HTTP/") && !strings.ContainsAny(proto, " \t") {
			return &headError{http.StatusHTTPVersionNotSupported, "http version not supported"}
		}
		return badRequest("malformed request line")
	}
	if method == http.MethodConnect {
		return &headError{http.StatusNotImplemented, "connect is not supported"}
	}
	return nil
}

// validTarget reports whether a request target has only visible ASCII.
func validTarget(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return false
		}
	}
	return true
}

// readFields reads header field lines into h up to the empty line that
// ends a head. Folded lines (obs-fold) and malformed fields are refused. A
// field's first value is kept in *values, when not nil, and h holds a
// slice of it.
func readFields(lines *headLines, h http.Header, values *[]string) (http.Header, error) {
	for n := 0; ; n++ {
		line, err := lines.next()
		if err != nil {
			return nil, err
		}
		if line == "" {
			return h, nil
		}
		if n == maxHeaderFields {
			return nil, errHeadTooLarge
		}
		name, value, ok := strings.Cut(line, ":")
		value = strings.Trim(value, " \t")
		if !ok || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			return nil, badRequest("malformed header field")
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		if vv := h[key]; vv != nil || values == nil {
			h[key] = append(vv, value)
			continue
		}
		*values = append(*values, value)
		v := *values
		h[key] = v[len(v)-1 : len(v) : len(v)]
	}
}

// frame decides how the request's body is delimited, refusing what could
// be read two ways (RFC 9112 §6.3): Transfer-Encoding with Content-Length,
// Content-Lengths that differ, and codings other than chunked.
func (r *request) frame() error {
	hosts := r.header["Host"]
	if len(hosts) > 1 || (len(hosts) == 0 && r.minor == 1) || (len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0])) {
		return badRequest("missing, repeated or malformed host")
	}
	if len(hosts) == 1 {
		r.host, r.hostField = hosts[0], hosts[:1:1]
	}
	te, cl := r.header["Transfer-Encoding"], r.header["Content-Length"]
	switch {
	case len(te) > 0 && len(cl) > 0:
		return badRequest("both transfer-encoding and content-length")
	case len(te) > 0 && r.minor == 0:
		return badRequest("transfer-encoding in an http/1.0 request")
	case len(te) > 0:
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return &headError{http.StatusNotImplemented, "transfer coding not supported"}
		}
		r.length = -1
	case len(cl) > 0:
		n, ok := contentLength(cl)
		if !ok {
			return badRequest("malformed or conflicting content-length")
		}
		r.length = n
	}
	for _, k := range []string{"Host", "Transfer-Encoding", "Content-Length"} {
		delete(r.header, k)
	}
	return nil
}

// contentLength parses Content-Length field values: digits only, and all
// the same when the field is repeated.
func contentLength(values []string) (int64, bool) {
	n := int64(-1)
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.Trim(s, " \t")
			if s == "" || strings.TrimLeft(s, "0123456789") != "" {
				return 0, false
			}
			m, err := strconv.ParseInt(s, 10, 64)
			if err != nil || (n >= 0 && m != n) {
				return 0, false
			}
			n = m
		}
	}
	return n, true
}

// connection reads the hop-by-hop fields: whether the client keeps its
// connection, waits for 100 Continue or asks for an upgrade; then drops
// them, with the fields Connection names (RFC 9110 §7.6.1).
func (r *request) connection() {
	conn := r.header["Connection"]
	if r.minor == 0 {
		r.close = !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else {
		r.close = httpguts.HeaderValuesContainsToken(conn, "close")
		if up := r.header.Get("Upgrade"); up != "" && httpguts.HeaderValuesContainsToken(conn, "upgrade") {
			r.upgrade = up
		}
		exp := r.header["Expect"]
		r.expect = r.length != 0 && len(exp) == 1 && strings.EqualFold(exp[0], "100-continue")
	}
	delete(r.header, "Expect")
	dropHopHeaders(r.header)
}

// hopHeaders are dropped when relaying (RFC 9110 §7.6.1), in addition to
// those Connection names.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// dropHopHeaders removes the hop-by-hop fields of a head.
func dropHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.Trim(name, " \t"); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// forwardedHeaders are set by the proxy alone: what a client sends under
// these names (or with underscores for dashes, which CGI-style backends
// read as the same) is dropped.
var forwardedHeaders = []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Forwarded"}

// forwardedProto is the X-Forwarded-Proto field's value; the header maps
// share it (and the client's address field) since nothing changes a
// field's values in place.
var forwardedProto = []string{"http"}

// forward replaces the client's forwarding fields with the proxy's own:
// the proxy is the edge, so the client's address (clientIP, the field's
// one value) is the only one known.
func (r *request) forward(clientIP []string) {
	for k := range r.header {
		if strings.IndexByte(k, '_') >= 0 {
			alias := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(k, "_", "-"))
			for _, f := range forwardedHeaders {
				if alias == f {
					delete(r.header, k)
				}
			}
		}
	}
	for _, f := range forwardedHeaders {
		delete(r.header, f)
	}
	r.header["X-Forwarded-For"] = clientIP
	r.header["X-Forwarded-Proto"] = forwardedProto
	if r.host != "" {
		r.header["X-Forwarded-Host"] = r.hostField
	}
}

// writeHead writes the request head for a backend: HTTP/1.1, the body's
// framing, and the upgrade or expectation the proxy passes on.
func (r *request) writeHead(w *bufio.Writer) error {
	w.WriteString(r.method)
	w.WriteByte(' ')
	w.WriteString(r.target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(r.host)
	w.WriteString("\r\n")
	if err := writeFields(w, r.header, nil); err != nil {
		return err
	}
	switch {
	case r.length > 0:
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.FormatInt(r.length, 10))
		w.WriteString("\r\n")
	case r.length < 0:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if r.upgrade != "" {
		w.WriteString("Connection: Upgrade\r\nUpgrade: ")
		w.WriteString(r.upgrade)
		w.WriteString("\r\n")
	}
	if r.expect {
		w.WriteString("Expect: 100-continue\r\n")
	}
	_, err := w.WriteString("\r\n")
	return err
}

// idempotent reports whether the method may be sent again after a
// failure (RFC 9110 §9.2.2).
func (r *request) idempotent() bool {
	switch r.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
