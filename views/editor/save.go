package editor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/views/common"
)

// save writes the bundle (asking for a path first when it is new) and,
// with run, runs it once written.
func (m *Model) save(run bool) tea.Cmd {
	if m.busy {
		return nil
	}
	if m.path == "" {
		m.mode, m.runAfterPath = askPath, run
		m.pathInput.SetValue(suggestName(*m.vals["name"]))
		m.pathInput.CursorEnd()
		return m.pathInput.Focus()
	}
	return m.write(m.path, false, run)
}

// suggestName proposes a file name for a new bundle.
func suggestName(name string) string {
	if name = strings.TrimSpace(name); name == "" {
		name = "bundle"
	}
	return name + ".bun"
}

// onPathKey handles the "save as" input of a new bundle.
func (m *Model) onPathKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case msg.Type == tea.KeyEsc:
		m.mode = editing
		m.pathInput.Blur()
		return nil
	case msg.Type == tea.KeyEnter:
		path := strings.TrimSpace(m.pathInput.Value())
		if path == "" {
			return nil
		}
		m.mode = editing
		m.pathInput.Blur()
		return m.write(path, true, m.runAfterPath)
	}
	var cmd tea.Cmd
	m.pathInput, cmd = m.pathInput.Update(msg)
	return cmd
}

// write applies the edits to a copy of the document and writes it to path
// in a command; the copy replaces the document once the file is written.
// fresh refuses to overwrite an existing file.
func (m *Model) write(path string, fresh, run bool) tea.Cmd {
	doc, values := m.doc.Clone(), m.current()
	apply(doc, m.saved, values)
	data, err := doc.Encode()
	if err != nil {
		return common.ErrorCmd(err)
	}
	m.busy, m.status = true, "saving…"
	return func() tea.Msg {
		abs, err := filepath.Abs(path)
		if err == nil {
			err = writeAtomic(abs, data, fresh)
		}
		return savedMsg{path: abs, doc: doc, values: values, run: run, err: err}
	}
}

// onSaved records a successful save and runs the bundle when asked to.
func (m *Model) onSaved(msg savedMsg) tea.Cmd {
	m.busy = false
	if msg.err != nil {
		m.status = ""
		return common.ErrorCmd(msg.err)
	}
	m.path, m.doc, m.saved = msg.path, msg.doc, msg.values
	m.status = "saved " + msg.path
	if !msg.run {
		return func() tea.Msg { return common.ToastMsg{Text: "saved " + msg.path} }
	}
	m.busy, m.status = true, "running "+filepath.Base(msg.path)+"…"
	ctx, backend, path := m.ctx(), m.c.Backend, msg.path
	return func() tea.Msg {
		cs, err := backend.RunBundles(ctx, []string{path}, engine.RunBundleOptions{KeeperArgv: backend.KeeperCommand()})
		return ranMsg{containers: cs, err: err}
	}
}

// onRan shows the first container the bundle started.
func (m *Model) onRan(msg ranMsg) tea.Cmd {
	m.busy, m.status = false, ""
	if msg.err != nil {
		return common.ErrorCmd(fmt.Errorf("run %s: %w", m.name(), msg.err))
	}
	id := ""
	if len(msg.containers) > 0 {
		id = msg.containers[0].ID
	}
	m.status = fmt.Sprintf("started %d container(s)", len(msg.containers))
	return func() tea.Msg { return common.SwitchViewMsg{View: "containers", ContainerID: id} }
}

// writeAtomic writes data to path through a temporary file in the same
// directory renamed over it, so that readers never see half a file. An
// existing file keeps its permissions; fresh refuses to replace one.
func writeAtomic(path string, data []byte, fresh bool) error {
	mode := fs.FileMode(0o644)
	st, err := os.Stat(path)
	switch {
	case err == nil && fresh:
		return fmt.Errorf("%s already exists (choose another name, or open it to edit it): %w", path, errdefs.ErrConflict)
	case err == nil:
		mode = st.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save bundle %s (is the directory writable?): %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	return nil
}
