// Package editor is nest's bundle editor: a form over every field of a .bun
// file, validated by the engine as you type, saved in place so that the
// file keeps its comments and key order, and optionally run in one step.
//
// The form is a huh.Form embedded as a child model: the editor forwards
// messages to it and never calls its Run method. Saving edits the file's
// yaml.v3 node tree — only the fields that changed get new value nodes —
// and writes it atomically (a temporary file renamed over the original).
package editor

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// debounce is how long typing must pause before the bundle is validated.
const debounce = 150 * time.Millisecond

// mode is what the editor is doing.
type mode int

const (
	editing mode = iota
	// askPath asks where to save a new bundle.
	askPath
)

// Messages of the editor's commands.
type (
	loadedMsg struct {
		data    []byte
		missing bool
		err     error
	}
	debounceMsg  struct{ gen int }
	validatedMsg struct {
		gen      int
		problems []string
	}
	savedMsg struct {
		path   string
		doc    *bundle.Document
		values map[string]string
		run    bool
		err    error
	}
	ranMsg struct {
		containers []models.Container
		err        error
	}
)

// Model implements common.Component.
var (
	_ common.Component     = (*Model)(nil)
	_ common.InputCapturer = (*Model)(nil)
)

// Model is the bundle editor. Use New; the zero value is not usable.
type Model struct {
	c             common.Common
	keys          keyMap
	width, height int
	path          string // "" until a new bundle is saved
	loading       bool
	loadErr       error
	doc           *bundle.Document
	form          *huh.Form
	vals          map[string]*string // bound to the form's fields
	saved         map[string]string  // the values as last loaded or saved
	lastVals      map[string]string  // the values at the last validation request
	editGen       int                // grows with every change; tags validation
	problems      []string
	validated     bool
	mode          mode
	pathInput     textinput.Model
	runAfterPath  bool
	status        string
	busy          bool // a save or run is under way
}

// New returns an editor for the bundle at path; "" starts a new bundle.
// A path that does not exist yet is a new bundle saved there.
func New(c common.Common, path string) *Model {
	m := &Model{c: c, keys: newKeyMap(c), path: path, loading: path != ""}
	m.pathInput = textinput.New()
	m.pathInput.Prompt = "save as: "
	if path == "" {
		m.setDocument(bundle.NewDocument())
	}
	return m
}

// Init loads the bundle file, or starts validating a new one.
func (m *Model) Init() tea.Cmd {
	if m.loading {
		path := m.path
		return func() tea.Msg {
			data, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				return loadedMsg{missing: true}
			}
			return loadedMsg{data: data, err: err}
		}
	}
	return tea.Batch(m.form.Init(), m.validate())
}

// CapturingInput reports that the editor takes every key as text input, so
// that the root model passes every key here (common.InputCapturer).
func (m *Model) CapturingInput() bool { return true }

// Dirty reports whether there are unsaved changes.
func (m *Model) Dirty() bool {
	if m.form == nil {
		return false
	}
	for _, f := range allFields() {
		if bundle.NormalizeField(f.kind(), *m.vals[f.id]) != bundle.NormalizeField(f.kind(), m.saved[f.id]) {
			return true
		}
	}
	return false
}

// Path returns the bundle's path, "" while a new bundle is unsaved.
func (m *Model) Path() string { return m.path }

// SetSize sets the cells the view may draw in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	if m.form != nil {
		m.form.WithWidth(width).WithHeight(m.formHeight())
	}
}

func (m *Model) ctx() context.Context {
	if m.c.Ctx != nil {
		return m.c.Ctx
	}
	return context.Background()
}

// setDocument shows doc in a new form.
func (m *Model) setDocument(doc *bundle.Document) {
	m.doc = doc
	m.saved = values(doc)
	m.vals = map[string]*string{}
	m.lastVals = map[string]string{}
	for id, v := range m.saved {
		v := v
		m.vals[id] = &v
		m.lastVals[id] = v
	}
	m.buildForm()
}

// name is the bundle's name in validation messages.
func (m *Model) name() string {
	if m.path == "" {
		return "new.bun"
	}
	return filepath.Base(m.path)
}

// Update routes keys to the save-as prompt, the editor's bindings or the form,
// and handles the results of loading, validating, saving and running.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		return m, m.onLoaded(msg)
	case debounceMsg:
		if msg.gen != m.editGen {
			return m, nil
		}
		return m, m.validate()
	case validatedMsg:
		if msg.gen == m.editGen {
			m.problems, m.validated = msg.problems, true
		}
		return m, nil
	case savedMsg:
		return m, m.onSaved(msg)
	case ranMsg:
		return m, m.onRan(msg)
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	return m, m.updateForm(msg)
}

// onLoaded shows the loaded bundle.
func (m *Model) onLoaded(msg loadedMsg) tea.Cmd {
	m.loading = false
	if msg.err != nil {
		m.loadErr = msg.err
		return nil
	}
	doc := bundle.NewDocument()
	if !msg.missing {
		d, err := bundle.ParseDocument(msg.data)
		if err != nil {
			m.loadErr = err
			return nil
		}
		doc = d
	}
	m.setDocument(doc)
	return tea.Batch(m.form.Init(), m.validate())
}

// onKey handles a key in the current mode.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.mode == askPath:
		return m.onPathKey(msg)
	case m.loading || m.loadErr != nil:
		if key.Matches(msg, m.keys.Close) {
			return closeCmd()
		}
		return nil
	case key.Matches(msg, m.keys.Close):
		if m.Dirty() {
			// The root's dialog asks; it starts on Cancel, and esc cancels.
			return common.AskConfirm("Discard unsaved changes?", "Discard", closeCmd())
		}
		return closeCmd()
	case key.Matches(msg, m.keys.Save):
		return m.save(false)
	case key.Matches(msg, m.keys.SaveRun):
		return m.save(true)
	}
	return m.updateForm(msg)
}

// closeCmd asks the root model to leave the editor.
func closeCmd() tea.Cmd {
	return func() tea.Msg { return common.SwitchViewMsg{View: "containers"} }
}

// updateForm forwards msg to the form and schedules validation when a value
// changed. A form submitted past its last field starts over at the first.
func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	if m.form == nil {
		return nil
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	if m.form.State != huh.StateNormal {
		m.buildForm()
		cmd = tea.Batch(cmd, m.form.Init())
	}
	if m.changed() {
		m.editGen++
		gen := m.editGen
		return tea.Batch(cmd, tea.Tick(debounce, func(time.Time) tea.Msg { return debounceMsg{gen: gen} }))
	}
	return cmd
}

// changed reports whether a value changed since the last check, and
// remembers the current values.
func (m *Model) changed() bool {
	diff := false
	for id, v := range m.vals {
		if m.lastVals[id] != *v {
			m.lastVals[id], diff = *v, true
		}
	}
	return diff
}

// current copies the form's values.
func (m *Model) current() map[string]string {
	out := make(map[string]string, len(m.vals))
	for id, v := range m.vals {
		out[id] = *v
	}
	return out
}

// validate renders the current values into YAML and runs the engine's
// validator on it, in a command tagged with the edit generation.
func (m *Model) validate() tea.Cmd {
	doc, before, after := m.doc.Clone(), m.saved, m.current()
	gen, name, backend := m.editGen, m.name(), m.c.Backend
	return func() tea.Msg {
		apply(doc, before, after)
		data, err := doc.Encode()
		if err != nil {
			return validatedMsg{gen: gen, problems: []string{err.Error()}}
		}
		return validatedMsg{gen: gen, problems: backend.ValidateBundle(name, data)}
	}
}
