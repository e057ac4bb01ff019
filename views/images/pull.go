package images

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
)

// pull is the state of one image pull.
type pull struct {
	id       int
	ref      string
	layers   []string // in the order they were first reported
	progress map[string]common.PullProgress
	ch       chan tea.Msg
	cancel   context.CancelFunc
	finished bool
	err      error
}

// pullMsg is one progress report of pull id.
type pullMsg struct {
	id int
	p  common.PullProgress
}

// pullDoneMsg ends pull id.
type pullDoneMsg struct {
	id  int
	err error
}

// startPull runs Backend.PullImage in a command. Its progress callback runs
// in that command's goroutine and sends each report through a buffered
// channel, which waitPull reads one message at a time.
func (m *Model) startPull(ref string) tea.Cmd {
	m.pullSeq++
	ctx, cancel := context.WithCancel(m.ctx())
	p := &pull{id: m.pullSeq, ref: ref, progress: map[string]common.PullProgress{}, ch: make(chan tea.Msg, 64), cancel: cancel}
	m.pull = p
	backend, id, ch := m.c.Backend, p.id, p.ch
	run := func() tea.Msg {
		defer close(ch)
		err := backend.PullImage(ctx, ref, func(pp common.PullProgress) {
			select {
			case ch <- pullMsg{id: id, p: pp}:
			case <-ctx.Done():
			}
		})
		select {
		case ch <- pullDoneMsg{id: id, err: err}:
		case <-ctx.Done():
		}
		return nil
	}
	return tea.Batch(run, waitPull(ch))
}

// waitPull returns the next message of a pull, or nil once it is over.
func waitPull(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

// onPullProgress records a report and waits for the next one; reports of
// an earlier (cancelled) pull are dropped.
func (m *Model) onPullProgress(msg pullMsg) tea.Cmd {
	p := m.pull
	if p == nil || msg.id != p.id || p.finished {
		return nil
	}
	if _, seen := p.progress[msg.p.Layer]; !seen {
		p.layers = append(p.layers, msg.p.Layer)
	}
	p.progress[msg.p.Layer] = msg.p
	return waitPull(p.ch)
}

// onPullDone ends the pull and refreshes the list.
func (m *Model) onPullDone(msg pullDoneMsg) tea.Cmd {
	p := m.pull
	if p == nil || msg.id != p.id {
		return nil
	}
	p.finished, p.err = true, msg.err
	p.cancel()
	if msg.err != nil {
		return common.ErrorCmd(fmt.Errorf("pull %s: %w", p.ref, msg.err))
	}
	return tea.Batch(m.list(), toast("pulled "+p.ref))
}

// cancelPull stops a pull under way.
func (m *Model) cancelPull() tea.Cmd {
	if m.pull == nil || m.pull.finished {
		return nil
	}
	m.pull.cancel()
	ref := m.pull.ref
	m.pull = nil
	return toast("pull of " + ref + " cancelled")
}
