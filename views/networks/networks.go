// Package networks is nest's Networks view: the node's networks (bridge,
// subnet, gateway, internal) and, for the selected one, the running
// containers attached with their interface, address and MAC; creating a
// network in a form, removing one after the root's confirmation (which
// starts on Cancel), and connecting or disconnecting a container live.
package networks

import (
	"context"
	"errors"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// mode is what the view is doing.
type mode int

const (
	browsing mode = iota
	creating
	connecting
)

// focus is the list the cursor keys move in.
type focus int

const (
	onNetworks focus = iota
	onEndpoints
)

// Messages of the view's commands.
type (
	listMsg struct {
		gen  int
		nets []models.Network
		err  error
	}
	doneMsg struct {
		text string
		err  error
	}
)

// errNoNetworks is shown when the backend cannot manage networks.
var errNoNetworks = errors.Join(errors.New("this backend does not manage networks"), errdefs.ErrNotSupported)

var (
	_ common.Component     = (*Model)(nil)
	_ common.InputCapturer = (*Model)(nil)
	_ common.Focusable     = (*Model)(nil)
)

// Model is the Networks view. Use New; the zero value is not usable.
type Model struct {
	c             common.Common
	backend       common.NetworkBackend // nil when c.Backend cannot manage networks
	keys          keyMap
	width, height int
	nets          []models.Network
	gen           int
	loaded        bool
	err           error
	cursor, epCur int
	focus         focus
	mode          mode
	form          *huh.Form
	// bound to the forms:
	name, subnet, gateway, container string
	internal                         bool
	// target is the network the connect form is about.
	target string
}

// New returns the Networks view; Init lists the networks.
func New(c common.Common) *Model {
	nb, _ := c.Backend.(common.NetworkBackend)
	return &Model{c: c, backend: nb, keys: newKeyMap(c)}
}

// Init lists the networks.
func (m *Model) Init() tea.Cmd { return m.list() }

// Focus lists again when the view is shown (containers come and go).
func (m *Model) Focus() tea.Cmd { return m.list() }

// Blur does nothing: the view does not poll.
func (m *Model) Blur() {}

// SetSize sets the cells the view may draw in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	if m.form != nil {
		m.form.WithWidth(min(width-4, 72))
	}
}

// CapturingInput reports whether a form takes the keys as text.
func (m *Model) CapturingInput() bool { return m.mode == creating || m.mode == connecting }

func (m *Model) ctx() context.Context {
	if m.c.Ctx != nil {
		return m.c.Ctx
	}
	return context.Background()
}

// list asks the backend for the networks, tagged with a new generation so
// that a slow answer never overwrites a newer one.
func (m *Model) list() tea.Cmd {
	m.gen++
	gen, ctx, b := m.gen, m.ctx(), m.backend
	return func() tea.Msg {
		if b == nil {
			return listMsg{gen: gen, err: errNoNetworks}
		}
		nets, err := b.Networks(ctx)
		return listMsg{gen: gen, nets: nets, err: err}
	}
}

// Update handles keys, container events and the results of backend calls.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listMsg:
		if msg.gen == m.gen {
			m.onList(msg)
		}
		return m, nil
	case doneMsg:
		if msg.err != nil {
			return m, tea.Batch(m.list(), common.ErrorCmd(msg.err))
		}
		return m, tea.Batch(m.list(), common.ToastCmd(msg.text))
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	if m.mode == creating || m.mode == connecting {
		return m, m.updateForm(msg)
	}
	return m, nil
}

// onList shows a new listing, keeping the cursor on the same network.
func (m *Model) onList(msg listMsg) {
	m.loaded, m.err = true, msg.err
	if msg.err != nil {
		return
	}
	selected := m.selected().Name
	m.nets = msg.nets
	m.cursor = common.CursorAfterReload(m.nets, m.cursor, selected, func(n models.Network) string { return n.Name })
	m.epCur = min(m.epCur, max(len(m.selected().Endpoints)-1, 0))
	if len(m.selected().Endpoints) == 0 {
		m.focus = onNetworks
	}
}

// selected is the network under the cursor (zero when there is none).
func (m *Model) selected() models.Network {
	if m.cursor < len(m.nets) {
		return m.nets[m.cursor]
	}
	return models.Network{}
}

// selectedEndpoint is the endpoint under the endpoint cursor, if any.
func (m *Model) selectedEndpoint() (models.Endpoint, bool) {
	eps := m.selected().Endpoints
	if m.epCur < len(eps) {
		return eps[m.epCur], true
	}
	return models.Endpoint{}, false
}

// onKey handles a key in the current mode.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	switch m.mode {
	case creating, connecting:
		if key.Matches(msg, m.keys.Cancel) {
			m.closeForm()
			return nil
		}
		return m.updateForm(msg)
	}
	return m.onBrowseKey(msg)
}

func (m *Model) onBrowseKey(msg tea.KeyMsg) tea.Cmd {
	n := m.selected()
	switch {
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(1)
	case key.Matches(msg, m.keys.Switch):
		if m.focus == onNetworks && len(n.Endpoints) > 0 {
			m.focus = onEndpoints
		} else {
			m.focus = onNetworks
		}
	case key.Matches(msg, m.keys.Refresh):
		return m.list()
	case key.Matches(msg, m.keys.Create):
		if m.backend == nil {
			return common.ErrorCmd(errNoNetworks)
		}
		return m.openCreate()
	case key.Matches(msg, m.keys.Connect):
		if n.Name != "" {
			return m.openConnect()
		}
	case key.Matches(msg, m.keys.Disconnect):
		if ep, ok := m.selectedEndpoint(); ok && m.focus == onEndpoints {
			return common.AskConfirm("Disconnect "+ep.ContainerName+" from "+n.Name+"?", "Disconnect", m.disconnect(n.Name, ep.ContainerName))
		}
	case key.Matches(msg, m.keys.Remove):
		if n.Name != "" {
			return common.AskConfirm("Remove network "+n.Name+"?", "Remove", m.remove(n.Name))
		}
	}
	return nil
}

// move moves the cursor of the focused list.
func (m *Model) move(d int) {
	if m.focus == onEndpoints {
		m.epCur = max(min(m.epCur+d, len(m.selected().Endpoints)-1), 0)
		return
	}
	m.cursor = max(min(m.cursor+d, len(m.nets)-1), 0)
	m.epCur = 0
}

// disconnect disconnects ctr from net (the root's dialog runs it).
func (m *Model) disconnect(net, ctr string) tea.Cmd {
	ctx, b := m.ctx(), m.backend
	return func() tea.Msg {
		return doneMsg{text: "disconnected " + ctr + " from " + net, err: b.Disconnect(ctx, ctr, runtime.NetworkOptions{Network: net})}
	}
}

// remove removes network net (the root's dialog runs it).
func (m *Model) remove(net string) tea.Cmd {
	ctx, b := m.ctx(), m.backend
	return func() tea.Msg {
		return doneMsg{text: "removed network " + net, err: b.RemoveNetwork(ctx, net)}
	}
}
