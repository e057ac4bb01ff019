package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// FuzzRelayHead sends arbitrary bytes as a client's request to a proxy in
// front of a Go backend. The proxy must end the exchange in bounded time,
// answer only with HTTP/1.1 status lines, and leave its backend pool clean:
// a canary request on a new connection gets exactly its own answer.
func FuzzRelayHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: t\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
		"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	// The client half-closes after its bytes, so no exchange waits for a
	// timeout; they stay long enough for a starved machine (a read past
	// its deadline fails even when its bytes are there).
	p := New(Options{HeaderTimeout: 3 * time.Second, IdleTimeout: 3 * time.Second, BodyTimeout: 3 * time.Second,
		ResponseTimeout: 3 * time.Second, ContinueTimeout: 50 * time.Millisecond, MaxHeaderBytes: 8 << 10})
	defer p.Close()
	k := publish(f, p, ServiceConfig{Name: "fuzz", Protocol: "http", Backends: []Backend{echoBackend(f)}})
	addr := fmt.Sprintf("127.0.0.1:%d", k.HostPort)
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			c.Write(raw)
			c.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(c)
		if isTimeout(err) {
			t.Fatalf("proxy still busy after 10 s with %q", raw)
		}
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.1 ")) {
			t.Fatalf("answer %q to %q", out, raw)
		}
		canary(t, addr)
	})
}

// echoBackend answers "METHOD PATH BODYLENGTH".
func echoBackend(t testing.TB) Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, n)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Backend{ID: "e", Name: "e", Addr: ln.Addr().String(), Healthy: true}
}

// canary checks that a plain request gets its own answer.
func canary(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(c, "GET /canary HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("canary: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(b) != "GET /canary 0" {
		t.Fatalf("canary got %s %q %v", resp.Status, b, err)
	}
}

// FuzzReadRequest checks the request head parser alone: a head it accepts
// is written for the backend in a form that net/http (a typical backend)
// reads with the same method, target and body framing, and that the
// parser itself reads back unchanged.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\nConnection: x-a\r\nX-A: 1\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
		"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
		"OPTIONS * HTTP/1.0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := readRequest(bufio.NewReaderSize(bytes.NewReader(raw), bufSize))
		// Read with its bytes already buffered, as a kept-alive
		// connection's next head is, the head reads the same.
		pre := bufio.NewReaderSize(bytes.NewReader(raw), bufSize)
		pre.Peek(1)
		r2, err2 := readRequest(pre)
		if fmt.Sprint(err) != fmt.Sprint(err2) || (err == nil && !reflect.DeepEqual(*r, *r2)) {
			t.Fatalf("%q read as %+v, %v; buffered, as %+v, %v", raw, r, err, r2, err2)
		}
		if err != nil {
			return
		}
		r.forward([]string{"192.0.2.1"})
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := r.writeHead(w); err != nil || w.Flush() != nil {
			t.Fatalf("write: %v", err)
		}
		again, err := readRequest(bufio.NewReader(bytes.NewReader(out.Bytes())))
		if err != nil {
			t.Fatalf("own head %q refused: %v", out.Bytes(), err)
		}
		if again.method != r.method || again.target != r.target || again.host != r.host || again.length != r.length {
			t.Fatalf("own head %q read as %+v, was %+v", out.Bytes(), again, r)
		}
		goReq, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(out.Bytes())))
		if err != nil {
			return // the backend answers 400 and closes: no second reading either
		}
		chunked := len(goReq.TransferEncoding) > 0
		if goReq.Method != r.method || chunked != (r.length < 0) || (!chunked && goReq.ContentLength != r.length) {
			t.Fatalf("net/http reads %q as %s cl=%d te=%v; proxy framed %d", out.Bytes(), goReq.Method,
				goReq.ContentLength, goReq.TransferEncoding, r.length)
		}
	})
}
