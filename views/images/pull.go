package images

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	engimages "github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/views/common"
)

// pull is the state of one image pull.
type pull struct {
	id       int
	ref      string
	layers   []string                      // in the order they were first reported
	progress map[string]engimages.Progress // by layer (shortID of its digest)
	ch       chan tea.Msg
	cancel   context.CancelFunc
	finished bool
	err      error
}

// pullMsg is one progress report of pull id.
type pullMsg struct {
	id int
	p  engimages.Progress
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
	p := &pull{id: m.pullSeq, ref: ref, progress: map[string]engimages.Progress{}, ch: make(chan tea.Msg, 64), cancel: cancel}
	m.pull = p
	backend, id, ch := m.c.Backend, p.id, p.ch
	run := func() tea.Msg {
		defer close(ch)
		_, err := backend.PullImage(ctx, ref, engimages.PullOptions{Progress: func(pp engimages.Progress) {
			select {
			case ch <- pullMsg{id: id, p: pp}:
			case <-ctx.Done():
			}
		}})
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
	layer := layerName(msg.p.Digest)
	if _, seen := p.progress[layer]; !seen {
		p.layers = append(p.layers, layer)
	}
	p.progress[layer] = msg.p
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

// layerName is how a layer is shown while pulling: the first 12 hex digits
// of its digest, or the whole digest when it is that short.
func layerName(digest string) string {
	if _, hex, ok := strings.Cut(digest, ":"); ok && len(hex) > 12 {
		return hex[:12]
	}
	return digest
}
