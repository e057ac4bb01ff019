package app

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
)

// load runs the containers view's Init commands (the keeper's live list,
// then containerd's listing, and subscribe; all immediate with the fake
// backend) and feeds their results back.
func load(m *Model) {
	msg := m.views[0].Init()()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		batch = tea.BatchMsg{func() tea.Msg { return msg }}
	}
	for _, cmd := range batch {
		if cmd == nil {
			continue
		}
		msg := cmd()
		_, next := m.views[0].Update(msg)
		// The keeper's live list (none here) is followed by containerd's
		// listing; the event stream's next read blocks and is not run.
		if fmt.Sprintf("%T", msg) == "containers.liveListMsg" && next != nil {
			m.views[0].Update(next())
		}
	}
}
