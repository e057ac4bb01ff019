package networks

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/views/common"
)

// Column widths of the networks table.
const nameW, bridgeW, subnetW, gwW, internalW = 20, 16, 18, 15, 8

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
	out := lipgloss.NewStyle().MaxWidth(m.width).MaxHeight(m.height).Render(strings.Join(lines, "\n"))
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
	out := []string{s.Header.Render(fmt.Sprintf("%-*s %-*s %-*s %-*s %-*s %s", nameW, "NAME", bridgeW, "BRIDGE",
		subnetW, "SUBNET", gwW, "GATEWAY", internalW, "INTERNAL", "CONTAINERS"))}
	shown := max(min(len(m.nets), height-1), 1)
	first := min(max(m.cursor-shown+1, 0), len(m.nets)-shown)
	for i := first; i < first+shown; i++ {
		n := m.nets[i]
		internal := "no"
		if n.Internal {
			internal = "yes"
		}
		line := fmt.Sprintf("%-*s %-*s %-*s %-*s %-*s %d", nameW, cut(n.Name, nameW), bridgeW, n.Bridge,
			subnetW, n.Subnet, gwW, n.Gateway, internalW, internal, len(n.Endpoints))
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
	out = append(out, s.Header.Render(fmt.Sprintf("%-*s %-8s %-20s %s", nameW+10, "CONTAINER", "IFACE", "ADDRESS", "MAC")))
	shown := max(min(len(n.Endpoints), height-2), 1)
	first := min(max(m.epCur-shown+1, 0), len(n.Endpoints)-shown)
	for i := first; i < first+shown; i++ {
		ep := n.Endpoints[i]
		addr := ep.IP
		if ep.PrefixLen > 0 {
			addr = fmt.Sprintf("%s/%d", ep.IP, ep.PrefixLen)
		}
		line := fmt.Sprintf("%-*s %-8s %-20s %s", nameW+10, cut(ep.ContainerName, nameW+10), ep.IfName, addr, ep.MAC)
		if i == m.epCur && m.focus == onEndpoints {
			out = append(out, s.Selected.Render(line))
		} else {
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// cut shortens s to w cells, marking the cut with an ellipsis.
func cut(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
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
