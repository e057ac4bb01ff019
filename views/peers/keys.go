package peers

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the peers view's bindings. Up and down move the cursor
// over the table and on into the pending trust requests under it; a and
// x trust or deny the selected request (pressed elsewhere, they select
// the first one), each after a dialog showing its full ID and address.
type keyMap struct {
	Up, Down, Top, Bottom, Details, Close, Refresh key.Binding
	Replicate, Accept, Deny                        key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:        c.Bind("up", "up", "up", "k"),
		Down:      c.Bind("down", "down", "down", "j"),
		Top:       c.Bind("top", "first", "home", "g"),
		Bottom:    c.Bind("bottom", "last", "end", "G"),
		Details:   c.Bind("details", "details", "enter"),
		Close:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
		Refresh:   c.Bind("refresh", "refresh", "r"),
		Replicate: c.Bind("replicate", "replicate here", "R"),
		Accept:    c.Bind("trust_accept", "trust selected request", "a"),
		Deny:      c.Bind("trust_deny", "deny selected request", "x"),
	}
}

// ShortHelp returns the bindings shown in the status bar.
func (m *Model) ShortHelp() []key.Binding {
	_, onRequest := m.selectedPending()
	switch {
	case onRequest && m.details:
		return []key.Binding{m.keys.Close, m.keys.Accept, m.keys.Deny, m.keys.Up, m.keys.Down}
	case onRequest:
		return []key.Binding{m.keys.Up, m.keys.Down, m.keys.Accept, m.keys.Deny, m.keys.Details}
	case m.details:
		return []key.Binding{m.keys.Close, m.keys.Up, m.keys.Down}
	}
	return []key.Binding{m.keys.Up, m.keys.Down, m.keys.Details, m.keys.Replicate, m.keys.Refresh}
}

// FullHelp returns every binding, in columns.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.Top, m.keys.Bottom},
		{m.keys.Details, m.keys.Close, m.keys.Refresh},
		{m.keys.Replicate, m.keys.Accept, m.keys.Deny},
	}
}
