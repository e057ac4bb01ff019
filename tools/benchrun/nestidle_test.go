package main

import (
	"slices"
	"testing"
)

func TestCellChanges(t *testing.T) {
	tests := []struct {
		name, before, after string
		want                []string
	}{
		{"same screen", "a 3m\nb 4m", "a 3m\nb 4m", nil},
		{"an uptime rolls over", "web-1  running  3m  0.0%\nweb-2  running  3m", "web-1  running  4m  0.0%\nweb-2  running  3m",
			[]string{"3m → 4m"}},
		{"two cells of one row", "x 1.0% 3.2MiB", "x 2.0% 3.3MiB", []string{"1.0% → 2.0%", "3.2MiB → 3.3MiB"}},
		{"words moved", "a b", "a b c", []string{"a b → a b c"}},
		{"a line appears", "a", "a\nb", []string{" → b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cellChanges(tt.before, tt.after); !slices.Equal(got, tt.want) {
				t.Errorf("cellChanges = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIdleDrawSummary(t *testing.T) {
	d := idleDraw{bytes: 2743, frames: 3, wasted: 1, changes: []string{"3m → 4m", "0.0% → 0.1%", "3m → 4m"}}
	want := "2743 B in 3 frames, 1 of them leaving the screen as it was; the others changed 3 cells (3m → 4m ×2, 0.0% → 0.1%)"
	if got := d.summary(); got != want {
		t.Errorf("summary = %q\nwant %q", got, want)
	}
	if got := (idleDraw{}).summary(); got != "0 B in 0 frames, 0 of them leaving the screen as it was" {
		t.Errorf("empty summary = %q", got)
	}
}
