// Package secrets is nest's Secrets view: the node's secrets with their
// size, age and users (never their values); creating one in a form whose
// value field echoes only masks; inspecting one (which authenticates its
// file); and removing one after the root's confirmation, which
// starts on Cancel.
package secrets

import (
	"context"
	"errors"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/budgie-sh/budgie/engine/errdefs"
	engsecrets "github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/views/common"
)

// mode is what the view is doing.
type mode int

const (
	browsing mode = iota
	creating
	inspecting
)

// Messages of the view's commands.
type (
	listMsg struct {
		gen     int
		secrets []engsecrets.Secret
		err     error
	}
	createdMsg struct {
		name string
		err  error
	}
	inspectMsg struct {
		info engsecrets.Secret
		err  error
	}
	removedMsg struct {
		name string
		err  error
	}
)

// errNoSecrets is shown when the backend cannot manage secrets.
var errNoSecrets = errors.Join(errors.New("this backend does not manage secrets"), errdefs.ErrNotSupported)

var (
	_ common.Component     = (*Model)(nil)
	_ common.InputCapturer = (*Model)(nil)
)

// Model is the Secrets view. Use New; the zero value is not usable.
type Model struct {
	c             common.Common
	backend       common.SecretBackend // nil when c.Backend cannot manage secrets
	keys          keyMap
	width, height int
	secrets       []engsecrets.Secret
	listGen       int
	loaded        bool
	err           error
	cursor        int
	mode          mode
	form          *huh.Form
	name, value   string // bound to the form
	inspected     engsecrets.Secret
}

// New returns the Secrets view; Init lists the secrets.
func New(c common.Common) *Model {
	sb, _ := c.Backend.(common.SecretBackend)
	return &Model{c: c, backend: sb, keys: newKeyMap(c)}
}

// Init lists the secrets.
func (m *Model) Init() tea.Cmd { return m.list() }

// SetSize sets the cells the view may draw in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	if m.form != nil {
		m.form.WithWidth(min(width-4, 72))
	}
}

// CapturingInput reports whether the create form takes the keys as text.
func (m *Model) CapturingInput() bool { return m.mode == creating }

func (m *Model) ctx() context.Context {
	if m.c.Ctx != nil {
		return m.c.Ctx
	}
	return context.Background()
}

// list asks the backend for the secrets, tagged with a new generation.
func (m *Model) list() tea.Cmd {
	m.listGen++
	gen, ctx, b := m.listGen, m.ctx(), m.backend
	return func() tea.Msg {
		if b == nil {
			return listMsg{gen: gen, err: errNoSecrets}
		}
		list, err := b.Secrets(ctx)
		return listMsg{gen: gen, secrets: list, err: err}
	}
}

// Update handles keys and the results of the backend calls.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listMsg:
		if msg.gen == m.listGen {
			m.onList(msg)
		}
		return m, nil
	case createdMsg:
		return m, m.done(msg.err, "created secret "+msg.name)
	case removedMsg:
		return m, m.done(msg.err, "removed secret "+msg.name)
	case inspectMsg:
		if msg.err != nil {
			m.mode = browsing
			return m, common.ErrorCmd(msg.err)
		}
		m.inspected = msg.info
		return m, nil
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	if m.mode == creating {
		return m, m.updateForm(msg)
	}
	return m, nil
}

// done reports an action's outcome and refreshes the list.
func (m *Model) done(err error, text string) tea.Cmd {
	if err != nil {
		return tea.Batch(m.list(), common.ErrorCmd(err))
	}
	return tea.Batch(m.list(), common.ToastCmd(text))
}

// onList shows a new listing, keeping the cursor on the same secret.
func (m *Model) onList(msg listMsg) {
	m.loaded, m.err = true, msg.err
	if msg.err != nil {
		return
	}
	selected := m.selected().Name
	m.secrets = msg.secrets
	m.cursor = common.CursorAfterReload(m.secrets, m.cursor, selected, func(s engsecrets.Secret) string { return s.Name })
}

// selected is the secret under the cursor (zero when there is none).
func (m *Model) selected() engsecrets.Secret {
	if m.cursor < len(m.secrets) {
		return m.secrets[m.cursor]
	}
	return engsecrets.Secret{}
}

// onKey handles a key in the current mode.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	switch m.mode {
	case creating:
		if key.Matches(msg, m.keys.Cancel) {
			m.closeForm()
			return nil
		}
		return m.updateForm(msg)
	case inspecting:
		if key.Matches(msg, m.keys.Cancel, m.keys.Inspect) {
			m.mode = browsing
		}
		return nil
	}
	return m.onBrowseKey(msg)
}

func (m *Model) onBrowseKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		m.cursor = max(min(m.cursor+1, len(m.secrets)-1), 0)
	case key.Matches(msg, m.keys.Refresh):
		return m.list()
	case key.Matches(msg, m.keys.Create):
		if m.backend == nil {
			return common.ErrorCmd(errNoSecrets)
		}
		return m.openForm()
	case key.Matches(msg, m.keys.Inspect):
		if s := m.selected(); s.Name != "" {
			m.mode, m.inspected = inspecting, engsecrets.Secret{Name: s.Name}
			ctx, b, name := m.ctx(), m.backend, s.Name
			return func() tea.Msg {
				info, err := b.InspectSecret(ctx, name)
				return inspectMsg{info: info, err: err}
			}
		}
	case key.Matches(msg, m.keys.Remove), key.Matches(msg, m.keys.ForceRemove):
		if s := m.selected(); s.Name != "" {
			force := key.Matches(msg, m.keys.ForceRemove)
			verb := "Remove"
			if force {
				verb = "Force remove"
			}
			return common.AskConfirm(verb+" secret "+s.Name+"?", verb, m.remove(s.Name, force))
		}
	}
	return nil
}

// remove removes secret name (the root's dialog runs it).
func (m *Model) remove(name string, force bool) tea.Cmd {
	ctx, b := m.ctx(), m.backend
	return func() tea.Msg {
		return removedMsg{name: name, err: b.RemoveSecret(ctx, name, engsecrets.RemoveOptions{Force: force})}
	}
}
