package editor

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/huh"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the editor's own bindings; the form's are huh's.
type keyMap struct {
	Save, SaveRun, Close, Next, Prev, NewLine key.Binding
	// Keys of the save-as prompt (onPathKey handles them; listed for help).
	PathSave, PathCancel key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Save:       c.Bind("save", "save", "ctrl+s"),
		SaveRun:    c.Bind("save_run", "save and run", "ctrl+r"),
		Close:      c.Bind("back", "close", "esc"),
		Next:       key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:       key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		NewLine:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "new line (lists)")),
		PathSave:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save here")),
		PathCancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// formKeys are huh's default keys with two changes for an embedded editor:
// ctrl+c does not abort the form (the root model owns it), and enter starts
// a new line in multi-line fields (tab moves on).
func formKeys() *huh.KeyMap {
	k := huh.NewDefaultKeyMap()
	k.Quit = key.NewBinding(key.WithDisabled())
	k.Text.NewLine = key.NewBinding(key.WithKeys("enter", "ctrl+j"), key.WithHelp("enter", "new line"))
	k.Text.Next = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next"))
	k.Text.Submit = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "submit"))
	return k
}

// ShortHelp returns the bindings shown in the status bar. While the
// root's discard dialog is up, the root shows the dialog's keys instead.
func (m *Model) ShortHelp() []key.Binding {
	if m.mode == askPath {
		return []key.Binding{m.keys.PathSave, m.keys.PathCancel}
	}
	return []key.Binding{m.keys.Save, m.keys.SaveRun, m.keys.Next, m.keys.Close}
}

// FullHelp returns every binding, in columns.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Save, m.keys.SaveRun, m.keys.Close},
		{m.keys.Next, m.keys.Prev, m.keys.NewLine},
	}
}
