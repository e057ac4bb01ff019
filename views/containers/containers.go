// Package containers is nest's containers view: a live table of every
// container, kept current by the engine's event stream (one container is
// re-read per event) and by a stats sampler that runs only while the view
// is visible. It sorts, filters (fuzzy, or a regular expression after ~),
// multi-selects and acts on containers, asking before anything destructive.
package containers

import (
	"errors"
	"fmt"
	"slices"

	"github.com/charmbracelet/bubbles/filepicker"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Model is the containers view. Create it with New.
type Model struct {
	c             common.Common
	keys          keyMap
	width, height int

	rows   []row // sorted
	prev   map[string]models.Stats
	loaded bool // a table is drawn (the keeper's copy or containerd's listing)
	listed bool // containerd's listing has landed

	askedContainerd bool // the first containerd listing was issued

	sortCol  int
	sortDesc bool

	input     textinput.Model
	filtering bool
	query     string
	filterErr string
	visible   []int  // indices into rows that pass the filter
	cursor    int    // index into visible
	want      string // a container ID to put the cursor on once its row exists
	offset    int    // first visible row drawn
	marked    map[string]bool

	picker *filepicker.Model

	// drawn are the rows of the last frame as drawn, keyed by their
	// cells and marks (see renderRow).
	drawn map[string]string

	focused  bool
	statsGen int
	events   <-chan models.Event
	errs     <-chan error
}

// New returns the containers view.
func New(c common.Common) *Model {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "fuzzy filter, ~ for a regular expression"
	return &Model{c: c, keys: newKeyMap(c), prev: map[string]models.Stats{}, marked: map[string]bool{}, input: in}
}

// Init subscribes to engine events and asks the keeper for its live list,
// which draws the first table; containerd's own listing follows at once
// (see liveListCmd) and replaces it.
func (m *Model) Init() tea.Cmd { return tea.Batch(m.subscribeCmd(), m.liveListCmd()) }

// SetSize sets the area the view draws in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.input.Width = max(width-4, 10)
	if m.picker != nil {
		m.picker.SetHeight(max(height-4, 3))
	}
	m.clampOffset()
}

// Focus starts the stats sampler; Blur stops it.
func (m *Model) Focus() tea.Cmd {
	m.focused = true
	m.statsGen++
	if !m.listed {
		// The first listing comes first: sampling 500 containers at the
		// same time would make containerd answer both later.
		return nil
	}
	return m.statsCmd(m.statsGen)
}

// Blur stops the stats sampler (a pending tick is dropped as stale).
func (m *Model) Blur() {
	m.focused = false
	m.statsGen++
}

// CapturingInput reports whether a text box, dialog or picker has the keys.
func (m *Model) CapturingInput() bool { return m.filtering || m.picker != nil }

// Counts returns how many containers run and how many there are.
func (m *Model) Counts() (running, total int) {
	for _, r := range m.rows {
		if r.c.State == models.StateRunning {
			running++
		}
	}
	return running, len(m.rows)
}

// Provisional reports whether the table is still the keeper's copy, with
// containerd's own listing not yet in.
func (m *Model) Provisional() bool { return m.loaded && !m.listed }

// Update handles the view's messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.picker == nil {
		return m, m.update(msg)
	}
	if _, isKey := msg.(tea.KeyMsg); isKey {
		return m, m.updatePicker(msg)
	}
	return m, tea.Batch(m.updatePicker(msg), m.update(msg))
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case liveListMsg:
		if m.askedContainerd {
			return nil
		}
		m.askedContainerd = true
		if msg.err == nil && !m.listed {
			m.setRows(msg.containers)
			m.loaded = true
		}
		return m.listCmd()
	case listMsg:
		first := !m.listed
		m.setRows(msg.containers)
		m.loaded, m.listed = true, true
		if first && m.focused {
			return m.statsCmd(m.statsGen)
		}
	case subscribedMsg:
		m.events, m.errs = msg.events, msg.errs
		return nextEvent(m.events, m.errs)
	case eventMsg:
		return m.applyEvent(msg)
	case containerMsg:
		m.applyContainer(msg)
	case statsTickMsg:
		if msg.gen == m.statsGen && m.focused {
			return m.statsCmd(msg.gen)
		}
	case statsMsg:
		if msg.gen != m.statsGen || !m.focused {
			return nil
		}
		m.applyStats(msg.stats, msg.ids)
		return statsTick(msg.gen, m.statsEvery())
	case actionDoneMsg:
		return m.actionDone(msg)
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return nil
}

// setRows replaces every row with cs (a full listing), keeping the
// stats of the containers still there.
// The first table drawn starts with the cursor on its top row: a row an
// event brought in before any listing (a keeper's health event, a container
// starting) must not carry the cursor with it.
func (m *Model) setRows(cs []models.Container) {
	selected := m.selectedID()
	if !m.loaded {
		selected, m.cursor, m.offset = "", 0, 0
	}
	had := make(map[string]row, len(m.rows))
	for _, r := range m.rows {
		had[r.c.ID] = r
	}
	m.rows = m.rows[:0]
	for _, c := range cs {
		r := had[c.ID]
		r.c = c
		m.rows = append(m.rows, r)
	}
	m.refreshOn(selected)
}

