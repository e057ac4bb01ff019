package containers

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// keyMap holds the containers view's bindings. The action names (the
// first argument of Bind) are what budgie.yaml `keys:` remaps.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Mark, MarkAll, Filter, ClearFilter      key.Binding
	Details, Logs, Shell, Copy              key.Binding
	Start, Stop, Pause, Restart, Remove     key.Binding
	RunBundle, NewBundle, EditBundle        key.Binding
	SortNext, SortPrev                      key.Binding
	SortName, SortImage, SortState          key.Binding
	SortUptime, SortCPU, SortMem, SortNode  key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:          c.Bind("up", "up", "up", "k"),
		Down:        c.Bind("down", "down", "down", "j"),
		PageUp:      c.Bind("page_up", "page up", "pgup", "ctrl+b"),
		PageDown:    c.Bind("page_down", "page down", "pgdown", "ctrl+f"),
		Top:         c.Bind("top", "first", "home", "g"),
		Bottom:      c.Bind("bottom", "last", "end", "G"),
		Mark:        c.Bind("mark", "select", " "),
		MarkAll:     c.Bind("mark_all", "select all", "ctrl+a"),
		Filter:      c.Bind("filter", "filter (~regex)", "/"),
		ClearFilter: c.Bind("clear_filter", "clear filter/selection", "esc"),
		Details:     c.Bind("details", "inspect", "enter"),
		Logs:        c.Bind("logs", "logs", "l"),
		Shell:       c.Bind("shell", "shell", "s"),
		Copy:        c.Bind("copy_id", "copy ID", "y"),
		Start:       c.Bind("start", "start", "u"),
		Stop:        c.Bind("stop", "stop", "x"),
		Pause:       c.Bind("pause", "pause/unpause", "p"),
		Restart:     c.Bind("restart", "restart", "ctrl+r"),
		Remove:      c.Bind("remove", "remove", "ctrl+d", "delete"),
		RunBundle:   c.Bind("run_bundle", "run bundle", "r"),
		NewBundle:   c.Bind("new_bundle", "new bundle", "n"),
		EditBundle:  c.Bind("edit_bundle", "edit bundle", "e"),
		SortNext:    c.Bind("sort_next", "sort by next column", ">"),
		SortPrev:    c.Bind("sort_prev", "sort by previous column", "<"),
		SortName:    c.Bind("sort_name", "sort by name", "N"),
		SortImage:   c.Bind("sort_image", "sort by image", "I"),
		SortState:   c.Bind("sort_state", "sort by state", "S"),
		SortUptime:  c.Bind("sort_uptime", "sort by uptime", "U"),
		SortCPU:     c.Bind("sort_cpu", "sort by CPU", "C"),
		SortMem:     c.Bind("sort_memory", "sort by memory", "M"),
		SortNode:    c.Bind("sort_node", "sort by node", "O"),
	}
}

// sortKeys maps the shift+letter bindings to column indices.
func (k keyMap) sortKeys() []struct {
	b   key.Binding
	col int
} {
	return []struct {
		b   key.Binding
		col int
	}{{k.SortName, 0}, {k.SortImage, 2}, {k.SortState, 3}, {k.SortUptime, 5}, {k.SortCPU, 7}, {k.SortMem, 8}, {k.SortNode, 10}}
}

// ShortHelp is the one-line help of the containers view.
func (m *Model) ShortHelp() []key.Binding {
	k := m.keys
	return []key.Binding{k.Details, k.Logs, k.Shell, k.Mark, k.Filter, k.Stop, k.RunBundle}
}

// FullHelp is every binding of the containers view, in groups.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Mark, k.MarkAll},
		{k.Details, k.Logs, k.Shell, k.Copy, k.Filter, k.ClearFilter},
		{k.Start, k.Stop, k.Pause, k.Restart, k.Remove, k.RunBundle, k.NewBundle, k.EditBundle},
		{k.SortNext, k.SortPrev, k.SortName, k.SortImage, k.SortState, k.SortUptime, k.SortCPU, k.SortMem, k.SortNode},
	}
}
