package common

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Overlay draws fg centred over bg, a width×height screen, keeping the
// background visible around it (dialogs, the help overlay, toasts).
func Overlay(bg, fg string, width, height int) string {
	fw, fh := lipgloss.Width(fg), lipgloss.Height(fg)
	return OverlayAt(bg, fg, (width-fw)/2, (height-fh)/2, width, height)
}

// OverlayAt draws fg over bg with its top-left corner at column x, row y.
func OverlayAt(bg, fg string, x, y, width, height int) string {
	bgLines := strings.Split(bg, "\n")
	for len(bgLines) < height {
		bgLines = append(bgLines, "")
	}
	x, y = max(x, 0), max(y, 0)
	for i, line := range strings.Split(fg, "\n") {
		row := y + i
		if row >= len(bgLines) {
			break
		}
		base := bgLines[row]
		if w := ansi.StringWidth(base); w < x {
			base += strings.Repeat(" ", x-w)
		}
		left := ansi.Truncate(base, x, "")
		right := ansi.TruncateLeft(base, x+ansi.StringWidth(line), "")
		bgLines[row] = left + line + right
	}
	return strings.Join(bgLines, "\n")
}
