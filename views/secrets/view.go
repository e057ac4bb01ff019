package secrets

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/dustin/go-humanize"

	"github.com/budgie-sh/budgie/views/common"
)

// Columns of the list (see common.FitColumns); USED BY takes what is left.
// On a narrow terminal CREATED goes first, then SIZE.
const (
	colName = iota
	colSize
	colCreated
	colUsed
)

var columns = []common.Column{
	colName:    {Title: "NAME", Min: 32, Max: 32},
	colSize:    {Title: "SIZE", Min: 9, Max: 9, Priority: 2, Right: true},
	colCreated: {Title: "CREATED", Min: 15, Max: 15, Priority: 3},
	colUsed:    {Title: "USED BY", Min: 10, Max: 10, Priority: 1},
}

// View draws the list and any form, panel or dialog over it.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	top := []string{m.title(), ""}
	out := strings.Join(append(top, m.table(m.height-len(top))...), "\n")
	out = common.Clip(out, m.width, m.height)
	switch m.mode {
	case creating:
		if m.form != nil {
			out = common.Overlay(out, m.c.Styles.Dialog.Render(m.form.View()+"\n\n"+m.c.Styles.Dim.Render("enter next · esc cancel")), m.width, m.height)
		}
	case inspecting:
		out = common.Overlay(out, m.c.Styles.Dialog.Render(m.inspectView()), m.width, m.height)
	}
	return out
}

func (m *Model) title() string {
	return m.c.Styles.Title.Render("Secrets") +
		m.c.Styles.Dim.Render(fmt.Sprintf("  %d secret(s) · mounted at /run/secrets/NAME", len(m.secrets)))
}

// table is the header and as many rows as fit, scrolled to keep the cursor visible.
func (m *Model) table(height int) []string {
	s := m.c.Styles
	switch {
	case m.err != nil:
		return []string{s.ToastError.Render("cannot list secrets: " + m.err.Error())}
	case !m.loaded:
		return []string{s.Dim.Render("loading…")}
	case len(m.secrets) == 0:
		return []string{s.Dim.Render("no secrets — n creates one")}
	}
	ws := common.FitColumns(columns, nil, m.width, colUsed)
	out := []string{s.Header.Render(common.Row(columns, []string{"NAME", "SIZE", "CREATED", "USED BY"}, ws))}
	shown := max(min(len(m.secrets), height-1), 1)
	first := min(max(m.cursor-shown+1, 0), len(m.secrets)-shown)
	for i := first; i < first+shown; i++ {
		sec := m.secrets[i]
		size, created, used := humanize.Bytes(uint64(sec.Size)), humanize.RelTime(sec.Created, m.c.Now(), "ago", "from now"), strings.Join(sec.UsedBy, ", ")
		if sec.Error != "" {
			size, created, used = "?", "?", "damaged: "+sec.Error
		}
		line := common.Row(columns, []string{colName: sec.Name, colSize: size, colCreated: created, colUsed: used}, ws)
		if i == m.cursor {
			out = append(out, s.Selected.Render(line))
		} else {
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// inspectView is the metadata of the inspected secret (never its value).
func (m *Model) inspectView() string {
	s, info := m.c.Styles, m.inspected
	lines := []string{s.Title.Render("Secret " + info.Name), ""}
	if info.Created.IsZero() {
		return strings.Join(append(lines, s.Dim.Render("authenticating…")), "\n")
	}
	used := strings.Join(info.UsedBy, ", ")
	if used == "" {
		used = "no container"
	}
	lines = append(lines,
		fmt.Sprintf("%-9s %s (%d bytes)", "Size", humanize.Bytes(uint64(info.Size)), info.Size),
		fmt.Sprintf("%-9s %s", "Created", info.Created.UTC().Format("2006-01-02 15:04:05 MST")),
		fmt.Sprintf("%-9s %s", "Used by", used),
		fmt.Sprintf("%-9s /run/secrets/%s", "Mount", info.Name))
	keys := make([]string, 0, len(info.Labels))
	for k := range info.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		label := ""
		if i == 0 {
			label = "Labels"
		}
		lines = append(lines, fmt.Sprintf("%-9s %s=%s", label, k, info.Labels[k]))
	}
	lines = append(lines, "", s.Dim.Render("authenticated · the value stays sealed (budgie secret inspect --reveal)"), s.Dim.Render("esc close"))
	return strings.Join(lines, "\n")
}

// keyMap holds the Secrets view's bindings.
type keyMap struct {
	Up, Down, Create, Inspect, Remove, ForceRemove, Refresh, Cancel key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:          c.Bind("up", "up", "up", "k"),
		Down:        c.Bind("down", "down", "down", "j"),
		Create:      c.Bind("create", "create", "n"),
		Inspect:     c.Bind("inspect", "inspect", "enter", "i"),
		Remove:      c.Bind("remove", "remove", "d", "delete"),
		ForceRemove: c.Bind("force_remove", "force remove", "D"),
		Refresh:     c.Bind("refresh", "refresh", "r"),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp returns the bindings shown in the status bar.
func (m *Model) ShortHelp() []key.Binding {
	switch m.mode {
	case creating, inspecting:
		return []key.Binding{m.keys.Cancel}
	}
	return []key.Binding{m.keys.Create, m.keys.Inspect, m.keys.Remove, m.keys.Refresh}
}

// FullHelp returns every binding, in columns.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.Refresh},
		{m.keys.Create, m.keys.Inspect, m.keys.Remove, m.keys.ForceRemove},
	}
}
