package commontest

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

// Sizes are the terminal sizes every view must lay out in: the classic
// 80×24 and a roomier 120×30.
var Sizes = []struct{ Width, Height int }{{80, 24}, {120, 30}}

// RequireFits fails t unless view fits a width×height area as drawn: at
// most height lines, none wider than width cells. A view that breaks
// either rule wraps or scrolls the terminal.
func RequireFits(t testing.TB, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > height {
		t.Errorf("%d lines in a %d×%d area", len(lines), width, height)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("line %d is %d cells wide in a %d×%d area: %q", i+1, w, width, height, l)
		}
	}
}
