package images

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the images view's bindings.
type keyMap struct {
	Up, Down, Pull, Load, Remove, ForceRemove, Refresh key.Binding
	SortName, SortSize, SortDate                       key.Binding
	// Prompt and dialog keys.
	Left, Right, Confirm, Cancel key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:          c.Bind("up", "up", "up", "k"),
		Down:        c.Bind("down", "down", "down", "j"),
		Pull:        c.Bind("pull", "pull", "p"),
		Load:        c.Bind("load", "load archive", "L"),
		Remove:      c.Bind("remove", "remove", "d", "delete"),
		ForceRemove: c.Bind("force_remove", "force remove", "D"),
		Refresh:     c.Bind("refresh", "refresh", "r"),
		SortName:    c.Bind("sort_name", "sort by name", "n"),
		SortSize:    c.Bind("sort_size", "sort by size", "s"),
		SortDate:    c.Bind("sort_date", "sort by date", "c"),
		Left:        key.NewBinding(key.WithKeys("left", "h", "shift+tab"), key.WithHelp("←/→", "choose")),
		Right:       key.NewBinding(key.WithKeys("right", "l", "tab")),
		Confirm:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp returns the bindings shown in the status bar.
func (m *Model) ShortHelp() []key.Binding {
	switch m.mode {
	case askPull, askLoad:
		return []key.Binding{m.keys.Confirm, m.keys.Cancel}
	}
	if m.pull != nil && !m.pull.finished {
		return []key.Binding{m.keys.Cancel, m.keys.Up, m.keys.Down, m.keys.SortSize, m.keys.SortDate}
	}
	return []key.Binding{m.keys.Pull, m.keys.Load, m.keys.Remove, m.keys.SortSize, m.keys.SortDate, m.keys.Refresh}
}

// FullHelp returns every binding, in columns.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.Refresh},
		{m.keys.Pull, m.keys.Load, m.keys.Remove, m.keys.ForceRemove},
		{m.keys.SortName, m.keys.SortSize, m.keys.SortDate},
	}
}
