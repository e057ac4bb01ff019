package peers

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/dustin/go-humanize"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// mode is what the view is doing besides browsing.
type mode int

const (
	browsing mode = iota
	planning      // the dry run that the replicate dialog shows runs
	replicating
)

// Messages of the replication and trust commands.
type (
	// extrasMsg carries the replicas' status and the trust list.
	extrasMsg struct {
		seq      int
		replicas []models.ReplicaStatus
		trust    models.TrustList
	}
	// confirmedMsg is the root dialog's yes to replicating job's plan.
	confirmedMsg struct{ job int }
	// plannedMsg is the dry run's answer: what would run here.
	plannedMsg struct {
		job int
		rep replica.Result
		err error
	}
	progressMsg struct {
		job int
		p   replica.Progress
	}
	replicatedMsg struct {
		job int
		rep replica.Result
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
		reps, _ := rb.ReplicaStatus(ctx)
		trust, _ := rb.TrustList(ctx)
		return extrasMsg{seq: seq, replicas: reps, trust: trust}
	}
}

// startReplicate runs a dry run of replicating the cursor's container;
// its answer opens the confirm dialog (onReplication).
func (m *Model) startReplicate() tea.Cmd {
	n, p := m.selected()
	if p == nil {
		return common.ToastCmd("select a container to replicate (R)")
	}
	rb, ok := m.c.Backend.(common.ReplicationBackend)
	if !ok {
		return common.ToastCmd("this nest cannot replicate")
	}
	if n.Local {
		return common.ToastCmd(models.Printable(p.Name) + " already runs on this node")
	}
	m.job++
	// The reference is the row's own IDs, so that the dry run and the
	// replication ask for the same container of the same node.
	m.mode, m.ref, m.target, m.plan = planning, p.ContainerID+"@"+n.ID, p.Name+"@"+n.Name, replica.Result{}
	job, ctx, ref := m.job, m.ctx(), m.ref
	return func() tea.Msg {
		rep, err := rb.Replicate(ctx, engine.ReplicateOptions{Ref: ref, Sync: true, DryRun: true})
		return plannedMsg{job: job, rep: rep, err: err}
	}
}

// onPlanningKey handles keys while the dry run runs: esc gives up.
func (m *Model) onPlanningKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Close) {
		m.job++ // its answer is now stale
		m.mode = browsing
	}
	return nil
}

// replicate runs the replication, streaming its progress through a
// channel read one message at a time (STYLE rule 9).
func (m *Model) replicate() tea.Cmd {
	rb := m.c.Backend.(common.ReplicationBackend)
	m.job++
	job, ctx, ref := m.job, m.ctx(), m.ref
	ch := make(chan tea.Msg, 16)
	m.progressCh, m.progress, m.mode = ch, replica.Progress{What: "connecting"}, replicating
	go func() {
		rep, err := rb.Replicate(ctx, engine.ReplicateOptions{Ref: ref, Sync: true, Progress: func(p replica.Progress) {
			select { // drop a step rather than stall the transfer
			case ch <- progressMsg{job: job, p: p}:
			default:
			}
		}})
		ch <- replicatedMsg{job: job, rep: rep, err: err}
	}()
	return waitProgress(ch)
}

func waitProgress(ch <-chan tea.Msg) tea.Cmd { return func() tea.Msg { return <-ch } }

// onReplication handles the dry run's answer, progress and the end of a
// replication.
func (m *Model) onReplication(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case plannedMsg:
		if msg.job != m.job || m.mode != planning {
			return nil
		}
		if msg.err != nil {
			m.mode = browsing
			return common.ErrorCmd(models.PrintableError(msg.err))
		}
		m.mode, m.plan = browsing, msg.rep
		job := m.job
		return common.AskConfirm(m.planBody(msg.rep), "Replicate", func() tea.Msg { return confirmedMsg{job: job} })
	case confirmedMsg:
		if msg.job != m.job || m.mode != browsing {
			return nil
		}
		return m.replicate()
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
			return common.ErrorCmd(models.PrintableError(msg.err))
		}
		return m.replicated(msg.rep)
	}
	return nil
}

// replicated toasts the replica and opens its Inspect page. A plan that
// changed since the dialog showed it is reported: the replica runs what
// the primary said the second time, admitted by the same rules.
func (m *Model) replicated(rep replica.Result) tea.Cmd {
	id := rep.Container.ID
	cmds := []tea.Cmd{common.ToastCmd("replicated " + models.Printable(m.target) + " as " + models.Printable(rep.Admission.Spec.Name)),
		m.fetch(), func() tea.Msg { return common.SwitchViewMsg{View: "details", ContainerID: id} }}
	if !reflect.DeepEqual(rep.Admission.Spec, m.plan.Admission.Spec) || !reflect.DeepEqual(rep.Admission.Refused, m.plan.Admission.Refused) {
		cmds = append(cmds, common.ErrorCmd(errors.New("the primary's plan changed after the dialog showed it; check the replica's Inspect page")))
	}
	return tea.Batch(cmds...)
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

// planningView is the panel shown while the dry run runs.
func (m *Model) planningView() string {
	s := m.c.Styles
	return strings.Join([]string{s.Title.Render("Replicate " + models.Printable(m.target)), "",
		"asking the primary for its plan…", "", s.Dim.Render("esc cancels")}, "\n")
}

// progressView is the replication's progress panel.
func (m *Model) progressView() string {
	p, s := m.progress, m.c.Styles
	lines := []string{s.Title.Render("Replicating " + models.Printable(m.target)), ""}
	line := models.Printable(p.What)
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
