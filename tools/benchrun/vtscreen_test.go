package main

import (
	"strings"
	"testing"
)

func TestVTScreen(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"text and newlines", []string{"ab\r\ncd"}, "ab\ncd"},
		{"cursor addressing overwrites", []string{"\x1b[2;3Hxyz", "\x1b[2;4HQ"}, "\n  xQz"},
		{"erase to end of line", []string{"\x1b[1;1Habcdef\x1b[1;3H\x1b[K"}, "ab"},
		{"erase whole line", []string{"abc\x1b[2K"}, ""},
		{"colours, OSC and modes read and ignored", []string{"\x1b[?1049h\x1b[?25l\x1b]52;c;eA==\a\x1b[1;38;5;141mHi\x1b[0m\x1b]0;t\x1b\\!"}, "Hi!"},
		{"alternate screen clears", []string{"old", "\x1b[?1049h\x1b[Hnew"}, "new"},
		{"UTF-8 cut between writes", []string{"▸ a", "\xe2\x96", "\xb8b"}, "▸ a▸b"},
		{"wide characters take two cells", []string{"日本\x1b[1;5Hx"}, "日本x"},
		{"wraps at the width and scrolls at the bottom", []string{"0123456789ab", "\x1b[3;1Hline3\nline4"}, "ab\nline3\n     line4"},
		{"clear screen", []string{"abc\x1b[2J\x1b[Hd"}, "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newVTScreen(10, 3)
			for _, w := range tt.writes {
				_, _ = s.Write([]byte(w))
			}
			if got := s.Text(); got != tt.want {
				t.Errorf("screen %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeScreen(t *testing.T) {
	if got := normalizeScreen("a  \nb\n\n\n"); got != "a\nb" {
		t.Errorf("got %q", got)
	}
	if got := normalizeScreen(strings.Repeat("\n", 5)); got != "" {
		t.Errorf("blank screen: got %q", got)
	}
}
