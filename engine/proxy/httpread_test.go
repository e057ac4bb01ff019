package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// plainAnswers are answer heads and bodies readPlain reads, or leaves to
// http.ReadResponse (plain false).
var plainAnswers = []struct {
	raw   string
	plain bool
}{
	{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nDate: x\r\n\r\nhello", true},
	{"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A: 1\r\nx-a:  2 \r\nX-A:\r\n\r\nabcHTTP/1.1 200 OK\r\n", true},
	{"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", true},
	{"HTTP/1.1 200\r\nContent-Length: 007\r\n\r\n1234567", true},
	{"HTTP/1.1 599 Whatever \xff\r\nContent-Length: 1\r\nX: \xfe\r\n\r\nx", true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", false},
	{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\n Content-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\n", false},
	{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", false},
	{"HTTP/2.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
}

// TestReadPlainAnswer checks which answers readPlain takes, and that
// readResponse reads every one as http.ReadResponse does.
func TestReadPlainAnswer(t *testing.T) {
	for _, tc := range plainAnswers {
		var sc answerScratch
		br := bufio.NewReaderSize(bytes.NewReader([]byte(tc.raw)), bufSize)
		br.Peek(1)
		if got := sc.readPlain(br, &http.Request{Method: "GET"}) != nil; got != tc.plain {
			t.Errorf("readPlain took %q: %v, want %v", tc.raw, got, tc.plain)
		}
		sameAnswer(t, []byte(tc.raw))
	}
}

// FuzzReadPlainAnswer holds readResponse to http.ReadResponse's reading
// of any answer: the same fields, the same body and the same bytes left.
func FuzzReadPlainAnswer(f *testing.F) {
	for _, tc := range plainAnswers {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(sameAnswer)
}

func sameAnswer(t *testing.T, raw []byte) {
	read := func(own bool) (resp *http.Response, body, rest []byte, err error) {
		br := bufio.NewReaderSize(bytes.NewReader(raw), bufSize)
		br.Peek(1)
		ask := &http.Request{Method: "GET"}
		if own {
			resp, err = readResponse(br, ask, &answerScratch{})
		} else {
			resp, err = http.ReadResponse(br, ask)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		body, err = io.ReadAll(resp.Body)
		rest, _ = io.ReadAll(br)
		return resp, body, rest, err
	}
	mine, mbody, mrest, merr := read(true)
	want, wbody, wrest, werr := read(false)
	if (mine == nil) != (want == nil) {
		t.Fatalf("%q: readResponse %v, ReadResponse %v", raw, mine, want)
	}
	if mine == nil {
		return
	}
	if mine.Status != want.Status || mine.StatusCode != want.StatusCode || mine.Proto != want.Proto ||
		mine.ProtoMajor != want.ProtoMajor || mine.ProtoMinor != want.ProtoMinor || mine.ContentLength != want.ContentLength ||
		mine.Close != want.Close || !reflect.DeepEqual(mine.Header, want.Header) || !reflect.DeepEqual(mine.Trailer, want.Trailer) ||
		!reflect.DeepEqual(mine.TransferEncoding, want.TransferEncoding) || mine.Uncompressed != want.Uncompressed {
		t.Fatalf("%q: readResponse\n%+v\nReadResponse\n%+v", raw, mine, want)
	}
	if !bytes.Equal(mbody, wbody) || (merr == nil) != (werr == nil) || !bytes.Equal(mrest, wrest) {
		t.Fatalf("%q: body %q (%v), rest %q; ReadResponse: body %q (%v), rest %q", raw, mbody, merr, mrest, wbody, werr, wrest)
	}
}

// TestKeptAliveHeadsOwnFields sends requests one after the other and
// pipelined on one connection: each request and each answer carries its
// own fields only, though both heads' maps are kept per connection.
func TestKeptAliveHeadsOwnFields(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path"+strings.ReplaceAll(r.URL.Path, "/", "-"), "1")
		r.Header.Set("Host", r.Host)
		r.Header.Write(w)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p := New(Options{})
	defer p.Close()
	be := Backend{ID: "e", Name: "e", Addr: ln.Addr().String(), Healthy: true}
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{be}})
	c, br := dialProxy(t, k)
	heads := []struct{ send, path, host, field string }{
		{"GET /a HTTP/1.1\r\nHost: one\r\nX-A: 1\r\nX-A: 2\r\n\r\n", "/a", "one", "X-A"},
		{"GET /b HTTP/1.1\r\nHost: two\r\nX-B: 3\r\n\r\nGET /c HTTP/1.1\r\nHost: three\r\n\r\n", "/b", "two", "X-B"},
		{"", "/c", "three", ""},
		{"\r\nGET /d HTTP/1.1\r\nHost: four\nX-D: 4\r\n\r\n", "/d", "four", "X-D"},
	}
	for _, h := range heads {
		fmt.Fprint(c, h.send)
		resp, got, _, err := readFinal(br, "GET")
		if err != nil {
			t.Fatal(err)
		}
		fields, err := textprotoHeader(got)
		if err != nil {
			t.Fatalf("%v in %q", err, got)
		}
		if fields.Get("Host") != h.host {
			t.Errorf("%s: host %q, want %q", h.path, fields.Get("Host"), h.host)
		}
		for _, f := range []string{"X-A", "X-B", "X-D"} {
			if _, ok := fields[f]; ok != (f == h.field) {
				t.Errorf("%s: field %s in %q", h.path, f, got)
			}
		}
		if h.field == "X-A" && strings.Join(fields["X-A"], ",") != "1,2" {
			t.Errorf("X-A: %q, want 1 and 2", fields["X-A"])
		}
		for name := range resp.Header {
			if strings.HasPrefix(name, "X-Path-") && name != http.CanonicalHeaderKey("X-Path"+strings.ReplaceAll(h.path, "/", "-")) {
				t.Errorf("%s: answer field %s", h.path, name)
			}
		}
	}
}
