package proxy

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
)

// maxInterim bounds the 1xx answers a backend may send before its final one.
const maxInterim = 16

var errTooManyInterim = errors.New("too many 1xx answers")

// interimState is what the client was told before the final answer.
type interimState struct {
	n         int  // 1xx answers read
	continued bool // 100 Continue passed to the client
}

// awaitContinue waits, after a head with Expect: 100-continue, for the
// backend to ask for the body. It returns nil when the body should go:
// the backend sent 100 Continue (passed on to the client) or stayed silent
// for ContinueTimeout. A final answer instead is returned, the body unsent.
func (s *service) awaitContinue(req *request, up *upConn, cl *client, st *interimState) (*http.Response, error) {
	defer up.endHead(s.lim.BodyTimeout)
	for {
		up.startHead(s.lim.MaxHeaderBytes, s.lim.ContinueTimeout)
		if _, err := up.br.Peek(1); err != nil {
			if isTimeout(err) {
				return nil, nil
			}
			return nil, &staleError{err}
		}
		up.startHead(s.lim.MaxHeaderBytes, s.lim.ResponseTimeout)
		cl.ask.Method = req.method
		resp, err := http.ReadResponse(up.br, &cl.ask)
		if err != nil {
			return nil, err
		}
		if final(resp) {
			return resp, nil
		}
		if err := s.interim(req, resp, cl, st); err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusContinue {
			return nil, nil
		}
	}
}

// readAnswer reads the backend's answer up to its final head, within
// ResponseTimeout and MaxHeaderBytes a head; 1xx answers on the way go to
// the client when it may take them.
func (s *service) readAnswer(req *request, up *upConn, cl *client, st *interimState) (*http.Response, error) {
	defer up.endHead(s.lim.BodyTimeout)
	up.startHead(s.lim.MaxHeaderBytes, s.lim.ResponseTimeout)
	if _, err := up.br.Peek(1); err != nil {
		if isTimeout(err) {
			return nil, err
		}
		return nil, &staleError{err} // closed before answering anything
	}
	for {
		cl.ask.Method = req.method
		resp, err := readResponse(up.br, &cl.ask, &cl.scratch)
		if err != nil {
			return nil, err
		}
		if final(resp) {
			return resp, nil
		}
		if err := s.interim(req, resp, cl, st); err != nil {
			return nil, err
		}
		up.budget = int64(s.lim.MaxHeaderBytes)
	}
}

// final reports whether an answer ends the exchange's heads: any status
// but 1xx, and 101, after which the connection is a tunnel.
func final(resp *http.Response) bool {
	return resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols
}

// interim passes a 1xx answer on (RFC 9110 §15.2): 100 Continue only to a
// client that asked for it, and only once; others to HTTP/1.1 clients.
func (s *service) interim(req *request, resp *http.Response, cl *client, st *interimState) error {
	st.n++
	if st.n > maxInterim {
		return errTooManyInterim
	}
	if resp.StatusCode < 100 {
		return errors.New("malformed status " + strconv.Itoa(resp.StatusCode))
	}
	isContinue := resp.StatusCode == http.StatusContinue
	if req.minor == 0 || (isContinue && (!req.expect || st.continued)) {
		return nil
	}
	st.continued = st.continued || isContinue
	dropHopHeaders(resp.Header)
	cl.bw.WriteString("HTTP/1.1 ")
	cl.bw.WriteString(strconv.Itoa(resp.StatusCode))
	cl.bw.WriteByte(' ')
	cl.bw.WriteString(http.StatusText(resp.StatusCode))
	cl.bw.WriteString("\r\n")
	err := resp.Header.Write(cl.bw)
	if err == nil {
		_, err = cl.bw.WriteString("\r\n")
	}
	if err == nil {
		err = cl.bw.Flush()
	}
	if err != nil {
		return &clientError{err}
	}
	return nil
}

// sendBody copies the request's body from the client to w: Content-Length
// bytes as they are, or chunked, decoded and encoded again (so that only
// well-formed chunks reach the backend) with the trailer dropped. Failures
// reading the client come back as *clientError.
func sendBody(req *request, cl *client, w *bufio.Writer, maxHead int) (int64, error) {
	if req.length > 0 {
		n, err := io.CopyN(w, clientReader{cl.br}, req.length)
		if err == io.EOF {
			err = &clientError{io.ErrUnexpectedEOF}
		}
		return n, err
	}
	cw := httputil.NewChunkedWriter(w)
	n, err := io.CopyBuffer(cw, clientReader{httputil.NewChunkedReader(cl.br)}, make([]byte, 8<<10))
	if err == nil {
		err = cw.Close()
	}
	if err != nil {
		return n, err
	}
	cl.c.budget = int64(maxHead)
	trailer := headLines{br: cl.br}
	_, err = readFields(&trailer, http.Header{}, nil)
	cl.c.budget = -1
	if err != nil {
		return n, &clientError{err}
	}
	_, err = w.WriteString("\r\n")
	return n, err
}

