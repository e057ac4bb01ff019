package peers

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/dustin/go-humanize"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// mode is what the view is doing besides browsing.
type mode int

const (
	browsing mode = iota
	confirmReplicate
	replicating
	confirmAccept
	confirmDeny
)

// Messages of the replication and trust commands.
type (
	// extrasMsg carries the replicas' status and the trust list.
	extrasMsg struct {
		seq      int
		replicas []models.ReplicaStatus
		trust    models.TrustList
	}
	progressMsg struct {
		job int
		p   common.ReplicateProgress
	}
	replicatedMsg struct {
		job int
		ctr models.Container
		err error
	}
	trustDoneMsg struct {
		text string
		err  error
	}
)

// fetchExtras asks for the replicas' status and the trust list; either
// may be missing (no keeper, no replication backend), which shows nothing.
func (m *Model) fetchExtras(seq int) tea.Cmd {
	rb, ok := m.c.Backend.(common.ReplicationBackend)
	if !ok {
		return nil
	}
	ctx := m.ctx()
	return func() tea.Msg {
		reps, _ := rb.Replicas(ctx)
		trust, _ := rb.TrustList(ctx)
		return extrasMsg{seq: seq, replicas: reps, trust: trust}
	}
}

// startReplicate asks to confirm replicating the cursor's container.
func (m *Model) startReplicate() tea.Cmd {
	n, p := m.selected()
	if p == nil {
		return common.ToastCmd("select a container to replicate (R)")
	}
	if _, ok := m.c.Backend.(common.ReplicationBackend); !ok {
		return common.ToastCmd("this nest cannot replicate")
	}
	if n.Local {
		return common.ToastCmd(p.Name + " already runs on this node")
	}
	m.mode, m.target = confirmReplicate, p.Name+"@"+n.Name
	m.confirm = common.NewConfirm(m.c, "Replicate "+p.Name+" from "+n.Name+" to this node, kept in sync?", "Replicate")
	return nil
}

// replicate runs the replication, streaming its progress through a
// channel read one message at a time (STYLE rule 9).
func (m *Model) replicate() tea.Cmd {
	rb := m.c.Backend.(common.ReplicationBackend)
	m.job++
	job, ctx, ref := m.job, m.ctx(), m.target
	ch := make(chan tea.Msg, 16)
	m.progressCh, m.progress, m.mode = ch, common.ReplicateProgress{What: "connecting"}, replicating
	go func() {
		ctr, err := rb.Replicate(ctx, ref, true, func(p common.ReplicateProgress) {
			select { // drop a step rather than stall the transfer
			case ch <- progressMsg{job: job, p: p}:
			default:
			}
		})
		ch <- replicatedMsg{job: job, ctr: ctr, err: err}
	}()
	return waitProgress(ch)
}

func waitProgress(ch <-chan tea.Msg) tea.Cmd { return func() tea.Msg { return <-ch } }

// onReplication handles progress and the end of a replication.
func (m *Model) onReplication(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case progressMsg:
		if msg.job != m.job {
			return nil
		}
		m.progress = msg.p
		return waitProgress(m.progressCh)
	case replicatedMsg:
		if msg.job != m.job {
			return nil
		}
		m.mode = browsing
		if msg.err != nil {
			return common.ErrorCmd(msg.err)
		}
		id := msg.ctr.ID
		return tea.Batch(common.ToastCmd("replicated "+m.target+" as "+msg.ctr.Name), m.fetch(),
			func() tea.Msg { return common.SwitchViewMsg{View: "details", ContainerID: id} })
	}
	return nil
}

