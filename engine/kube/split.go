package kube

import (
	"bytes"
	"strings"
)

// maxManifest bounds a manifest's size, as bundles are bounded.
const maxManifest = 4 << 20

// maxDocuments bounds the number of documents in a manifest.
const maxDocuments = 1000

// document is one YAML document of a manifest.
type document struct {
	// index is its 1-based number among the non-empty documents.
	index int
	// line is the file line its text starts on (1-based).
	line int
	// text is the document without its --- separator.
	text []byte
}

// splitDocuments cuts a manifest at its "---" lines the way Kubernetes'
// YAML reader does (a line that starts with --- followed by nothing but
// blanks or a comment) and drops documents that hold only blanks and
// comments.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, line := 1, 0
	flush := func(next int) {
		if !blank(cur.Bytes()) {
			docs = append(docs, document{index: len(docs) + 1, line: start, text: bytes.Clone(cur.Bytes())})
		}
		cur.Reset()
		start = next
	}
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		line++
		if isSeparator(l) {
			flush(line + 1)
			continue
		}
		cur.Write(l)
	}
	flush(line + 1)
	return docs
}

// isSeparator reports whether l is a document separator line.
func isSeparator(l []byte) bool {
	rest, ok := bytes.CutPrefix(l, []byte("---"))
	if !ok {
		return false
	}
	t := strings.TrimSpace(string(rest))
	return t == "" || strings.HasPrefix(t, "#")
}

// blank reports whether text holds only blanks and comments.
func blank(text []byte) bool {
	for _, l := range bytes.Split(text, []byte("\n")) {
		t := strings.TrimSpace(string(l))
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}
