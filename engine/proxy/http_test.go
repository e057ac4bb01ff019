package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dialProxy opens a raw client connection to a published port; every read
// on it fails after a few seconds rather than hang the test.
func dialProxy(t testing.TB, k Key) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", k.HostPort))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

// readFinal reads responses off br until a final (non-1xx) one, returning
// it with its body read, and the interim statuses seen before it.
func readFinal(br *bufio.Reader, method string) (*http.Response, string, []int, error) {
	var interim []int
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return nil, "", interim, err
		}
		if resp.StatusCode >= 200 {
			b, err := io.ReadAll(resp.Body)
			return resp, string(b), interim, err
		}
		interim = append(interim, resp.StatusCode)
	}
}

// cookieBackend is a Go net/http server that greets whoever posts their
// name, setting a cookie for them; a request without a body gets a
// greeting for nobody and no cookie.
func cookieBackend(t testing.TB) Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := io.ReadAll(r.Body)
		if len(name) == 0 {
			fmt.Fprint(w, "hello nobody")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: string(name)})
		fmt.Fprintf(w, "hello %s", name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Backend{ID: "c", Name: "c", Addr: ln.Addr().String(), Healthy: true}
}

// TestExpectContinueDoesNotLeak is the review's reproduction: client A
// posts with Expect: 100-continue, the Go backend answers 100 Continue
// then its real answer; client B, on its own connection, must get its own
// answer and never A's cookie or body.
func TestExpectContinueDoesNotLeak(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{cookieBackend(t)}})

	a, abr := dialProxy(t, k)
	fmt.Fprint(a, "POST /login HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	// A client waits a while for 100 Continue, then sends its body anyway.
	_ = a.SetReadDeadline(time.Now().Add(time.Second))
	got100 := false
	if line, err := abr.ReadString('\n'); err == nil {
		got100 = strings.HasPrefix(line, "HTTP/1.1 100 ")
		if _, err := abr.ReadString('\n'); err != nil {
			t.Fatalf("interim answer not ended: %v", err)
		}
	}
	_ = a.SetReadDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprint(a, "alice")
	resp, body, _, err := readFinal(abr, "POST")
	if err != nil {
		t.Errorf("client A: %v", err)
	} else if resp.StatusCode != 200 || body != "hello alice" {
		t.Errorf("client A got %s %q", resp.Status, body)
	}
	if !got100 {
		t.Errorf("client A asked for 100 Continue and never got it")
	}

	for i := range 3 {
		b, bbr := dialProxy(t, k)
		fmt.Fprint(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body, interim, err := readFinal(bbr, "GET")
		if err != nil {
			t.Fatalf("client B%d: %v", i, err)
		}
		if body != "hello nobody" || resp.Header.Get("Set-Cookie") != "" || len(interim) != 0 {
			t.Fatalf("client B%d got someone else's answer: %s %v cookie %q body %q",
				i, resp.Status, interim, resp.Header.Get("Set-Cookie"), body)
		}
	}
}

// TestExpectContinueGoClient runs the same exchange with Go's own client,
// which waits for 100 Continue before it sends the body; then a backend
// that answers before reading the body must not leave that body to be
// read as the next request.
func TestExpectContinueGoClient(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{cookieBackend(t)}})
	url := fmt.Sprintf("http://127.0.0.1:%d/", k.HostPort)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 4 * time.Second}}
	req, _ := http.NewRequest("POST", url, strings.NewReader("alice"))
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello alice" || time.Since(start) > 2*time.Second {
		t.Errorf("got %q after %v; want the answer without waiting out the client's timeout", b, time.Since(start))
	}
	for range 3 {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello nobody" || resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("next request got %q %q", b, resp.Header.Get("Set-Cookie"))
		}
	}
}

// TestAnswerBeforeBody: a backend refuses a request with Expect before
// reading its body; the client gets the refusal, its connection then
// closes (the body it may still send is no request), and the next client
// is unaffected.
func TestAnswerBeforeBody(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	refuse := Backend{ID: "r", Name: "r", Healthy: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 0 {
			http.Error(w, "no uploads", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "fine")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	refuse.Addr = ln.Addr().String()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{refuse}})

	a, abr := dialProxy(t, k)
	fmt.Fprint(a, "PUT /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 18\r\n\r\n")
	resp, body, interim, err := readFinal(abr, "PUT")
	if err != nil || resp.StatusCode != http.StatusUnauthorized || len(interim) != 0 || !resp.Close {
		t.Fatalf("early answer: %v %v %v %q", resp, interim, err, body)
	}
	fmt.Fprint(a, "GET /x HTTP/1.1\r\n\r\n") // the body, looking like a request
	if _, err := abr.ReadByte(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("connection not closed after an answer that left the body unread: %v", err)
	}
	b, bbr := dialProxy(t, k)
	fmt.Fprint(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body, _, err := readFinal(bbr, "GET"); err != nil || body != "fine" {
		t.Errorf("next client: %v %v %q", resp, err, body)
	}
}

// headerEcho answers with the request's header fields, one "Name: value"
// a line, sorted.
func headerEcho(t testing.TB) Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Host", r.Host)
		r.Header.Write(w)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Backend{ID: "h", Name: "h", Addr: ln.Addr().String(), Healthy: true}
}

