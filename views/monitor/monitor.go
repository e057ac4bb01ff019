// Package monitor is nest's live resource view: CPU, memory, network, block
// I/O and process counts of every running container, sampled every two
// seconds while the view is visible, with a history graph per container and
// the node's totals.
//
// The view samples only while active: the root model calls SetActive(true)
// (or Focus, as a common.Focusable) when it shows the view and
// SetActive(false) (or Blur) when it hides it, so that a hidden monitor
// costs nothing and never redraws.
package monitor

import (
	"context"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Interval is the time between two samples.
const Interval = 2 * time.Second

// tickMsg asks for the next sample of generation gen.
type tickMsg struct{ gen int }

// statsMsg is the result of one Backend.Stats call made in generation gen.
type statsMsg struct {
	gen   int
	stats map[string]models.Stats
	err   error
}

// namesMsg is the result of a Backend.Containers call, to name new IDs.
type namesMsg struct {
	containers []models.Container
	err        error
}

// Model implements common.Component.
var (
	_ common.Component = (*Model)(nil)
	_ common.Focusable = (*Model)(nil)
)

// Model is the monitor view. Use New; the zero value is not usable.
type Model struct {
	c             common.Common
	keys          keyMap
	width, height int
	// interval is the time between samples (Interval; shorter in tests).
	interval time.Duration
	// active is set while the view is visible; gen grows on every
	// SetActive call so that ticks and samples of an earlier activation
	// are dropped.
	active bool
	gen    int
	// sampled is set once a sample arrived; err is the last sample's error.
	sampled bool
	err     error
	names   map[string]string
	// hostNet holds the IDs of containers whose spec joins the host's
	// network (models.HostNetwork), learnt with their names.
	hostNet map[string]bool
	rows    map[string]*row
	order   []*row
	cursor  int
}

// New returns an inactive monitor; it samples once SetActive(true) is called.
func New(c common.Common) *Model {
	return &Model{
		c: c, keys: newKeyMap(c), interval: Interval,
		names: map[string]string{}, hostNet: map[string]bool{}, rows: map[string]*row{},
	}
}

// Init does nothing: sampling starts with SetActive(true).
func (m *Model) Init() tea.Cmd { return nil }

// SetActive starts (true) or stops (false) sampling. Starting samples at
// once and then every Interval; stopping drops any sample or tick still in
// flight. The root model calls it when the view is shown or hidden and runs
// the returned command.
func (m *Model) SetActive(active bool) tea.Cmd {
	if active == m.active {
		return nil
	}
	m.active = active
	m.gen++
	if !active {
		return nil
	}
	return m.sample()
}

// Focus starts sampling when the root model shows the view
// (common.Focusable); it is SetActive(true).
func (m *Model) Focus() tea.Cmd { return m.SetActive(true) }

// Blur stops sampling when the root model hides the view; it is
// SetActive(false).
func (m *Model) Blur() { m.SetActive(false) }

// Active reports whether the monitor is sampling.
func (m *Model) Active() bool { return m.active }

// SetSize sets the cells the view may draw in.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

func (m *Model) ctx() context.Context {
	if m.c.Ctx != nil {
		return m.c.Ctx
	}
	return context.Background()
}

// sample calls Backend.Stats in a command tagged with the current generation.
func (m *Model) sample() tea.Cmd {
	gen, ctx, backend := m.gen, m.ctx(), m.c.Backend
	return func() tea.Msg {
		stats, err := backend.Stats(ctx, runtime.StatsOptions{})
		return statsMsg{gen: gen, stats: stats, err: err}
	}
}

// tick waits one interval, then asks for the next sample.
func (m *Model) tick() tea.Cmd {
	gen := m.gen
	return tea.Tick(m.interval, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// fetchNames lists the containers to name IDs not seen before.
func (m *Model) fetchNames() tea.Cmd {
	ctx, backend := m.ctx(), m.c.Backend
	return func() tea.Msg {
		cs, err := backend.Containers(ctx, runtime.ListOptions{All: true})
		return namesMsg{containers: cs, err: err}
	}
}

// Update handles samples, ticks and keys.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tickMsg:
		if msg.gen != m.gen || !m.active {
			return m, nil
		}
		return m, m.sample()
	case statsMsg:
		if msg.gen != m.gen || !m.active {
			return m, nil
		}
		return m, m.onStats(msg)
	case namesMsg:
		m.onNames(msg)
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	return m, nil
}

// onStats applies a sample and schedules the next one.
func (m *Model) onStats(msg statsMsg) tea.Cmd {
	m.err = msg.err
	if msg.err != nil {
		return m.tick()
	}
	m.sampled = true
	if m.applyStats(msg.stats) {
		return tea.Batch(m.fetchNames(), m.tick())
	}
	return m.tick()
}

// onNames records container names and renames the rows.
func (m *Model) onNames(msg namesMsg) {
	if msg.err != nil {
		return // rows keep their short IDs; the next unknown ID retries
	}
	for _, c := range msg.containers {
		m.names[c.ID] = c.Name
		m.hostNet[c.ID] = slices.Contains(c.Spec.Networks, models.HostNetwork)
	}
	for id, r := range m.rows {
		if name, ok := m.names[id]; ok {
			r.name, r.hostNet = name, m.hostNet[id]
		}
	}
	m.sortRows()
}

// onKey moves the cursor or opens the selected container.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		m.cursor = max(min(m.cursor+1, len(m.order)-1), 0)
	case key.Matches(msg, m.keys.Open):
		if id := m.selectedID(); id != "" {
			return func() tea.Msg { return common.SwitchViewMsg{View: "containers", ContainerID: id} }
		}
	}
	return nil
}

// selectedID is the ID of the container under the cursor, or "".
func (m *Model) selectedID() string {
	if m.cursor < len(m.order) {
		return m.order[m.cursor].id
	}
	return ""
}
