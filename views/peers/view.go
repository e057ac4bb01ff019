package peers

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Column widths of container rows; the image takes what is left.
const (
	nameW, idW, stateW, portsW, seenW = 22, 12, 9, 24, 9
)

// View draws the list, or the details of the cursor's row.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := []string{m.title(), ""}
	extra := m.extraLines()
	if m.details {
		lines = append(lines, m.detailLines()...)
	} else {
		lines = append(lines, m.table(m.height-len(lines)-len(extra))...)
	}
	lines = append(lines, extra...)
	out := lipgloss.NewStyle().MaxWidth(m.width).MaxHeight(m.height).Render(strings.Join(lines, "\n"))
	switch m.mode {
	case confirmReplicate, confirmAccept, confirmDeny:
		out = common.Overlay(out, m.confirm.View(), m.width, m.height)
	case replicating:
		out = common.Overlay(out, m.c.Styles.Dialog.Render(m.progressView()), m.width, m.height)
	}
	return out
}

// title counts the nodes and containers.
func (m *Model) title() string {
	n := 0
	for _, node := range m.nodes {
		n += len(node.Containers)
	}
	return m.c.Styles.Title.Render("Peers") +
		m.c.Styles.Dim.Render(fmt.Sprintf("  %d node(s) · %d container(s) on the LAN", len(m.nodes), n))
}

// table is the header and as many rows as fit in height lines, scrolled to
// keep the cursor visible.
func (m *Model) table(height int) []string {
	s := m.c.Styles
	switch {
	case m.err != nil && unavailable(m.err):
		return []string{s.Dim.Render("no keeper runs on this node, so nothing browses the LAN — start one: budgie --headless serve")}
	case m.err != nil:
		return []string{s.ToastError.Render("cannot list peers: " + m.err.Error())}
	case !m.loaded:
		return []string{s.Dim.Render("looking for peers…")}
	case len(m.rows) == 0:
		return []string{s.Dim.Render("no nodes found yet — is discovery on (discovery.interfaces) and multicast allowed?")}
	}
	imageW := max(m.width-nameW-idW-stateW-portsW-seenW-7, 10)
	out := []string{s.Header.Render(fmt.Sprintf("  %-*s %-*s %-*s %-*s %-*s %*s", nameW, "NODE / CONTAINER", idW, "ID",
		imageW, "IMAGE / ADDRESS", stateW, "STATE", portsW, "PORTS", seenW, "SEEN"))}
	shown := max(min(len(m.rows), height-1), 1)
	first := min(max(m.cursor-shown+1, 0), len(m.rows)-shown)
	for i := first; i < first+shown; i++ {
		mark := "  "
		if i == m.cursor {
			mark = "› "
		}
		line := mark + m.rowText(m.rows[i], imageW)
		switch {
		case i == m.cursor:
			out = append(out, s.Selected.Render(line))
		case m.rows[i].ctr < 0:
			out = append(out, s.Title.Render(line))
		default:
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// rowText formats one node or container row.
func (m *Model) rowText(r row, imageW int) string {
	n := m.nodes[r.node]
	if r.ctr < 0 {
		name := n.Name
		if n.Local {
			name += " (this node)"
		}
		return fmt.Sprintf("%-*s %-*s %-*s %-*s %-*s %*s", nameW, cut(name, nameW), idW, models.ShortID(n.ID),
			imageW, cut(n.Address, imageW), stateW, "", portsW, fmt.Sprintf("%d container(s)", len(n.Containers)),
			seenW, m.seen(n.LastSeen))
	}
	p := n.Containers[r.ctr]
	return fmt.Sprintf("  %-*s %-*s %-*s %-*s %-*s %*s", nameW-2, cut(p.Name, nameW-2), idW, models.ShortID(p.ContainerID),
		imageW, cut(p.Image, imageW), stateW, p.State, portsW, cut(portsText(p), portsW), seenW, m.seen(p.LastSeen))
}

// detailLines describe the cursor's node or container.
func (m *Model) detailLines() []string {
	node, p := m.selected()
	if node == nil {
		return []string{m.c.Styles.Dim.Render("no longer announced")}
	}
	var kv [][2]string
	if p != nil {
		kv = [][2]string{{"Container", p.Name}, {"ID", p.ContainerID}, {"Image", p.Image}, {"State", string(p.State)},
			{"Ports", orDash(portsText(*p))}, {"Node", p.NodeName}, {"Node ID", p.NodeID}, {"Address", p.Address},
			{"Sync port", fmt.Sprint(p.SyncPort)}, {"Fingerprint", orDash(p.Fingerprint)},
			{"First seen", m.when(p.FirstSeen)}, {"Last seen", m.when(p.LastSeen)}}
	} else {
		kv = [][2]string{{"Node", node.Name}, {"Node ID", node.ID}, {"Address", node.Address},
			{"Sync port", fmt.Sprint(node.SyncPort)}, {"Fingerprint", orDash(node.Fingerprint)},
			{"Containers", fmt.Sprint(len(node.Containers))}, {"This node", fmt.Sprint(node.Local)},
			{"Last seen", m.when(node.LastSeen)}}
	}
	out := make([]string, 0, len(kv)+2)
	for _, e := range kv {
		out = append(out, m.c.Styles.Header.Render(fmt.Sprintf("%-12s", e[0]))+" "+e[1])
	}
	return append(out, "", m.c.Styles.Dim.Render("esc closes"))
}

// seen is a short "last seen" column: seconds for the recent past.
func (m *Model) seen(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := max(m.c.Now().Sub(t), 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func (m *Model) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05") + " (" + m.seen(t) + ")"
}

// portsText writes ports as docker ps does, with a count of those the
// announcement left out.
func portsText(p models.Peer) string {
	parts := make([]string, 0, len(p.Ports)+1)
	for _, pm := range p.Ports {
		proto := pm.Protocol
		if proto == "" {
			proto = "tcp"
		}
		host := pm.HostIP
		if host == "" {
			host = "0.0.0.0"
		}
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", host, pm.HostPort, pm.ContainerPort, proto))
	}
	if p.MorePorts > 0 {
		parts = append(parts, fmt.Sprintf("+%d", p.MorePorts))
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cut shortens s to n cells, ending in "…".
func cut(s string, n int) string {
	if lipgloss.Width(s) <= n {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > n {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
