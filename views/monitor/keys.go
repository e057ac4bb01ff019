package monitor

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the monitor's bindings.
type keyMap struct {
	Up, Down, Open key.Binding
}

// bind makes a binding for action, using the user's keys from c.Keys when
// set and defaults otherwise.
func bind(c common.Common, action, help string, defaults ...string) key.Binding {
	keys := defaults
	if k, ok := c.Keys[action]; ok && len(k) > 0 {
		keys = k
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:   bind(c, "up", "up", "up", "k"),
		Down: bind(c, "down", "down", "down", "j"),
		Open: bind(c, "open", "show container", "enter"),
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