// clientReader marks the failures of reading the client as *clientError.
type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = &clientError{err}
	}
	return n, err
}

// answer relays the final answer to the client and recycles the backend
// connection when the exchange ended cleanly on it; it reports whether the
// client connection may carry another request.
func (s *service) answer(b *backend, req *request, resp *http.Response, up *upConn, cl *client) bool {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return s.tunnel(b, req, resp, up, cl)
	}
	bodySent := req.length == 0 || req.bodyRead
	backendKeep := !resp.Close && bodySent
	keep := !req.close && bodySent // a body the client may still send ends the connection
	dropHopHeaders(resp.Header)
	keep = frameForClient(req, resp, keep)
	body := &cl.body
	*body = countedBody{ReadCloser: resp.Body, b: b}
	if backendKeep {
		body.s, body.up = s, up
	}
	if resp.Body == http.NoBody {
		body.end()
	}
	resp.Body = body
	var err error
	switch {
	case plainAnswer(resp):
		err = writeAnswer(cl.bw, resp)
	case resp.ContentLength < 0:
		err = resp.Write(flushWriter{cl.bw}) // a stream: pass each piece on at once
	default:
		err = resp.Write(cl.bw)
	}
	if err == nil {
		err = cl.bw.Flush()
	}
	if !body.released {
		body.finish()
		up.Close()
	}
	return err == nil && keep
}

// frameForClient sets how the answer's body is delimited for the client
// and whether its connection is kept: a body of unknown length goes
// chunked to an HTTP/1.1 client, and close-delimited to an HTTP/1.0 one.
// The answer carries the proxy's own version, HTTP/1.1, whatever the
// backend's (RFC 9110 §6.2): an HTTP/1.0 backend's close-delimited body
// is framed for the client like any other.
func frameForClient(req *request, resp *http.Response, keep bool) bool {
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	if resp.ContentLength < 0 && resp.Body != http.NoBody {
		if req.minor == 0 {
			resp.TransferEncoding, keep = nil, false
		} else {
			resp.TransferEncoding = []string{"chunked"}
		}
	}
	if req.minor == 0 && keep {
		resp.Header.Set("Connection", "keep-alive")
	}
	resp.Close = !keep
	return keep
}

// tunnel joins client and backend after a protocol switch (WebSocket);
// the tunnel has no timeouts. A switch the client did not ask for is a
// failed backend.
func (s *service) tunnel(b *backend, req *request, resp *http.Response, up *upConn, cl *client) bool {
	defer up.Close()
	defer b.active.Add(-1)
	if req.upgrade == "" || (req.length != 0 && !req.bodyRead) {
		b.failures.Add(1)
		writeStatus(cl.bw, http.StatusBadGateway, "backend "+b.Name+" switched protocols unasked")
		return false
	}
	if err := resp.Write(cl.bw); err != nil || cl.bw.Flush() != nil {
		return false
	}
	cl.c.unguard()
	up.unguard()
	done := make(chan struct{})
	go func() {
		n, _ := io.Copy(up.guardedConn, cl.br)
		b.bytesIn.Add(n)
		closeWrite(up.Conn)
		close(done)
	}()
	n, _ := io.Copy(cl.c, up.br)
	b.bytesOut.Add(n)
	closeWrite(cl.c.Conn)
	<-done
	return false
}

// countedBody counts the answer's bytes and ends the backend's active
// request when the answer has been read to its end (before its last bytes
// reach the client, so that the client's next request already sees the
// backend idle). Then, when its framing said it ended and nothing more
// came, s.release gives the backend connection up back to the pool.
type countedBody struct {
	io.ReadCloser
	b        *backend
	s        *service
	up       *upConn // nil when the connection may not be kept
	done     bool
	released bool
}

// Read counts bytes.
func (c *countedBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.b.bytesOut.Add(int64(n))
	if err == io.EOF {
		c.end()
	} else if err != nil {
		c.finish()
	}
	return n, err
}

// end is the body's framed end: the request is no longer active, and the
// connection is released when it may be kept.
func (c *countedBody) end() {
	c.finish()
	if c.up != nil && !c.released {
		c.released = true
		c.s.release(c.b, c.up)
	}
}

// Close does not close the body it counts: net/http would read the rest
// of it to the end, which the relay wants only when the client takes it.
// The exchange closes the connection instead when the body was not read
// to its end.
func (c *countedBody) Close() error { return nil }

func (c *countedBody) finish() {
	if !c.done {
		c.done = true
		c.b.active.Add(-1)
	}
}
