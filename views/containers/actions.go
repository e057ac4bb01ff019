package containers

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/filepicker"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// bundleRanMsg reports the containers a bundle started.
type bundleRanMsg struct {
	path       string
	containers []models.Container
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	if m.filtering {
		return m.updateFilter(msg)
	}
	if m.handleMove(msg) {
		return nil
	}
	if m.handleSort(msg) {
		return nil
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Mark):
		if c, ok := m.selected(); ok {
			m.marked[c.ID] = !m.marked[c.ID]
			if !m.marked[c.ID] {
				delete(m.marked, c.ID)
			}
			m.moveCursor(1)
		}
	case key.Matches(msg, k.MarkAll):
		m.toggleAll()
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.input.SetValue(m.query)
		m.input.CursorEnd()
		return m.input.Focus()
	case key.Matches(msg, k.ClearFilter) && (m.query != "" || len(m.marked) > 0):
		m.query = ""
		clear(m.marked)
		m.refresh()
	case key.Matches(msg, k.Start):
		return m.ask("start", false)
	case key.Matches(msg, k.Stop):
		return m.ask("stop", true)
	case key.Matches(msg, k.Pause):
		return m.togglePause()
	case key.Matches(msg, k.Restart):
		return m.ask("restart", true)
	case key.Matches(msg, k.Remove):
		return m.ask("remove", true)
	case key.Matches(msg, k.RunBundle):
		return m.openPicker()
	default:
		return m.handleOpen(msg)
	}
	return nil
}

// handleOpen handles the keys that leave the view or the process.
func (m *Model) handleOpen(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if key.Matches(msg, k.NewBundle) {
		return switchTo("editor", "", "")
	}
	c, ok := m.selected()
	if !ok {
		return nil
	}
	switch {
	case key.Matches(msg, k.Details):
		return switchTo("details", c.ID, "")
	case key.Matches(msg, k.Logs):
		return switchTo("logs", c.ID, "")
	case key.Matches(msg, k.Shell):
		return m.shell(c)
	case key.Matches(msg, k.Copy):
		return m.copyID(c)
	case key.Matches(msg, k.EditBundle):
		if c.BundlePath == "" {
			return common.ErrorCmd(fmt.Errorf("%s was not created from a bundle file: nothing to edit", c.Name))
		}
		return switchTo("editor", c.ID, c.BundlePath)
	}
	return nil
}

func switchTo(view, id, path string) tea.Cmd {
	return func() tea.Msg { return common.SwitchViewMsg{View: view, ContainerID: id, Path: path} }
}

func (m *Model) handleMove(msg tea.KeyMsg) bool {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		m.moveCursor(-1)
	case key.Matches(msg, k.Down):
		m.moveCursor(1)
	case key.Matches(msg, k.PageUp):
		m.moveCursor(-m.tableHeight())
	case key.Matches(msg, k.PageDown):
		m.moveCursor(m.tableHeight())
	case key.Matches(msg, k.Top):
		m.moveCursor(-len(m.visible))
	case key.Matches(msg, k.Bottom):
		m.moveCursor(len(m.visible))
	default:
		return false
	}
	return true
}

func (m *Model) moveCursor(delta int) {
	m.cursor = max(min(m.cursor+delta, len(m.visible)-1), 0)
	m.clampOffset()
}

// handleSort sorts by a column: shift+letter picks it (again: reverse),
// < and > step through the columns.
func (m *Model) handleSort(msg tea.KeyMsg) bool {
	col := -1
	switch {
	case key.Matches(msg, m.keys.SortNext):
		col = (m.sortCol + 1) % len(columns)
	case key.Matches(msg, m.keys.SortPrev):
		col = (m.sortCol + len(columns) - 1) % len(columns)
	default:
		for _, sk := range m.keys.sortKeys() {
			if key.Matches(msg, sk.b) {
				col = sk.col
			}
		}
	}
	if col < 0 {
		return false
	}
	if col == m.sortCol {
		m.sortDesc = !m.sortDesc
	} else {
		m.sortCol, m.sortDesc = col, false
	}
	m.refresh()
	return true
}

func (m *Model) toggleAll() {
	all := len(m.visible) > 0
	for _, i := range m.visible {
		all = all && m.marked[m.rows[i].c.ID]
	}
	for _, i := range m.visible {
		if all {
			delete(m.marked, m.rows[i].c.ID)
		} else {
			m.marked[m.rows[i].c.ID] = true
		}
	}
}

// updateFilter edits the filter live; Enter keeps it, Esc drops it.
func (m *Model) updateFilter(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEnter:
		m.filtering = false
		m.input.Blur()
		return nil
	case tea.KeyEsc:
		m.filtering = false
		m.input.Blur()
		m.query = ""
		m.refresh()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	m.query = m.input.Value()
	m.refresh()
	return cmd
}

