// Package logs is nest's log view of one container: it follows the log
// with auto-scroll that pauses when you scroll up, searches (matches
// highlighted, the lines around them kept), wraps, shows timestamps, and
// saves what it holds to a file. Lines live in a ring buffer, so memory
// stays bounded however much the container prints.
package logs

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// DefaultCapacity is how many lines the view keeps unless told otherwise.
const DefaultCapacity = 10000

// tails and sinces are the choices T and P step through.
var (
	tails  = []int{1000, 10000, -1, 100}
	sinces = []time.Duration{0, 5 * time.Minute, time.Hour, 24 * time.Hour}
)

// Options tune New.
type Options struct {
	// Capacity is how many lines to keep; zero means DefaultCapacity.
	Capacity int
}

// Model is the logs view of one container. Create it with New.
type Model struct {
	c             common.Common
	keys          keyMap
	id, name      string
	width, height int

	ring   *Ring
	stream *stream
	gen    int
	ended  bool

	follow     bool
	top        uint64 // Seq of the first line drawn when not following
	wrap       bool
	timestamps bool
	tail       int // index into tails
	since      int // index into sinces

	input     textinput.Model
	searching bool
	search    matcher
	matches   int    // lines held that match
	current   uint64 // Seq of the current match
	hasCur    bool
	onlyMatch bool
}

// New returns the logs view of container id (a full ID).
func New(c common.Common, id string, opts Options) *Model {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "search, ~ for a regular expression"
	return &Model{c: c, keys: newKeyMap(c), id: id, name: models.ShortID(id),
		ring: NewRing(cmpOr(opts.Capacity, DefaultCapacity)), follow: true, input: in}
}

func cmpOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// nameMsg carries the container's name.
type nameMsg struct{ id, name string }

// savedMsg reports where the log was saved.
type savedMsg struct{ path string }

// Init starts the stream and looks up the container's name.
func (m *Model) Init() tea.Cmd {
	b, ctx, id := m.c.Backend, m.c.Ctx, m.id
	lookup := func() tea.Msg {
		c, err := b.Container(ctx, id)
		if err != nil {
			return nil
		}
		return nameMsg{id: id, name: c.Name}
	}
	return tea.Batch(lookup, m.restart())
}

// restart (re)opens the stream with the current tail and since, dropping
// what the ring holds; messages of the old stream become stale.
func (m *Model) restart() tea.Cmd {
	if m.stream != nil {
		m.stream.cancel()
	}
	m.gen++
	m.ring.Reset()
	m.matches, m.hasCur, m.ended, m.follow, m.top = 0, false, false, true, 0
	opts := engine.LogsOptions{Tail: tails[m.tail], Timestamps: true, Follow: true}
	if d := sinces[m.since]; d > 0 {
		opts.Since = m.c.Now().Add(-d)
	}
	m.stream = startStream(m.c, m.id, opts)
	return readBatch(m.stream, m.id, m.gen)
}

// Close stops the stream.
func (m *Model) Close() {
	if m.stream != nil {
		m.stream.cancel()
	}
}

// SetSize sets the area the view draws in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.input.Width = max(width-4, 10)
}

// CapturingInput reports whether the search box has the keys.
func (m *Model) CapturingInput() bool { return m.searching }

// Update handles the view's messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case linesMsg:
		if msg.id != m.id || msg.gen != m.gen {
			return m, nil
		}
		m.append(msg.lines)
		return m, readBatch(m.stream, m.id, m.gen)
	case endMsg:
		if msg.id != m.id || msg.gen != m.gen {
			return m, nil
		}
		m.ended = true
		if msg.err != nil {
			return m, common.ErrorCmd(fmt.Errorf("logs of %s: %w", m.name, msg.err))
		}
	case nameMsg:
		if msg.id == m.id {
			m.name = msg.name
		}
	case savedMsg:
		return m, common.ToastCmd("saved " + msg.path)
	case tea.KeyMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

// append adds lines to the ring, keeping the match count current.
func (m *Model) append(lines []Line) {
	for _, l := range lines {
		if m.search.active() && m.search.match(l.Text) {
			m.matches++
		}
		if old, dropped := m.ring.Push(l); dropped && m.search.active() && m.search.match(old.Text) {
			m.matches--
		}
	}
	if m.top < m.ring.First() {
		m.top = m.ring.First()
	}
}

var _ common.Component = (*Model)(nil)
