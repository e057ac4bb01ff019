// Package help is nest's ? overlay: every key binding of the global key
// map and of the current view, built from their key maps so that it
// always matches what the keys do (remapped keys included).
package help

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/views/common"
)

// Section is a titled group of bindings.
type Section struct {
	Title    string
	Bindings []key.Binding
}

// Render draws the overlay box for sections, at most width×height cells.
// Disabled bindings and bindings without help are left out. The sections
// are laid out side by side as far as the width allows; when the roomy
// layout does not fit, a compact one (less padding, narrower gaps) is
// tried, and if even that is too tall the box ends with a "…" line rather
// than losing its bottom border.
func Render(c common.Common, sections []Section, width, height int) string {
	st := c.Styles
	var cols []string
	for _, s := range sections {
		cols = append(cols, column(c, s))
	}
	footer := st.Dim.Render("remap keys in budgie.yaml (keys:) · ? or esc closes")
	var box string
	for _, l := range []struct{ padV, padH, gap int }{{1, 2, 4}, {0, 1, 2}} {
		frame := st.Dialog.Padding(l.padV, l.padH)
		inner := width - 2 - 2*l.padH
		body := flow(cols, max(inner, 20), l.gap) + "\n\n" + footer
		box = frame.Render(common.Clip(body, max(inner, 1), -1))
		if lipgloss.Height(box) <= height && lipgloss.Width(box) <= width {
			return box
		}
		if l.padV == 0 {
			room := height - 2
			lines := strings.Split(common.Clip(body, max(inner, 1), -1), "\n")
			if len(lines) > room && room > 0 {
				lines = append(lines[:room-1], st.Dim.Render("… (a taller terminal shows every key)"))
			}
			box = frame.Render(common.Clip(strings.Join(lines, "\n"), max(inner, 1), -1))
		}
	}
	return box
}

// column is one section: its title, then a key and its description a line.
func column(c common.Common, s Section) string {
	st := c.Styles
	lines := []string{st.Title.Render(s.Title)}
	kw := 0
	for _, b := range s.Bindings {
		kw = max(kw, lipgloss.Width(b.Help().Key))
	}
	for _, b := range s.Bindings {
		if !b.Enabled() || b.Help().Desc == "" {
			continue
		}
		k := b.Help().Key
		lines = append(lines, st.StatusKey.UnsetBackground().Render(k)+strings.Repeat(" ", kw-lipgloss.Width(k)+1)+st.Dim.Render(b.Help().Desc))
	}
	return strings.Join(lines, "\n")
}

// flow lays columns side by side, gap cells apart, starting a new band
// when the width is used up.
func flow(cols []string, width, gap int) string {
	var bands, band []string
	used := 0
	for _, col := range cols {
		w := lipgloss.Width(col) + gap
		if used > 0 && used+w > width {
			bands = append(bands, lipgloss.JoinHorizontal(lipgloss.Top, band...))
			band, used = nil, 0
		}
		band = append(band, lipgloss.NewStyle().PaddingRight(gap).Render(col))
		used += w
	}
	if len(band) > 0 {
		bands = append(bands, lipgloss.JoinHorizontal(lipgloss.Top, band...))
	}
	return strings.Join(bands, "\n\n")
}

// Sections turns a view's FullHelp groups into sections titled title
// (the first) and "more" (the rest).
func Sections(title string, groups [][]key.Binding) []Section {
	out := make([]Section, 0, len(groups))
	for i, g := range groups {
		t := title
		if i > 0 {
			t = ""
		}
		out = append(out, Section{Title: t, Bindings: g})
	}
	return out
}