func (m *Model) applyEvent(msg eventMsg) tea.Cmd {
	if msg.closed {
		return nil
	}
	next := nextEvent(m.events, m.errs)
	if msg.ev.Type == models.EventRemove {
		m.deleteRow(msg.ev.ContainerID)
		return next
	}
	return tea.Batch(m.fetchCmd(msg.ev.ContainerID), next)
}

func (m *Model) applyContainer(msg containerMsg) {
	if msg.gone {
		m.deleteRow(msg.id)
		return
	}
	for i := range m.rows {
		if m.rows[i].c.ID == msg.c.ID {
			m.rows[i].c = msg.c
			if msg.c.State != models.StateRunning && msg.c.State != models.StatePaused {
				m.rows[i].hasStats = false
				delete(m.prev, msg.c.ID)
			}
			m.refresh()
			return
		}
	}
	m.rows = append(m.rows, row{c: msg.c})
	m.refresh()
}

func (m *Model) deleteRow(id string) {
	for i := range m.rows {
		if m.rows[i].c.ID == id {
			m.rows = append(m.rows[:i], m.rows[i+1:]...)
			break
		}
	}
	delete(m.marked, id)
	delete(m.prev, id)
	m.refresh()
}

func (m *Model) applyStats(stats map[string]models.Stats, sampled []string) {
	var asked map[string]bool // nil: every container was sampled
	if sampled != nil {
		asked = make(map[string]bool, len(sampled))
		for _, id := range sampled {
			asked[id] = true
		}
	}
	for i := range m.rows {
		r := &m.rows[i]
		if asked != nil && !asked[r.c.ID] {
			continue // off screen: its last figures stay until it is sampled again
		}
		s, ok := stats[r.c.ID]
		if !ok {
			r.hasStats = false
			continue
		}
		if p, ok := m.prev[r.c.ID]; ok {
			r.cpu = models.CPUPercent(p, s)
		}
		r.mem, r.hasStats = s.MemoryUsage, true
		m.prev[r.c.ID] = s
	}
	m.refresh()
}

func (m *Model) actionDone(msg actionDoneMsg) tea.Cmd {
	if len(msg.errs) > 0 {
		return common.ErrorCmd(errors.Join(msg.errs...))
	}
	clear(m.marked)
	noun := "container"
	if msg.n != 1 {
		noun = "containers"
	}
	return common.ToastCmd(fmt.Sprintf("%s: %d %s", pastTense(msg.verb), msg.n, noun))
}

func pastTense(verb string) string {
	switch verb {
	case "stop":
		return "stopped"
	case "start":
		return "started"
	case "restart":
		return "restarted"
	}
	return "removed"
}

// refresh re-sorts and re-filters, keeping the cursor on its container.
func (m *Model) refresh() {
	m.refreshOn(m.selectedID())
}

// refreshOn re-sorts and re-filters, putting the cursor on container
// selected (or on the one Select asked for, once its row is in); with
// neither, the cursor keeps its place, clamped to the rows.
func (m *Model) refreshOn(selected string) {
	if m.want != "" && slices.ContainsFunc(m.rows, func(r row) bool { return r.c.ID == m.want }) {
		selected, m.want = m.want, ""
	}
	sortRows(m.rows, m.sortCol, m.sortDesc)
	vis, err := filterRows(m.rows, m.query)
	if err != nil {
		m.filterErr = err.Error()
	} else {
		m.filterErr, m.visible = "", vis
	}
	m.cursor = min(m.cursor, max(len(m.visible)-1, 0))
	for i, idx := range m.visible {
		if m.rows[idx].c.ID == selected {
			m.cursor = i
			break
		}
	}
	m.clampOffset()
}

// Select puts the cursor on container id, now or as soon as its row
// arrives (a container just run from the editor or the file picker).
func (m *Model) Select(id string) {
	m.want = id
	m.refresh()
}

// selectedID is the ID of the container under the cursor, or "".
func (m *Model) selectedID() string {
	if c, ok := m.selected(); ok {
		return c.ID
	}
	return ""
}

func (m *Model) selected() (models.Container, bool) {
	if m.cursor < 0 || m.cursor >= len(m.visible) || m.visible[m.cursor] >= len(m.rows) {
		return models.Container{}, false
	}
	return m.rows[m.visible[m.cursor]].c, true
}

// targets are the marked containers, or the one under the cursor.
func (m *Model) targets() []models.Container {
	var out []models.Container
	for _, r := range m.rows {
		if m.marked[r.c.ID] {
			out = append(out, r.c)
		}
	}
	if len(out) == 0 {
		if c, ok := m.selected(); ok {
			out = append(out, c)
		}
	}
	return out
}

func (m *Model) tableHeight() int { return max(m.height-3, 1) }

func (m *Model) clampOffset() {
	h := m.tableHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(min(m.offset, len(m.visible)-h), 0)
}

var _ common.Component = (*Model)(nil)
