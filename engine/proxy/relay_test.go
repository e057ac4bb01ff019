package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// flakyBackend answers the first request on each connection, keeping it
// alive, and drops the connection on the second one without answering:
// a backend that closed a kept-alive connection just as it was reused,
// or crashed mid-request. It records the requests it saw.
func flakyBackend(t testing.TB) (Backend, func() []string) {
	var mu sync.Mutex
	var seen []string
	b := rawBackend(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			mu.Lock()
			seen = append(seen, req.Method+" "+req.URL.Path)
			mu.Unlock()
			if i == 1 {
				return
			}
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return b, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestNonIdempotentNotRetried(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	b, seen := flakyBackend(t)
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{b}})
	do := func(method, path, body string) int {
		c, br := dialProxy(t, k)
		fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", method, path, len(body), body)
		resp, _, _, err := readFinal(br, method)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, body string
		want         int
		sent         int // times the backend saw it
	}{
		{"POST", "", 502, 1},
		{"POST", "data", 502, 1},
		{"PATCH", "", 502, 1},
		{"GET", "", 200, 2},
		{"DELETE", "", 200, 2},
		{"PUT", "data", 502, 1}, // idempotent, but its body is gone
	} {
		t.Run(tc.method+"/"+tc.body, func(t *testing.T) {
			if got := do("GET", "/warm", ""); got != 200 {
				t.Fatalf("warm-up: %d", got)
			}
			path := "/" + tc.method + tc.body
			if got := do(tc.method, path, tc.body); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
			n := 0
			for _, s := range seen() {
				if s == tc.method+" "+path {
					n++
				}
			}
			if n != tc.sent {
				t.Errorf("backend saw it %d times, want %d", n, tc.sent)
			}
		})
	}
}

func TestRefusedDialRetriesAnyMethod(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http",
		Backends: []Backend{{ID: "d", Name: "d", Addr: deadAddr, Healthy: true}, cookieBackend(t)}})
	for range 4 {
		c, br := dialProxy(t, k)
		fmt.Fprint(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nbob")
		if _, body, _, err := readFinal(br, "POST"); err != nil || body != "hello bob" {
			t.Fatalf("post after a refusal: %v %q", err, body)
		}
	}
}

func TestSmugglingRefused(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	b, seen := flakyBackend(t)
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{b}})
	for _, tc := range []struct {
		name, req string
		want      int
	}{
		{"cl and te", "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"te and cl", "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400},
		{"differing cls", "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400},
		{"differing cl list", "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\nabcde", 400},
		{"signed cl", "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd", 400},
		{"hex cl", "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\nabcd", 400},
		{"te not chunked", "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"te twice", "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
		{"te in 1.0", "POST /s HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"space before colon", "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
		{"folded field", "GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"two hosts", "GET /s HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
		{"no host", "GET /s HTTP/1.1\r\n\r\n", 400},
		{"control in value", "GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400},
		{"bare cr", "GET /s HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400},
		{"bad version", "GET /s HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"connect", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", 501},
		{"bad chunk size", "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
		{"huge chunk size", "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nabc\r\n0\r\n\r\n", 400},
		{"chunk overrun", "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dialProxy(t, k)
			// A smuggled second request follows; it must never be answered.
			fmt.Fprint(c, tc.req+"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, body, _, err := readFinal(br, "POST")
			if err != nil || resp.StatusCode != tc.want {
				t.Fatalf("got %v %v %q, want %d", resp, err, body, tc.want)
			}
			if err := closedWithin(c, 2e9); err != nil {
				t.Errorf("connection not closed after a refusal: %v", err)
			}
		})
	}
	for _, s := range seen() {
		if s == "GET /smuggled" || s == "POST /s" {
			t.Errorf("backend saw %q", s)
		}
	}
}

func TestFramingAccepted(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{cookieBackend(t)}})
	for _, tc := range []struct{ name, req, want string }{
		{"same cl twice", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nbob", "hello bob"},
		{"cl list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nbob", "hello bob"},
		{"chunked with extension and trailer", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n" +
			"2;x=y\r\nbo\r\n1\r\nb\r\n0\r\nX-T: t\r\n\r\n", "hello bob"},
		{"http/1.0 keep-alive", "POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nbob", "hello bob"},
		{"empty lines first", "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "hello nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dialProxy(t, k)
			for range 2 { // twice on one connection: the framing left nothing behind
				fmt.Fprint(c, tc.req)
				resp, body, _, err := readFinal(br, "POST")
				if err != nil || body != tc.want {
					t.Fatalf("got %v %v %q, want %q", resp, err, body, tc.want)
				}
				if strings.HasPrefix(tc.req, "POST / HTTP/1.0") && resp.Header.Get("Connection") != "keep-alive" {
					t.Fatalf("http/1.0 keep-alive answer without Connection: keep-alive: %v", resp.Header)
				}
			}
		})
	}
}