// ask has the root confirm verb on the targets; a single start needs no
// confirmation.
func (m *Model) ask(verb string, destructive bool) tea.Cmd {
	targets := m.targets()
	if len(targets) == 0 {
		return nil
	}
	ids, names := make([]string, len(targets)), make([]string, len(targets))
	for i, c := range targets {
		ids[i], names[i] = c.ID, c.Name
	}
	if !destructive && len(targets) == 1 {
		return m.actionCmd(verb, ids)
	}
	list := strings.Join(names, ", ")
	if len(names) > 5 {
		list = strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	label := strings.ToUpper(verb[:1]) + verb[1:]
	return common.AskConfirm(fmt.Sprintf("%s %d container(s)?\n%s", label, len(ids), list), label, m.actionCmd(verb, ids))
}

// pauser is a Backend that can also freeze and thaw containers (the
// engine is one).
type pauser interface {
	Pause(ctx context.Context, ref string, opts engine.PauseOptions) (models.Container, error)
	Unpause(ctx context.Context, ref string, opts engine.PauseOptions) (models.Container, error)
}

// togglePause pauses the running targets and unpauses the paused ones;
// several targets are confirmed first. Pausing is undone by the same key,
// so one container needs no dialog.
func (m *Model) togglePause() tea.Cmd {
	targets := m.targets()
	if len(targets) == 0 {
		return nil
	}
	p, ok := m.c.Backend.(pauser)
	if !ok {
		return common.ErrorCmd(errors.New("this backend cannot pause containers"))
	}
	ctx := m.c.Ctx
	run := func() tea.Msg {
		var paused, unpaused int
		var errs []error
		for _, c := range targets {
			var err error
			switch c.State {
			case models.StatePaused:
				_, err = p.Unpause(ctx, c.ID, engine.PauseOptions{})
				unpaused++
			case models.StateRunning:
				_, err = p.Pause(ctx, c.ID, engine.PauseOptions{})
				paused++
			default:
				err = fmt.Errorf("%s is %s: only a running container can be paused", c.Name, c.State)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return common.ErrorMsg{Err: errors.Join(errs...)}
		}
		return common.ToastMsg{Text: pauseToast(paused, unpaused)}
	}
	if len(targets) == 1 {
		return run
	}
	names := make([]string, len(targets))
	for i, c := range targets {
		names[i] = c.Name
	}
	list := strings.Join(names, ", ")
	if len(names) > 5 {
		list = strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return common.AskConfirm(fmt.Sprintf("Pause/unpause %d container(s)?\n%s", len(targets), list), "Toggle", run)
}

// pauseToast says what a toggle did: "paused: 1 container".
func pauseToast(paused, unpaused int) string {
	var parts []string
	for _, p := range []struct {
		verb string
		n    int
	}{{"paused", paused}, {"unpaused", unpaused}} {
		switch {
		case p.n == 1:
			parts = append(parts, p.verb+": 1 container")
		case p.n > 1:
			parts = append(parts, fmt.Sprintf("%s: %d containers", p.verb, p.n))
		}
	}
	return strings.Join(parts, ", ")
}

// shell opens an interactive shell in the container in the foreground
// (Common.ExecProcess).
func (m *Model) shell(c models.Container) tea.Cmd {
	if c.State != models.StateRunning {
		return common.ErrorCmd(fmt.Errorf("%s is %s: start it before opening a shell", c.Name, c.State))
	}
	argv := m.c.Backend.ShellCommand(c.ID)
	if len(argv) == 0 {
		return common.ErrorCmd(errors.New("this backend cannot open a shell"))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	return m.c.ExecProcess(cmd, func(err error) tea.Msg {
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			return common.ErrorMsg{Err: fmt.Errorf("shell in %s: %w", c.Name, err)}
		}
		return common.ToastMsg{Text: "back from the shell in " + c.Name}
	})
}

// copyID copies the full ID to the clipboard (OSC 52).
func (m *Model) copyID(c models.Container) tea.Cmd {
	copyFn := m.c.Copy
	if copyFn == nil {
		return common.ErrorCmd(errors.New("copying is not available here"))
	}
	return func() tea.Msg {
		if err := copyFn(c.ID); err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("copy ID: %w", err)}
		}
		return common.ToastMsg{Text: "copied ID of " + c.Name}
	}
}

func (m *Model) openPicker() tea.Cmd {
	fp := filepicker.New()
	fp.AllowedTypes = []string{".bun"}
	fp.AutoHeight = false
	fp.SetHeight(max(m.height-4, 3))
	fp.ShowPermissions = false
	m.picker = &fp
	return fp.Init()
}

// updatePicker feeds the file picker: keys go only to it (Esc and q close
// it); other messages reach it as well as the view.
func (m *Model) updatePicker(msg tea.Msg) tea.Cmd {
	if k, isKey := msg.(tea.KeyMsg); isKey && (k.Type == tea.KeyEsc || k.String() == "q") {
		m.picker = nil
		return nil
	}
	fp, cmd := m.picker.Update(msg)
	m.picker = &fp
	if ok, path := fp.DidSelectFile(msg); ok {
		m.picker = nil
		return m.runBundleCmd(path)
	}
	return cmd
}

func (m *Model) runBundleCmd(path string) tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		abs, err := filepath.Abs(path)
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("bundle path %s: %w", path, err)}
		}
		cs, err := b.RunBundles(ctx, []string{abs}, engine.RunBundleOptions{KeeperArgv: b.KeeperCommand()})
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("run %s: %w", filepath.Base(abs), err)}
		}
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.Name
		}
		return common.ToastMsg{Text: fmt.Sprintf("ran %s: %s", filepath.Base(abs), strings.Join(names, ", "))}
	}
}
