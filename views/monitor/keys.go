package monitor

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the monitor's bindings.
type keyMap struct {
	Up, Down, Open key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:   c.Bind("up", "up", "up", "k"),
		Down: c.Bind("down", "down", "down", "j"),
		Open: c.Bind("open", "show container", "enter"),
	}
}

// ShortHelp returns the bindings shown in the status bar.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Up, m.keys.Down, m.keys.Open}
}

// FullHelp returns every binding, in columns.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Up, m.keys.Down}, {m.keys.Open}}
}
