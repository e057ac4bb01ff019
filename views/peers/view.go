package peers

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Columns of the table (see common.FitColumns); the image takes what is
// left. On a narrow terminal ID goes first, then PORTS, SEEN, STATE and
// IMAGE; the node or container name always stays.
const (
	colName = iota
	colID
	colImage
	colState
	colPorts
	colSeen
)

var columns = []common.Column{
	colName:  {Title: "NODE / CONTAINER", Min: 22, Max: 22},
	colID:    {Title: "ID", Min: 12, Max: 12, Priority: 5},
	colImage: {Title: "IMAGE / ADDRESS", Min: 20, Max: 20, Priority: 1},
	colState: {Title: "STATE", Min: 9, Max: 9, Priority: 2},
	colPorts: {Title: "PORTS", Min: 24, Max: 24, Priority: 4},
	colSeen:  {Title: "SEEN", Min: 9, Max: 9, Priority: 3, Right: true},
}

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
	out := common.Clip(strings.Join(lines, "\n"), m.width, m.height)
	switch m.mode {
	case planning:
		out = common.Overlay(out, m.c.Styles.Dialog.Render(m.planningView()), m.width, m.height)
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
		return m.note(s.Dim, "no keeper runs on this node, so nothing browses the LAN — start one: budgie --headless serve")
	case m.err != nil:
		return []string{s.ToastError.Render("cannot list peers: " + models.Printable(m.err.Error()))}
	case !m.loaded:
		return []string{s.Dim.Render("looking for peers…")}
	case len(m.rows) == 0:
		return m.note(s.Dim, "no nodes found yet — is discovery on (discovery.interfaces) and multicast allowed?")
	}
	ws := common.FitColumns(columns, nil, m.width-2, colImage)
	out := []string{s.Header.Render("  " + common.Row(columns, []string{"NODE / CONTAINER", "ID", "IMAGE / ADDRESS", "STATE", "PORTS", "SEEN"}, ws))}
	shown := max(min(len(m.rows), height-1), 1)
	first := max(min(max(m.cursor-shown+1, 0), len(m.rows)-shown), 0)
	for i := first; i < first+shown; i++ {
		mark := "  "
		if i == m.cursor {
			mark = "› "
		}
		line := mark + m.rowText(m.rows[i], ws)
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

// rowText formats one node or container row. Every field but the times
// comes from another node's announcement: discovery.ParseTXT refuses C0
// controls, DEL and invalid UTF-8 and checks IDs, container names,
// states, addresses and ports, but a node name or an image may still hold
// C1 controls (CSI), bidirectional overrides or zero-width runes, so all
// are drawn Printable.
func (m *Model) rowText(r row, ws []int) string {
	n, pr := m.nodes[r.node], models.Printable
	if r.ctr < 0 {
		name := pr(n.Name)
		if n.Local {
			name += " (this node)"
		}
		return common.Row(columns, []string{name, pr(models.ShortID(n.ID)), pr(n.Address), "",
			fmt.Sprintf("%d container(s)", len(n.Containers)), m.seen(n.LastSeen)}, ws)
	}
	p := n.Containers[r.ctr]
	return common.Row(columns, []string{"  " + pr(p.Name), pr(models.ShortID(p.ContainerID)), pr(p.Image),
		pr(string(p.State)), pr(portsText(p)), m.seen(p.LastSeen)}, ws)
}

// note is a message in the table's place, wrapped to the view's width.
func (m *Model) note(style lipgloss.Style, text string) []string {
	lines := common.Wrap(text, m.width)
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// detailLines describe the cursor's node, container or pending request.
func (m *Model) detailLines() []string {
	if pp, ok := m.selectedPending(); ok {
		return m.pendingDetails(pp)
	}
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
		out = append(out, m.c.Styles.Header.Render(fmt.Sprintf("%-12s", e[0]))+" "+models.Printable(e[1]))
	}
	return append(out, "", m.c.Styles.Dim.Render("esc closes"))
}

// pendingDetails describe a pending trust request.
func (m *Model) pendingDetails(p models.PendingPeer) []string {
	s := m.c.Styles
	out := []string{s.Header.Render(fmt.Sprintf("%-12s", "Request")) + " " + models.Printable(orDash(p.Name)) + s.Dim.Render("  (the name it claims)")}
	for _, f := range m.pendingFacts(p) {
		label, value, _ := strings.Cut(f, " ")
		out = append(out, s.Header.Render(fmt.Sprintf("%-12s", label))+" "+strings.TrimSpace(value))
	}
	return append(out, "", s.Dim.Render("a trusts · x denies · esc closes"))
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

// portsText writes a peer's ports as docker ps does, with a count of
// those the announcement left out.
func portsText(p models.Peer) string { return portList(p.Ports, p.MorePorts) }

// portList writes ports as docker ps does, then "+more" when more > 0.
func portList(ports []models.PortMapping, more int) string {
	parts := make([]string, 0, len(ports)+1)
	for _, pm := range ports {
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
	if more > 0 {
		parts = append(parts, fmt.Sprintf("+%d", more))
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
