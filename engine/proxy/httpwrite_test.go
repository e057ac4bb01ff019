package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestWriteAnswerAsResponseWrite holds writeAnswer to Response.Write's
// bytes on every answer plainAnswer lets it write.
func TestWriteAnswerAsResponseWrite(t *testing.T) {
	big := strings.Repeat("x", 3*bufSize+7)
	for _, tc := range []struct {
		name, raw, method string
		close, plain      bool
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nX-B: 1\r\nX-B: 2\r\nDate: x\r\n\r\nhello", "GET", false, true},
		{"close", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: a\r\n\r\nhello", "POST", true, true},
		{"no reason", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\na", "GET", false, true},
		{"http/1.0 backend", "HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabc", "GET", false, true},
		{"own reason", "HTTP/1.1 299 Whatever Reason\r\nContent-Length: 2\r\n\r\nok", "GET", false, true},
		{"unknown status", "HTTP/1.1 600 Odd\r\nContent-Length: 1\r\n\r\nx", "GET", true, true},
		{"reason not after code", "HTTP/1.1 200 2000 OK\r\nContent-Length: 1\r\n\r\nx", "GET", false, true},
		{"repeated length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "GET", false, true},
		{"trailer field", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTrailer: X\r\n\r\nabc", "GET", false, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", "GET", false, true},
		{"big body", "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big, "GET", false, true},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD", false, false},
		{"empty", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", false, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", "GET", false, false},
		{"no length", "HTTP/1.1 200 OK\r\n\r\nabc", "GET", true, false},
		{"connection field", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", "GET", false, false},
		{"no content", "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", "GET", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := func() *http.Response {
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tc.raw)), &http.Request{Method: tc.method})
				if err != nil {
					t.Fatal(err)
				}
				resp.Close = tc.close
				return resp
			}
			if got := plainAnswer(read()); got != tc.plain {
				t.Fatalf("plainAnswer = %v, want %v", got, tc.plain)
			}
			if !tc.plain {
				return
			}
			var want, got bytes.Buffer
			ww, gw := bufio.NewWriterSize(&want, bufSize), bufio.NewWriterSize(&got, bufSize)
			werr, gerr := read().Write(ww), writeAnswer(gw, read())
			ww.Flush()
			gw.Flush()
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("Response.Write: %v, writeAnswer: %v", werr, gerr)
			}
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Errorf("writeAnswer wrote\n%q\nResponse.Write\n%q", got.Bytes(), want.Bytes())
			}
		})
	}
}

// TestWriteFieldsAsWriteSubset holds writeFields to Header.WriteSubset's
// bytes, on headers it writes itself and on those it passes on.
func TestWriteFieldsAsWriteSubset(t *testing.T) {
	many := http.Header{}
	for i := range 40 {
		many.Set("X-F"+strconv.Itoa(i), strconv.Itoa(i))
	}
	for _, tc := range []struct {
		name    string
		h       http.Header
		exclude map[string]bool
	}{
		{"empty", http.Header{}, nil},
		{"sorted with repeats", http.Header{"X-B": {"2", "1"}, "Host": {"x"}, "A": {""}, "X-A": {"é"}}, nil},
		{"excluded", http.Header{"Content-Length": {"3"}, "Trailer": {"X"}, "X": {"y"}}, respExclude},
		{"spaces around a value", http.Header{"X": {" y "}, "Z": {"z"}}, nil},
		{"line breaks in a value", http.Header{"X": {"a\r\nInjected: yes"}, "Z": {"z\n"}}, nil},
		{"invalid name", http.Header{"Bad Name": {"v"}, "Z": {"z"}}, nil},
		{"more than 32 names", many, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			if err := tc.h.WriteSubset(&want, tc.exclude); err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(&got)
			if err := writeFields(w, tc.h, tc.exclude); err != nil || w.Flush() != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("writeFields wrote\n%q\nWriteSubset\n%q", got.Bytes(), want.Bytes())
			}
		})
	}
}
