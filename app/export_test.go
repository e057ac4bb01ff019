package app

import (
	tea "github.com/charmbracelet/bubbletea"
)

// load runs the containers view's Init commands (list and subscribe,
// both immediate with the fake backend) and feeds their results back.
func load(m *Model) {
	msg := m.views[0].Init()()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		batch = tea.BatchMsg{func() tea.Msg { return msg }}
	}
	for _, cmd := range batch {
		if cmd != nil {
			m.views[0].Update(cmd())
		}
	}
}
