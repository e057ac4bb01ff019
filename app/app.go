// Package app is nest's root model: it owns the tab bar, the pages
// opened over the tabs (logs, inspect, editor), the help overlay, the
// command palette, toasts and the status bar, and routes messages to the
// views. Its Update only routes (STYLE 7); each view handles its own
// messages. backend.go implements common.Backend over the real engine.
package app

import (
	"fmt"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/palette"
)

// Minimum terminal size nest draws in.
const (
	MinWidth  = 60
	MinHeight = 15
)

// Options tune New.
type Options struct {
	// Tabs are the top-level views; nil means DefaultTabs.
	Tabs []Tab
	// Pages are the views opened for a container or file; nil means DefaultPages.
	Pages []Page
}

// Model is nest's root model. Create it with New.
type Model struct {
	c             common.Common
	keys          globalKeys
	tabs          []Tab
	views         []common.Component
	started       []bool // started[i]: tab i has run its Init
	pages         map[string]Page
	active        int
	stack         []openPage
	palette       *palette.Model
	showHelp      bool
	dialog        *dialog // the confirm dialog, nil when none is up
	note          string  // a status-bar note (the keeper starting)
	toasts        []toast
	toastSeq      int
	info          engine.SystemInfo
	width, height int
	fitted        fitted // the last view frame fitted to the screen (see content)
}

type openPage struct {
	page Page
	view common.Component
}

// infoMsg carries the node description for the status bar.
type infoMsg struct{ info engine.SystemInfo }

// New builds every tab's view.
func New(c common.Common, opts Options) *Model {
	tabs, pages := opts.Tabs, opts.Pages
	if tabs == nil {
		tabs = DefaultTabs()
	}
	if pages == nil {
		pages = DefaultPages()
	}
	m := &Model{c: c, keys: newGlobalKeys(c, len(tabs)), tabs: tabs, pages: map[string]Page{}, palette: palette.New(c),
		info: engine.SystemInfo{Node: c.Node}}
	for _, t := range tabs {
		m.views = append(m.views, t.New(c))
	}
	for _, p := range pages {
		m.pages[p.Name] = p
	}
	m.started = make([]bool, len(m.views))
	return m
}

// Init starts the first tab and shows it. Other tabs start when first
// shown, so that nest's first frame does not wait for their listings.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.infoCmd(), m.keeperCmd(), m.startTab(m.active), activate(m.current()))
}

// startTab runs tab i's Init the first time it is shown.
func (m *Model) startTab(i int) tea.Cmd {
	if i < 0 || i >= len(m.views) || m.started[i] {
		return nil
	}
	m.started[i] = true
	return m.views[i].Init()
}

func (m *Model) infoCmd() tea.Cmd {
	ib, ok := m.c.Backend.(common.InfoBackend)
	if !ok {
		return nil
	}
	ctx := m.c.Ctx
	return func() tea.Msg {
		// The status bar shows containerd's version, not runc's: no
		// runc process competes with nest's first table.
		info, err := ib.Info(ctx, engine.InfoOptions{SkipRuntimeVersion: true})
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("containerd info: %w", err)}
		}
		return infoMsg{info: info}
	}
}

// current is the view shown: the top page, else the active tab.
func (m *Model) current() common.Component {
	if n := len(m.stack); n > 0 {
		return m.stack[n-1].view
	}
	return m.views[m.active]
}

// Update routes: resize, global keys, errors and toasts, view switching;
// keys go to the view shown, every other message to every view.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case common.ErrorMsg:
		return m, m.addToast(errdefs.Message(msg.Err), true)
	case common.ToastMsg:
		return m, m.addToast(msg.Text, false)
	case toastExpiredMsg:
		m.expireToast(msg.id)
		return m, nil
	case infoMsg:
		m.info = msg.info
		return m, nil
	case common.SwitchViewMsg:
		return m, m.switchView(msg)
	case common.ConfirmMsg:
		return m, m.openDialog(msg)
	case keeperStateMsg, keeperStartedMsg:
		return m, m.onKeeper(msg)
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	}
	return m, m.broadcast(msg)
}

// broadcast gives a message to every view: streams and replies are tagged,
// and each view drops what is not its own.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := []tea.Cmd{m.palette.Update(msg)}
	for _, v := range m.views {
		_, cmd := v.Update(msg)
		cmds = append(cmds, cmd)
	}
	for _, p := range m.stack {
		_, cmd := p.view.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.ForceQuit):
		return tea.Quit
	case m.dialog != nil:
		return m.dialogKey(msg)
	case m.palette.IsOpen():
		return m.palette.Update(msg)
	case m.showHelp:
		m.showHelp = !(key.Matches(msg, k.Help) || key.Matches(msg, k.Back) || key.Matches(msg, k.Quit))
		return nil
	case capturing(m.current()):
		_, cmd := m.current().Update(msg)
		return cmd
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Palette):
		return m.palette.Open()
	case key.Matches(msg, k.NextTab):
		return m.selectTab((m.active + 1) % len(m.tabs))
	case key.Matches(msg, k.PrevTab):
		return m.selectTab((m.active + len(m.tabs) - 1) % len(m.tabs))
	case key.Matches(msg, k.Back) && len(m.stack) > 0:
		return m.pop()
	default:
		for i, b := range k.Tabs {
			if key.Matches(msg, b) {
				return m.selectTab(i)
			}
		}
		_, cmd := m.current().Update(msg)
		return cmd
	}
	return nil
}

// *engine.Engine is nest's backend as it is: every interface views reach
// the engine through is a list of its own methods.
var (
	_ common.Backend            = (*engine.Engine)(nil)
	_ common.InfoBackend        = (*engine.Engine)(nil)
	_ common.PeerBackend        = (*engine.Engine)(nil)
	_ common.KeeperStarter      = (*engine.Engine)(nil)
	_ common.NetworkBackend     = (*engine.Engine)(nil)
	_ common.ServiceBackend     = (*engine.Engine)(nil)
	_ common.ReplicationBackend = (*engine.Engine)(nil)
	_ common.SecretBackend      = (*engine.Engine)(nil)
)
