package app

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/views/common"
)

// nest starts the node's keeper when none runs, as `budgie run` does:
// discovery (the Peers tab), restarts, health checks and replication
// live in it. While it starts, the status bar says so.

// keeperStateMsg says whether a keeper answered at launch.
type keeperStateMsg struct{ running bool }

// keeperStartedMsg is the end of starting one.
type keeperStartedMsg struct{ err error }

// keeperCmd asks whether the keeper runs; nil when the backend cannot
// start one.
func (m *Model) keeperCmd() tea.Cmd {
	ks, ok := m.c.Backend.(common.KeeperStarter)
	if !ok {
		return nil
	}
	ctx := m.c.Ctx
	return func() tea.Msg { return keeperStateMsg{running: ks.KeeperRunning(ctx)} }
}

// onKeeper handles the keeper's state and the end of its start.
func (m *Model) onKeeper(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case keeperStateMsg:
		if msg.running {
			return nil
		}
		m.note = "starting the node keeper…"
		ks, ctx := m.c.Backend.(common.KeeperStarter), m.c.Ctx
		return func() tea.Msg { return keeperStartedMsg{err: ks.StartKeeper(ctx)} }
	case keeperStartedMsg:
		m.note = ""
		if msg.err != nil {
			return m.addToast(fmt.Sprintf("the node keeper did not start (Peers browses by itself; restarts need it): %s", errdefs.Message(msg.err)), true)
		}
		return tea.Batch(m.addToast("started the node keeper: discovery, restarts and replication run", false), m.warmLiveList())
	}
	return nil
}

// warmLiveList asks the keeper just started for one container of its live
// list, so that the list starts following events (it costs the keeper
// nothing until asked) and the next nest draws its first table from it.
// The answer is not used: this nest already has containerd's listing.
func (m *Model) warmLiveList() tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		_, _ = b.LiveContainers(ctx, engine.LiveContainersOptions{Limit: 1})
		return nil
	}
}