// startTrust asks to accept or deny the oldest pending request.
func (m *Model) startTrust(accept bool) tea.Cmd {
	if len(m.trust.Pending) == 0 {
		return common.ToastCmd("no pending requests")
	}
	p := m.trust.Pending[0]
	who := fmt.Sprintf("%s (%s)", orDash(p.Name), models.ShortNodeID(p.ID))
	m.pendingID, m.pendingName = p.ID, p.Name
	if accept {
		m.mode = confirmAccept
		m.confirm = common.NewConfirm(m.c, "Trust node "+who+"? It may then replicate the containers you share.", "Trust")
	} else {
		m.mode = confirmDeny
		m.confirm = common.NewConfirm(m.c, "Deny node "+who+"?", "Deny")
	}
	return nil
}

// onConfirmKey handles the dialogs; they start on Cancel.
func (m *Model) onConfirmKey(msg tea.KeyMsg) tea.Cmd {
	m.confirm.Update(msg)
	if !m.confirm.Done() {
		return nil
	}
	what := m.mode
	m.mode = browsing
	if !m.confirm.OK() {
		return nil
	}
	rb := m.c.Backend.(common.ReplicationBackend)
	ctx, id, name := m.ctx(), m.pendingID, m.pendingName
	switch what {
	case confirmReplicate:
		return m.replicate()
	case confirmAccept:
		return func() tea.Msg { return trustDoneMsg{text: "trusted " + orDash(name), err: rb.TrustPeer(ctx, id, name)} }
	case confirmDeny:
		return func() tea.Msg { return trustDoneMsg{text: "denied " + orDash(name), err: rb.DenyPeer(ctx, id)} }
	}
	return nil
}

// replicationKey handles R, a and x; it reports whether the key was one.
func (m *Model) replicationKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, m.keys.Replicate):
		return m.startReplicate(), true
	case key.Matches(msg, m.keys.Accept):
		return m.startTrust(true), true
	case key.Matches(msg, m.keys.Deny):
		return m.startTrust(false), true
	}
	return nil, false
}

// progressView is the replication's progress panel.
func (m *Model) progressView() string {
	p, s := m.progress, m.c.Styles
	lines := []string{s.Title.Render("Replicating " + m.target), ""}
	line := p.What
	if p.BytesTotal > 0 {
		line += fmt.Sprintf("  %s / %s", humanize.Bytes(uint64(p.BytesDone)), humanize.Bytes(uint64(p.BytesTotal)))
	}
	if p.FilesTotal > 0 {
		line += fmt.Sprintf("  %d/%d files", p.FilesDone, p.FilesTotal)
	}
	if p.Rate > 0 {
		line += fmt.Sprintf("  %s/s  ETA %s", humanize.Bytes(uint64(p.Rate)), p.ETA.Round(1e8))
	}
	return strings.Join(append(lines, line, "", s.Dim.Render("the replica opens when it runs")), "\n")
}

// extraLines are the replicas here and the pending trust requests.
func (m *Model) extraLines() []string {
	s := m.c.Styles
	var out []string
	if len(m.replicas) > 0 {
		out = append(out, "", s.Title.Render("Replicas on this node"))
		for _, r := range m.replicas {
			last := "never"
			if !r.LastSync.IsZero() {
				last = m.when(r.LastSync)
			}
			line := fmt.Sprintf("  %-22s from %-14s %-8s last sync %-12s %s received", cut(r.Name, 22),
				cut(orDash(r.PrimaryNode), 14), r.State, last, humanize.Bytes(uint64(r.BytesReceived)))
			if r.Message != "" {
				line += "  " + r.Message
			}
			out = append(out, s.Row.Render(line))
		}
	}
	if len(m.trust.Pending) > 0 {
		out = append(out, "", s.Title.Render("Pending trust requests")+s.Dim.Render("  a trusts, x denies the first"))
		for i, p := range m.trust.Pending {
			line := fmt.Sprintf("  %-16s %-8s %-22s %d attempt(s), last %s", cut(orDash(p.Name), 16), models.ShortNodeID(p.ID),
				orDash(p.Address), p.Count, m.when(p.LastSeen))
			if i == 0 {
				out = append(out, s.Selected.Render(line))
			} else {
				out = append(out, s.Row.Render(line))
			}
		}
	}
	return out
}
