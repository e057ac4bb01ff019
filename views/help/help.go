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
// Disabled bindings and bindings without help are left out.
func Render(c common.Common, sections []Section, width, height int) string {
	st := c.Styles
	var cols []string
	for _, s := range sections {
		var lines []string
		lines = append(lines, st.Title.Render(s.Title))
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
		cols = append(cols, strings.Join(lines, "\n"))
	}
	body := flow(cols, max(width-8, 20))
	body += "\n\n" + st.Dim.Render("remap keys in budgie.yaml (keys:) · ? or esc closes")
	box := st.Dialog.Render(body)
	if lipgloss.Height(box) > height {
		box = strings.Join(strings.Split(box, "\n")[:max(height, 1)], "\n")
	}
	return box
}

// flow lays columns side by side, starting a new band when the width is used up.
func flow(cols []string, width int) string {
	var bands, band []string
	used := 0
	for _, col := range cols {
		w := lipgloss.Width(col) + 4
		if used > 0 && used+w > width {
			bands = append(bands, lipgloss.JoinHorizontal(lipgloss.Top, band...))
			band, used = nil, 0
		}
		band = append(band, lipgloss.NewStyle().PaddingRight(4).Render(col))
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
