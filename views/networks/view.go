package networks

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// Columns of the networks table and of the endpoints table (see
// common.FitColumns). On a narrow terminal the networks table drops
// BRIDGE first, then INTERNAL, GATEWAY, CONTAINERS and SUBNET; the
// endpoints table drops IFACE, then MAC, then ADDRESS. Names always stay.
var (
	netColumns = []common.Column{
		{Title: "NAME", Min: 20, Max: 20},
		{Title: "BRIDGE", Min: 16, Max: 16, Priority: 5},
		{Title: "SUBNET", Min: 18, Max: 18, Priority: 1},
		{Title: "GATEWAY", Min: 15, Max: 15, Priority: 3},
		{Title: "INTERNAL", Min: 8, Max: 8, Priority: 4},
		{Title: "CONTAINERS", Min: 10, Max: 10, Priority: 2},
	}
	epColumns = []common.Column{
		{Title: "CONTAINER", Min: 30, Max: 30},
		{Title: "IFACE", Min: 8, Max: 8, Priority: 3},
		{Title: "ADDRESS", Min: 20, Max: 20, Priority: 1},
		{Title: "MAC", Min: 17, Max: 17, Priority: 2},
	}
)

// titles are the columns' titles.
func titles(cols []common.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Title
	}
	return out
}

// View draws the networks, the selected one's containers and any form or
// dialog over them.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := []string{m.title(), ""}
	tableH := max(min(len(m.nets)+1, m.height/2), 2)
	lines = append(lines, m.table(tableH)...)
	lines = append(lines, "")
	lines = append(lines, m.endpoints(m.height-len(lines))...)
	out := common.Clip(strings.Join(lines, "\n"), m.width, m.height)
	if (m.mode == creating || m.mode == connecting) && m.form != nil {
		out = common.Overlay(out, m.c.Styles.Dialog.Render(m.form.View()+"\n\n"+m.c.Styles.Dim.Render("enter next · esc cancel")), m.width, m.height)
	}
	return out
}

func (m *Model) title() string {
	return m.c.Styles.Title.Render("Networks") +
		m.c.Styles.Dim.Render(fmt.Sprintf("  %d network(s) · containers on one network reach each other by name", len(m.nets)))
}

// table is the header and the networks that fit, scrolled to the cursor.
func (m *Model) table(height int) []string {
	s := m.c.Styles
	switch {
	case m.err != nil:
		return []string{s.ToastError.Render("cannot list networks: " + m.err.Error())}
	case !m.loaded:
		return []string{s.Dim.Render("loading…")}
	case len(m.nets) == 0:
		return []string{s.Dim.Render("no networks — n creates one")}
	}
	ws := common.FitColumns(netColumns, nil, m.width, -1)
	out := []string{s.Header.Render(common.Row(netColumns, titles(netColumns), ws))}
	shown := max(min(len(m.nets), height-1), 1)
	first := min(max(m.cursor-shown+1, 0), len(m.nets)-shown)
	for i := first; i < first+shown; i++ {
		n := m.nets[i]
		internal := "no"
		if n.Internal {
			internal = "yes"
		}
		line := strings.TrimRight(common.Row(netColumns, []string{n.Name, n.Bridge, n.Subnet, n.Gateway, internal, fmt.Sprint(len(n.Endpoints))}, ws), " ")
		if i == m.cursor && m.focus == onNetworks {
			out = append(out, s.Selected.Render(line))
		} else {
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// endpoints lists the selected network's running containers.
func (m *Model) endpoints(height int) []string {
	s, n := m.c.Styles, m.selected()
	if n.Name == "" || height < 2 {
		return nil
	}
	out := []string{s.Title.Render("On " + n.Name)}
	if len(n.Endpoints) == 0 {
		return append(out, s.Dim.Render("no running container — c connects one"))
	}
	ws := common.FitColumns(epColumns, nil, m.width, -1)
	out = append(out, s.Header.Render(common.Row(epColumns, titles(epColumns), ws)))
	shown := max(min(len(n.Endpoints), height-2), 1)
	first := min(max(m.epCur-shown+1, 0), len(n.Endpoints)-shown)
	for i := first; i < first+shown; i++ {
		ep := n.Endpoints[i]
		addr := ep.IP
		if ep.PrefixLen > 0 {
			addr = fmt.Sprintf("%s/%d", ep.IP, ep.PrefixLen)
		}
		line := strings.TrimRight(common.Row(epColumns, []string{ep.ContainerName, ep.IfName, addr, ep.MAC}, ws), " ")
		if i == m.epCur && m.focus == onEndpoints {
			out = append(out, s.Selected.Render(line))
		} else {
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// keyMap holds the Networks view's bindings.
type keyMap struct {
	Up, Down, Switch, Create, Remove, Connect, Disconnect, Refresh, Cancel key.Binding
}

func newKeyMap(c common.Common) keyMap {
	return keyMap{
		Up:         c.Bind("up", "up", "up", "k"),
		Down:       c.Bind("down", "down", "down", "j"),
		Switch:     c.Bind("network_switch", "networks/containers", "enter"),
		Create:     c.Bind("network_create", "create", "n"),
		Remove:     c.Bind("network_remove", "remove", "d", "delete"),
		Connect:    c.Bind("network_connect", "connect", "c"),
		Disconnect: c.Bind("network_disconnect", "disconnect", "D"),
		Refresh:    c.Bind("refresh", "refresh", "r"),
		Cancel:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp returns the bindings shown in the status bar.
func (m *Model) ShortHelp() []key.Binding {
	if m.mode != browsing {
		return []key.Binding{m.keys.Cancel}
	}
	if m.focus == onEndpoints {
		return []key.Binding{m.keys.Switch, m.keys.Disconnect, m.keys.Connect, m.keys.Refresh}
	}
	return []key.Binding{m.keys.Switch, m.keys.Create, m.keys.Connect, m.keys.Remove, m.keys.Refresh}
}

// FullHelp returns every binding, in columns.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.keys.Up, m.keys.Down, m.keys.Switch, m.keys.Refresh},
		{m.keys.Create, m.keys.Remove, m.keys.Connect, m.keys.Disconnect},
	}
}
