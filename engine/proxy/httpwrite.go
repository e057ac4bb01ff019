package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// The common answer, a body of known length, is written here rather than
// by http.Response.Write: the same bytes, without its formatting and
// allocations (a copy of the Response, its transfer writer, a
// LimitReader). The test TestWriteAnswerAsResponseWrite holds the two to
// the same output.

// respExclude are the fields Response.Write leaves out of the header it
// copies: it writes the framing itself.
var respExclude = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Trailer": true}

// plainAnswer reports whether writeAnswer writes resp as Response.Write
// would: a body of known, non-zero length, not chunked, no trailer, no
// Connection field, an answer to anything but HEAD.
func plainAnswer(resp *http.Response) bool {
	return resp.ContentLength > 0 && resp.TransferEncoding == nil && resp.Trailer == nil && !resp.Uncompressed &&
		resp.StatusCode >= 100 && resp.StatusCode <= 999 && resp.Header["Connection"] == nil &&
		(resp.Request == nil || resp.Request.Method != http.MethodHead)
}

// writeAnswer writes a plainAnswer to w: its head, then ContentLength
// bytes of its body; the rest of the body is read to its end (and must be
// empty), as Response.Write does.
func writeAnswer(w *bufio.Writer, resp *http.Response) error {
	w.WriteString("HTTP/")
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(resp.ProtoMajor), 10))
	w.WriteByte('.')
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(resp.ProtoMinor), 10))
	w.WriteByte(' ')
	code := [3]byte{byte('0' + resp.StatusCode/100), byte('0' + resp.StatusCode/10%10), byte('0' + resp.StatusCode%10)}
	w.WriteByte(code[0])
	w.WriteByte(code[1])
	w.WriteByte(code[2])
	w.WriteByte(' ')
	text := resp.Status
	switch {
	case text == "":
		text = http.StatusText(resp.StatusCode)
		if text == "" {
			text = "status code " + strconv.Itoa(resp.StatusCode)
		}
	case len(text) > 3 && text[3] == ' ' && text[0] == code[0] && text[1] == code[1] && text[2] == code[2]:
		text = text[4:]
	}
	w.WriteString(text)
	w.WriteString("\r\n")
	if resp.Close {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("Content-Length: ")
	w.Write(strconv.AppendInt(w.AvailableBuffer(), resp.ContentLength, 10))
	w.WriteString("\r\n")
	if err := writeFields(w, resp.Header, respExclude); err != nil {
		return err
	}
	if _, err := w.WriteString("\r\n"); err != nil {
		return err
	}
	return copyBody(w, resp.Body, resp.ContentLength)
}

// copyBody copies n bytes of body to w through w's own buffer, then reads
// body to its end; the body is closed after.
func copyBody(w *bufio.Writer, body io.ReadCloser, n int64) error {
	defer body.Close()
	var done int64
	for done < n {
		if w.Available() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		buf := w.AvailableBuffer()
		buf = buf[:min(int64(cap(buf)), n-done)]
		k, err := readSome(body, buf)
		w.Write(buf[:k])
		done += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	extra, err := io.Copy(io.Discard, body)
	if err != nil {
		return err
	}
	if done+extra != n {
		return fmt.Errorf("http: ContentLength=%d with Body length %d", n, done+extra)
	}
	return nil
}

// readSome reads into p, trying again after empty reads as bufio does
// (100 times, then io.ErrNoProgress).
func readSome(r io.Reader, p []byte) (int, error) {
	for range 100 {
		if n, err := r.Read(p); n != 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// writeFields writes h's fields but those in exclude as h.WriteSubset
// does, sorted by name, without its pooled sorter: when every name is
// valid and every value needs none of WriteSubset's cleaning (no CR or LF,
// no space around it), which the heads the relay reads were checked for.
// Any other header goes to WriteSubset.
func writeFields(w *bufio.Writer, h http.Header, exclude map[string]bool) error {
	var names [32]string
	keys := names[:0]
	for k, vv := range h {
		if exclude[k] {
			continue
		}
		if len(keys) == len(names) || !httpguts.ValidHeaderFieldName(k) {
			return h.WriteSubset(w, exclude)
		}
		for _, v := range vv {
			if len(textproto.TrimString(v)) != len(v) || strings.ContainsAny(v, "\r\n") {
				return h.WriteSubset(w, exclude)
			}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	return nil
}
