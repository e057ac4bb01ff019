package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
)

type formatItem struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

func TestPrintList(t *testing.T) {
	items := []formatItem{{"a", 1}, {"b", 2}}
	table := func(out io.Writer) error { _, err := io.WriteString(out, "TABLE\n"); return err }
	tests := []struct {
		name, format string
		items        any
		want         string
	}{
		{"table", "table", items, "TABLE\n"},
		{"empty is the table", "", items, "TABLE\n"},
		{"json array", "json", items, "[\n    {\n        \"name\": \"a\",\n        \"size\": 1\n    },\n    {\n        \"name\": \"b\",\n        \"size\": 2\n    }\n]\n"},
		{"json of nil is []", "json", []formatItem(nil), "[]\n"},
		{"json object", "json", formatItem{"c", 3}, "{\n    \"name\": \"c\",\n    \"size\": 3\n}\n"},
		{"template per item", "{{.Name}}={{.Size}}", items, "a=1\nb=2\n"},
		{"template once for an object", "{{.Name}}", formatItem{"c", 3}, "c\n"},
		{"template json func", "{{json .}}", items[:1], "{\"name\":\"a\",\"size\":1}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printList(&out, tt.format, tt.items, table); err != nil || out.String() != tt.want {
				t.Errorf("printed %q (%v), want %q", out.String(), err, tt.want)
			}
		})
	}
	for _, bad := range []string{"{{.Name", "{{.Nope}}"} {
		var out bytes.Buffer
		if err := printList(&out, bad, items, table); !errors.Is(err, errInvalid) || !strings.Contains(err.Error(), "bad --format template") || out.Len() > 0 {
			t.Errorf("%q: %v, printed %q; want a usage error and nothing printed", bad, err, out.String())
		}
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := &prefixWriter{mu: &mu, w: &out, prefix: logPrefix("web-1", 0, false)}
	for _, chunk := range []string{"one\ntw", "o\n", "three"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	if want := "web-1 | one\nweb-1 | two\nweb-1 | three\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
	if got := logPrefix("db", 1, true); got != "\x1b[33mdb |\x1b[0m " {
		t.Errorf("coloured prefix = %q", got)
	}
}
