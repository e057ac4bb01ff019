package logs

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the logs view's bindings; the action names are what
// budgie.yaml `keys:` remaps.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Search, Next, Prev, FilterMode          key.Binding
	Wrap, Timestamps, Tail, Since, Save     key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:         c.Bind("up", "up", "up", "k"),
		Down:       c.Bind("down", "down", "down", "j"),
		PageUp:     c.Bind("page_up", "page up", "pgup", "ctrl+b", "ctrl+u"),
		PageDown:   c.Bind("page_down", "page down", "pgdown", "ctrl+f", "ctrl+d"),
		Top:        c.Bind("top", "oldest", "home", "g"),
		Bottom:     c.Bind("bottom", "newest, follow", "end", "G"),
		Search:     c.Bind("search", "search (~regex)", "/"),
		Next:       c.Bind("next_match", "next match", "n"),
		Prev:       c.Bind("prev_match", "previous match", "N"),
		FilterMode: c.Bind("filter_matches", "only matching lines", "&"),
		Wrap:       c.Bind("wrap", "wrap lines", "w"),
		Timestamps: c.Bind("timestamps", "timestamps", "t"),
		Tail:       c.Bind("tail", "tail length", "T"),
		Since:      c.Bind("since", "since", "P"),
		Save:       c.Bind("save", "save to file", "S"),
	}
}

// ShortHelp is the one-line help of the logs view.
func (m *Model) ShortHelp() []key.Binding {
	k := m.keys
	return []key.Binding{k.Search, k.Next, k.Prev, k.Bottom, k.Wrap, k.Timestamps, k.Save}
}

// FullHelp is every binding of the logs view, in groups.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Search, k.Next, k.Prev, k.FilterMode},
		{k.Wrap, k.Timestamps, k.Tail, k.Since, k.Save},
	}
}