func TestForwardedHeadersNotSpoofable(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{headerEcho(t)}})
	c, br := dialProxy(t, k)
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: shop.example\r\n"+
		"X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n"+
		"X-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nX_Forwarded_For: 6.6.6.6\r\nX-Real_Ip: 6.6.6.6\r\n"+
		"Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"+
		"Proxy-Connection: keep-alive\r\nUpgrade: websocket\r\nX-Kept: yes\r\n\r\n")
	_, got, _, err := readFinal(br, "GET")
	if err != nil {
		t.Fatal(err)
	}
	h, err := textprotoHeader(got)
	if err != nil {
		t.Fatalf("%v in %q", err, got)
	}
	want := map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "shop.example",
		"X-Forwarded-Proto": "http", "Host": "shop.example", "X-Kept": "yes"}
	for k, v := range want {
		if got := h[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"X-Real-Ip", "Forwarded", "X_forwarded_for", "X-Real_ip", "X-Hop", "Keep-Alive",
		"Te", "Proxy-Connection", "Upgrade", "Connection"} {
		if v, ok := h[k]; ok {
			t.Errorf("%s passed on: %q", k, v)
		}
	}
}

// textprotoHeader parses "Name: value" lines.
func textprotoHeader(s string) (http.Header, error) {
	h := http.Header{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\r\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("line %q", line)
		}
		h[k] = append(h[k], v)
	}
	return h, nil
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// scriptBackend answers each request on a connection with the next of
// answers (raw bytes), then keeps reading; it counts connections.
func scriptBackend(t testing.TB, answers map[string]string) (Backend, *int64) {
	var conns int64
	b := rawBackend(t, func(c net.Conn) {
		atomicAdd(&conns)
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			io.WriteString(c, answers[req.URL.Path])
			if strings.Contains(answers[req.URL.Path], "Connection: close") {
				return
			}
		}
	})
	return b, &conns
}

func TestInterimAndFraming(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	b, conns := scriptBackend(t, map[string]string{
		"/hints": "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhints",
		"/extra":  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextraHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstolen",
		"/eof":    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close",
		"/plain":  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain",
		"/nobody": "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	})
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{b}})
	get := func(path, proto string) (string, []int) {
		c, br := dialProxy(t, k)
		fmt.Fprintf(c, "GET %s %s\r\nHost: x\r\n\r\n", path, proto)
		resp, body, interim, err := readFinal(br, "GET")
		if err != nil {
			t.Fatalf("%s %s: %v", path, proto, err)
		}
		if resp.Header.Get("Link") != "" {
			t.Errorf("%s: interim fields leaked into the final answer", path)
		}
		return body, interim
	}
	if body, interim := get("/hints", "HTTP/1.1"); body != "hints" || fmt.Sprint(interim) != "[103]" {
		t.Errorf("http/1.1 client: %q %v, want hints after [103] (100 unasked is dropped)", body, interim)
	}
	if body, interim := get("/hints", "HTTP/1.0"); body != "hints" || len(interim) != 0 {
		t.Errorf("http/1.0 client: %q %v, want hints and no 1xx", body, interim)
	}
	for _, path := range []string{"/extra", "/eof", "/nobody"} {
		before := atomic.LoadInt64(conns)
		if body, _ := get(path, "HTTP/1.1"); body != map[string]string{"/extra": "extra", "/eof": "until close"}[path] {
			t.Errorf("%s: body %q", path, body)
		}
		if body, _ := get("/plain", "HTTP/1.1"); body != "plain" {
			t.Errorf("after %s the next request got %q", path, body)
		}
		if path != "/nobody" && atomic.LoadInt64(conns) == before {
			t.Errorf("the connection of %s was kept", path)
		}
	}
}

func atomicAdd(n *int64) { atomic.AddInt64(n, 1) }

// TestOldBackendFramedForClient: an HTTP/1.0 backend's answer of unknown
// length (delimited by its closing the connection) reaches an HTTP/1.1
// client as the proxy's own HTTP/1.1, chunked, on a connection the client
// can send its next request on; an HTTP/1.0 client gets it delimited by the
// close. (It was passed on as "HTTP/1.0 200 OK" with no framing while the
// proxy kept the connection: the client read until the idle timeout.)
func TestOldBackendFramedForClient(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	b := rawBackend(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nold body")
		}
	})
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{b}})
	c, br := dialProxy(t, k)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < 2; i++ {
		fmt.Fprintf(c, "GET /old HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || string(body) != "old body" || resp.Proto != "HTTP/1.1" || resp.Close ||
			fmt.Sprint(resp.TransferEncoding) != "[chunked]" {
			t.Fatalf("request %d: %s %v close=%v body %q err %v; want HTTP/1.1, chunked, kept, \"old body\"",
				i+1, resp.Proto, resp.TransferEncoding, resp.Close, body, err)
		}
	}
	c10, br10 := dialProxy(t, k)
	_ = c10.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c10, "GET /old HTTP/1.0\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br10, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "old body" || !resp.Close {
		t.Fatalf("http/1.0 client: body %q err %v close=%v; want \"old body\" to the close", body, err, resp.Close)
	}
}
