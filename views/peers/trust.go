package peers

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/dustin/go-humanize"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Pending trust requests are the cursor's last places (see row): a and x
// act on the selected one, never on one the view picks, because the
// names that sort the list are whatever the requesting nodes claimed.

// startTrust asks to accept or deny the selected pending request. With
// the cursor elsewhere it selects the first request and says so.
func (m *Model) startTrust(accept bool) tea.Cmd {
	if _, ok := m.c.Backend.(common.ReplicationBackend); !ok {
		return common.ToastCmd("this nest cannot manage trust")
	}
	if len(m.trust.Pending) == 0 {
		return common.ToastCmd("no pending trust requests")
	}
	p, ok := m.selectedPending()
	if !ok {
		m.cursor, m.details = len(m.rows), false
		return common.ToastCmd("first pending request selected (↑/↓ choose): a trusts it, x denies it")
	}
	who := models.Printable(orDash(p.Name))
	body := []string{"Deny node " + who + "?", ""}
	if accept {
		body[0] = "Trust node " + who + "?"
	}
	body = append(body, m.pendingFacts(p)...)
	if accept {
		body = append(body, "", "Compare the ID with `budgie id` on that node: once trusted, it may replicate the containers you share.")
		return common.AskConfirm(m.dialogText(body), "Trust", m.decide(p, true))
	}
	body = append(body, "", "Its later requests are refused without being listed.")
	return common.AskConfirm(m.dialogText(body), "Deny", m.decide(p, false))
}

// pendingFacts are a request's full ID, address and attempts, as the
// dialogs and the details show them.
func (m *Model) pendingFacts(p models.PendingPeer) []string {
	return []string{
		fmt.Sprintf("%-9s %s", "ID", models.Printable(p.ID)),
		fmt.Sprintf("%-9s %s", "address", models.Printable(orDash(p.Address))),
		fmt.Sprintf("%-9s %d time(s), first %s, last %s", "asked", p.Count, m.when(p.FirstSeen), m.when(p.LastSeen)),
	}
}

// decide trusts or denies request p (the root's dialog runs it).
func (m *Model) decide(p models.PendingPeer, accept bool) tea.Cmd {
	rb := m.c.Backend.(common.ReplicationBackend)
	ctx := m.ctx()
	who := models.Printable(orDash(p.Name)) + " (" + models.ShortNodeID(p.ID) + ")"
	if accept {
		return func() tea.Msg {
			return trustDoneMsg{text: "trusted " + who, err: models.PrintableError(rb.TrustPeer(ctx, p.ID, p.Name))}
		}
	}
	return func() tea.Msg {
		return trustDoneMsg{text: "denied " + who, err: models.PrintableError(rb.DenyPeer(ctx, p.ID))}
	}
}

// pendingLines are the pending trust requests under the table, the
// cursor's one highlighted.
func (m *Model) pendingLines() []string {
	if len(m.trust.Pending) == 0 {
		return nil
	}
	s := m.c.Styles
	out := []string{"", s.Title.Render("Pending trust requests") + s.Dim.Render("  ↓ selects · a trusts · x denies · enter shows")}
	for i, p := range m.trust.Pending {
		mark := "  "
		if m.cursor == len(m.rows)+i {
			mark = "› "
		}
		line := fmt.Sprintf("%s%-16s %-8s %-22s %d attempt(s), last %s", mark, cut(models.Printable(orDash(p.Name)), 16),
			models.Printable(models.ShortNodeID(p.ID)), cut(models.Printable(orDash(p.Address)), 22), p.Count, m.when(p.LastSeen))
		if mark != "  " {
			out = append(out, s.Selected.Render(line))
		} else {
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// replicaLines are this node's replicas and how their sync goes.
func (m *Model) replicaLines() []string {
	if len(m.replicas) == 0 {
		return nil
	}
	s := m.c.Styles
	out := []string{"", s.Title.Render("Replicas on this node")}
	for _, r := range m.replicas {
		last := "never"
		if !r.LastSync.IsZero() {
			last = m.when(r.LastSync)
		}
		line := fmt.Sprintf("  %-22s from %-14s %-8s last sync %-12s %s received", cut(models.Printable(r.Name), 22),
			cut(models.Printable(orDash(r.PrimaryNode)), 14), models.Printable(string(r.State)), last, humanize.Bytes(uint64(r.BytesReceived)))
		if r.Message != "" {
			line += "  " + models.Printable(r.Message)
		}
		out = append(out, s.Row.Render(line))
	}
	return out
}

// extraLines are the replicas here and the pending trust requests.
func (m *Model) extraLines() []string { return append(m.replicaLines(), m.pendingLines()...) }

// dialogText is lines wrapped to the dialog's width.
func (m *Model) dialogText(lines []string) string { return strings.Join(m.wrapped(lines), "\n") }
