package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// A backend's common answer, its head whole in the read buffer and its
// body of known length, is read here rather than by http.ReadResponse: the
// same Response, with one allocation (the head's text) instead of about
// ten, its header map and Response kept per client connection. Anything
// else (1xx, chunked, no Content-Length, Connection or Pragma fields, bare
// LF, HEAD...) goes to ReadResponse. FuzzReadPlainAnswer holds the two to
// the same result.

// answerScratch is what readPlain reuses from one answer to the next on a
// client connection; the answer it returns is done with before the next.
type answerScratch struct {
	resp   http.Response
	header http.Header
	values []string
	body   lengthBody
}

// readResponse reads an answer head off br for a request of ask's method.
func readResponse(br *bufio.Reader, ask *http.Request, sc *answerScratch) (*http.Response, error) {
	if resp := sc.readPlain(br, ask); resp != nil {
		return resp, nil
	}
	return http.ReadResponse(br, ask)
}

// readPlain reads a plain answer's head, when br holds one whole, and
// returns the answer; it returns nil, having read nothing, for any other.
func (sc *answerScratch) readPlain(br *bufio.Reader, ask *http.Request) *http.Response {
	if ask.Method == http.MethodHead {
		return nil
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 || !plainBytes(buf[:end+2]) {
		return nil
	}
	head := string(buf[:end+2])
	line, rest, _ := strings.Cut(head, "\r\n")
	resp := &sc.resp
	*resp = http.Response{ProtoMajor: 1, Request: ask}
	switch {
	case strings.HasPrefix(line, "HTTP/1.1 "):
		resp.Proto, resp.ProtoMinor = "HTTP/1.1", 1
	case strings.HasPrefix(line, "HTTP/1.0 "):
		resp.Proto, resp.Close = "HTTP/1.0", true // no Connection field: not kept alive
	default:
		return nil
	}
	resp.Status = line[len("HTTP/1.x "):]
	code := resp.Status[:min(3, len(resp.Status))]
	if len(code) != 3 || (len(resp.Status) > 3 && resp.Status[3] != ' ') || code < "200" || code > "599" ||
		code == "204" || code == "304" || strings.TrimLeft(code, "0123456789") != "" {
		return nil
	}
	resp.StatusCode, _ = strconv.Atoi(code)
	if sc.header == nil {
		sc.header = http.Header{}
	}
	clear(sc.header)
	sc.values = sc.values[:0]
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\r\n")
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return nil
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		sc.values = append(sc.values, strings.Trim(value, " \t"))
		if vv := sc.header[key]; vv != nil {
			sc.header[key] = append(vv, sc.values[len(sc.values)-1])
		} else {
			sc.header[key] = sc.values[len(sc.values)-1 : len(sc.values) : len(sc.values)]
		}
	}
	for _, k := range []string{"Connection", "Transfer-Encoding", "Trailer", "Pragma"} {
		if sc.header[k] != nil {
			return nil
		}
	}
	cl := sc.header["Content-Length"]
	if len(cl) != 1 || cl[0] == "" || len(cl[0]) > 18 || strings.TrimLeft(cl[0], "0123456789") != "" {
		return nil
	}
	n, _ := strconv.ParseInt(cl[0], 10, 64)
	if n == 0 {
		return nil
	}
	resp.Header, resp.ContentLength = sc.header, n
	sc.body = lengthBody{r: br, n: n}
	resp.Body = &sc.body
	_, _ = br.Discard(end + 4)
	return resp
}

// plainBytes reports whether a head has only CRLF line ends and, besides
// them, only bytes a field value may hold (no other control characters).
func plainBytes(b []byte) bool {
	for i, c := range b {
		switch {
		case c == '\r':
			if i+1 == len(b) || b[i+1] != '\n' {
				return false
			}
		case c == '\n':
			if i == 0 || b[i-1] != '\r' {
				return false
			}
		case c < ' ' && c != '\t', c == 0x7f:
			return false
		}
	}
	return true
}

// lengthBody is an answer's body of n bytes: io.EOF comes with its last
// byte, io.ErrUnexpectedEOF when the backend's stream ends before.
type lengthBody struct {
	r *bufio.Reader
	n int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	switch {
	case b.n == 0:
		return k, io.EOF
	case err == io.EOF:
		return k, io.ErrUnexpectedEOF
	}
	return k, err
}

// Close leaves the stream as it is, as the relay wants (see countedBody).
func (b *lengthBody) Close() error { return nil }
