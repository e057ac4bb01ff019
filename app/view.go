package app

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/help"
)

// View draws the tab bar, the current view and the status bar, with the
// help overlay, the palette and toasts on top.
func (m *Model) View() string {
	if m.width == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("nest needs at least %d×%d cells; this terminal is %d×%d.\nEnlarge it, or press q to quit.", MinWidth, MinHeight, m.width, m.height)
		box := lipgloss.NewStyle().Width(max(m.width-2, 1)).Align(lipgloss.Center).Render(msg)
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, box)
	}
	content := m.content(m.current().View())
	screen := m.tabBar() + "\n" + content + "\n" + m.statusBar()
	switch {
	case m.dialog != nil:
		screen = common.Overlay(screen, m.dialog.box.View(), m.width, m.height)
	case m.showHelp:
		screen = common.Overlay(screen, help.Render(m.c, m.helpSections(), m.width, m.height), m.width, m.height)
	case m.palette.IsOpen():
		screen = common.OverlayAt(screen, m.palette.View(), 2, 2, m.width, m.height)
	}
	if len(m.toasts) > 0 {
		t := m.toastView()
		screen = common.OverlayAt(screen, t, m.width-lipgloss.Width(t)-1, m.height-1-lipgloss.Height(t), m.width, m.height)
	}
	return screen
}

// content fits a view's frame to the screen between the tab bar and the
// status bar. A view's frame is often the same as the last one (a stats
// sample that changed nothing on screen), and fitting it again was a
// sixth of an idle nest's CPU, so the last result is kept.
func (m *Model) content(view string) string {
	f := &m.fitted
	if f.view == view && f.width == m.width && f.height == m.height {
		return f.out
	}
	out := lipgloss.NewStyle().Width(m.width).Height(m.height - 2).MaxHeight(m.height - 2).MaxWidth(m.width).Render(view)
	*f = fitted{view: view, width: m.width, height: m.height, out: out}
	return out
}

// fitted is the last view frame fitted to the screen, and its result.
type fitted struct {
	view          string
	width, height int
	out           string
}

func (m *Model) tabBar() string {
	st := m.c.Styles
	var parts []string
	for i, t := range m.tabs {
		label := fmt.Sprintf("%d %s", i+1, t.Title)
		if i == m.active && len(m.stack) == 0 {
			parts = append(parts, st.TabActive.Render(label))
		} else {
			parts = append(parts, st.TabInactive.Render(label))
		}
	}
	bar := strings.Join(parts, "")
	for _, p := range m.stack {
		bar += st.Dim.Render(" › ") + st.TabActive.Render(p.page.Title)
	}
	return common.Clip(bar, m.width, 1)
}

// statusBar shows the node and counts on the left, the global keys on
// the right and as many of the view's keys as fit between.
func (m *Model) statusBar() string {
	st := m.c.Styles
	left := " " + m.info.Node
	if m.info.Containerd != "" {
		left += " · containerd " + m.info.Containerd + " " + m.info.Version
	}
	if c, ok := m.views[0].(common.Counter); ok {
		running, total := c.Counts()
		left += fmt.Sprintf(" · %d/%d running", running, total)
	}
	if p, ok := m.views[0].(common.Provisional); ok && p.Provisional() {
		left += " (keeper's list)"
	}
	if m.note != "" {
		left += " · " + m.note
	}
	hint := func(b key.Binding) string {
		return st.StatusKey.Render(b.Help().Key) + st.StatusBar.Render(" "+b.Help().Desc+"  ")
	}
	global, local := []key.Binding{m.keys.Help, m.keys.Palette, m.keys.Quit}, m.current().ShortHelp()
	if m.dialog != nil {
		global, local = common.ConfirmKeys(), nil
	}
	// The global keys come first, then as many of the view's keys as fit
	// between them and the node; a hint that does not fit is left out
	// whole, and the node line is cut with "…" only when nothing else is left.
	var right string
	for _, b := range global {
		if h := hint(b); lipgloss.Width(right)+lipgloss.Width(h) <= m.width-lipgloss.Width(left)-3 {
			right += h
		}
	}
	room := m.width - lipgloss.Width(left) - lipgloss.Width(right) - 3
	var middle string
	for _, b := range local {
		h := hint(b)
		if lipgloss.Width(middle)+lipgloss.Width(h) > room {
			break
		}
		middle += h
	}
	gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(middle)-lipgloss.Width(right), 0)
	line := st.StatusBar.Render(left+"   ") + middle + st.StatusBar.Render(strings.Repeat(" ", max(gap-3, 0))) + right
	return common.Clip(line, m.width, 1)
}

func (m *Model) helpSections() []help.Section {
	sections := []help.Section{{Title: "Global", Bindings: append(m.keys.list(), m.tabHelp()...)}}
	title := m.tabs[m.active].Title
	if n := len(m.stack); n > 0 {
		title = m.stack[n-1].page.Title
	}
	return append(sections, help.Sections(title, m.current().FullHelp())...)
}

// tabHelp is the number keys for the help overlay: one "1-6 view 1-6"
// line while they are the default digits, each binding when remapped.
func (m *Model) tabHelp() []key.Binding {
	n := len(m.keys.Tabs)
	for i, b := range m.keys.Tabs {
		if !b.Enabled() || b.Help().Key != fmt.Sprint(i+1) {
			return m.keys.Tabs
		}
	}
	if n < 2 {
		return m.keys.Tabs
	}
	span := fmt.Sprintf("1-%d", n)
	return []key.Binding{key.NewBinding(key.WithKeys(span), key.WithHelp(span, "view "+span))}
}
