package app

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/views/common"
)

// switchView opens a page or shows a tab, as a view asked.
func (m *Model) switchView(msg common.SwitchViewMsg) tea.Cmd {
	if p, ok := m.pages[msg.View]; ok {
		deactivate(m.current())
		v := p.New(m.c, msg)
		m.stack = append(m.stack, openPage{page: p, view: v})
		m.resize()
		return tea.Batch(v.Init(), activate(v))
	}
	for i, t := range m.tabs {
		if t.Name == msg.View {
			cmd := m.selectTab(i)
			if sel, ok := m.current().(common.Selector); ok && msg.ContainerID != "" {
				sel.Select(msg.ContainerID)
			}
			return cmd
		}
	}
	return common.ErrorCmd(fmt.Errorf("no view called %q: %w", msg.View, errdefs.ErrNotFound))
}

// selectTab closes every page and shows tab i.
func (m *Model) selectTab(i int) tea.Cmd {
	deactivate(m.current())
	for len(m.stack) > 0 {
		m.closeTop()
	}
	m.active = i
	return tea.Batch(m.startTab(i), activate(m.current()))
}

// pop closes the top page and shows what is under it.
func (m *Model) pop() tea.Cmd {
	deactivate(m.current())
	m.closeTop()
	return activate(m.current())
}

func (m *Model) closeTop() {
	top := m.stack[len(m.stack)-1]
	if c, ok := top.view.(common.Closer); ok {
		c.Close()
	}
	m.stack = m.stack[:len(m.stack)-1]
}

// resize gives every view the content area: the screen less the tab bar
// and the status bar.
func (m *Model) resize() {
	w, h := m.width, max(m.height-2, 1)
	for _, v := range m.views {
		v.SetSize(w, h)
	}
	for _, p := range m.stack {
		p.view.SetSize(w, h)
	}
	m.palette.SetSize(m.width, m.height)
}
