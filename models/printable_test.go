package models

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	long := strings.Repeat("a", MaxPrintable+10)
	tests := []struct {
		name, in, want string
	}{
		{"plain", "attic", "attic"},
		{"empty", "", ""},
		{"unicode kept", "café 東京 ✓", "café 東京 ✓"},
		{"clear screen", "evil\x1b[2Jname", `evil\x1b[2Jname`},
		{"title set", "x\x1b]0;pwned\x07y", `x\x1b]0;pwned\ay`},
		{"latin-1 byte", "caf\xe9", `caf\xe9`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"newline, tab, CR", "a\nb\tc\rd", `a\nb\tc\rd`},
		{"DEL and NUL", "a\x7fb\x00c", `a\x7fb\x00c`},
		{"bidi override", "abc\u202egpj.exe", `abc\u202egpj.exe`},
		{"zero width space", "ad\u200bmin", `ad\u200bmin`},
		{"no-break space", "a\u00a0b", `a\u00a0b`},
		{"valid U+FFFD kept", "a\uFFFDb", "a\uFFFDb"},
		{"backslash kept", `C:\x`, `C:\x`},
		{"exactly the limit", long[:MaxPrintable], long[:MaxPrintable]},
		{"one over the limit", long[:MaxPrintable+1], long[:MaxPrintable-1] + "…"},
		{"cut does not split an escape", strings.Repeat("a", MaxPrintable-3) + "\x1b" + "zz", strings.Repeat("a", MaxPrintable-3) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Printable(tt.in)
			if got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > MaxPrintable {
				t.Errorf("%d runes, more than %d", n, MaxPrintable)
			}
			if strings.ContainsAny(got, "\x1b\x07\x00\n\r\u009b\u202e") || !utf8.ValidString(got) {
				t.Errorf("Printable(%q) = %q still holds a control or invalid UTF-8", tt.in, got)
			}
		})
	}
}

func TestPrintableError(t *testing.T) {
	sentinel := errors.New("not found")
	err := PrintableError(fmt.Errorf("node \x1b[2Jattic: %w", sentinel))
	if err.Error() != `node \x1b[2Jattic: not found` || !errors.Is(err, sentinel) {
		t.Errorf("got %q, Is %v", err, errors.Is(err, sentinel))
	}
	if PrintableError(nil) != nil {
		t.Error("PrintableError(nil) is not nil")
	}
}
