package common

import (
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Column is one column of a table laid out by FitColumns.
type Column struct {
	// Title is the header text.
	Title string
	// Min and Max bound the width: a column is as wide as its widest cell
	// (or title) within them. Min 0 means the title's width.
	Min, Max int
	// Priority decides which columns stay when the table is too wide:
	// columns are kept in priority order (0 first) while they fit, so the
	// highest numbers are dropped first. Priority 0 columns always stay,
	// shrinking towards Min (their cells end in "…") if they must.
	Priority int
	// Right aligns the column's cells to the right (numbers).
	Right bool
}

// FitColumns lays cols out in width cells with one space between kept
// columns, the way k9s and lazydocker do: each column wants its widest
// cell within [Min, Max]; columns are taken in priority order while they
// fit, and the first that does not fit is dropped with every column of
// lower priority (so a narrow minor column never displaces a wider, more
// important one); if the always-kept columns alone are too wide they
// shrink towards their Min. Column grow takes the slack, or the first
// kept column if grow is dropped; grow < 0 leaves the slack unused. A
// width of 0 means the column is dropped.
func FitColumns(cols []Column, cells [][]string, width, grow int) []int {
	want := make([]int, len(cols))
	for i, c := range cols {
		want[i] = ansi.StringWidth(c.Title)
	}
	for _, row := range cells {
		for i, s := range row {
			if i < len(want) {
				want[i] = max(want[i], ansi.StringWidth(s))
			}
		}
	}
	for i, c := range cols {
		lo := max(c.Min, 0)
		want[i] = max(want[i], lo)
		if c.Max > 0 {
			want[i] = min(want[i], max(c.Max, lo))
		}
	}
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cols[a].Priority - cols[b].Priority })
	ws := make([]int, len(cols))
	used := -1 // no gap before the first column
	for _, i := range order {
		if cols[i].Priority > 0 && used+1+want[i] > width {
			break // this column and every lower one are dropped
		}
		ws[i] = want[i]
		used += 1 + want[i]
	}
	shrink(cols, ws, used-width)
	if grow >= len(ws) || grow >= 0 && ws[grow] == 0 {
		grow = slices.IndexFunc(ws, func(w int) bool { return w > 0 })
	}
	if grow >= 0 && used < width {
		ws[grow] += width - used
	}
	return ws
}

// shrink takes over cells off the kept columns, one at a time round the
// columns above their Min.
func shrink(cols []Column, ws []int, over int) {
	for over > 0 {
		shrunk := false
		for i := range ws {
			if over > 0 && ws[i] > max(cols[i].Min, 1) {
				ws[i]--
				over--
				shrunk = true
			}
		}
		if !shrunk {
			return
		}
	}
}

// Cell pads s to exactly w cells (on the left when right is set), or cuts
// it to w cells ending in "…".
func Cell(s string, w int, right bool) string {
	n := ansi.StringWidth(s)
	switch {
	case n > w:
		return ansi.Truncate(s, w, "…")
	case right:
		return strings.Repeat(" ", w-n) + s
	}
	return s + strings.Repeat(" ", w-n)
}

// Clip cuts every line of s to width cells, marking a cut with "…", keeps
// at most height lines (height < 0: all) and, as lipgloss does, pads the
// lines to the widest. Views use it instead of lipgloss's MaxWidth, which
// cuts silently mid-word.
func Clip(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if height >= 0 && len(lines) > height {
		lines = lines[:height]
	}
	widest := 0
	for i, l := range lines {
		if ansi.StringWidth(l) > width {
			lines[i] = ansi.Truncate(l, width, "…")
		}
		widest = max(widest, ansi.StringWidth(lines[i]))
	}
	for i, l := range lines {
		lines[i] = l + strings.Repeat(" ", widest-ansi.StringWidth(l))
	}
	return strings.Join(lines, "\n")
}

// Row lays cells out in the widths FitColumns chose, one space apart,
// leaving dropped columns (width 0) out.
func Row(cols []Column, cells []string, ws []int) string {
	out := make([]string, 0, len(cells))
	for i, s := range cells {
		if i < len(ws) && ws[i] > 0 {
			out = append(out, Cell(s, ws[i], cols[i].Right))
		}
	}
	return strings.Join(out, " ")
}

// Wrap breaks s into lines of at most width cells at spaces, for messages
// that must be read whole rather than cut. Unlike ansi.Wrap it does not
// break at hyphens ("--headless" stays whole); a word longer than a line
// is broken.
func Wrap(s string, width int) []string {
	width = max(width, 1)
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= width:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
		for ansi.StringWidth(line) > width {
			lines = append(lines, ansi.Cut(line, 0, width))
			line = ansi.Cut(line, width, ansi.StringWidth(line))
		}
	}
	return append(lines, line)
}
