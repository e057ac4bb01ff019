// Package peers is nest's Peers view, the network browser: the nodes on
// the LAN and the containers each announces, as the node's keeper sees
// them over mDNS, with when each was last seen. It asks the backend again
// every second while shown (a refresh only moves "last seen", which the
// keeper's event stream does not report); Enter shows one row's details.
// Below the table are this node's replicas and the pending trust
// requests; the cursor moves on from the table's last row into the
// requests, and a or x acts on the selected one.
//
// Everything shown here but this node's own data comes from other nodes
// and is drawn through models.Printable.
package peers

import (
	"context"
	"errors"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Interval is how often the view asks for the peer table while shown.
const Interval = time.Second

// browseTimeout is how long the engine listens on the LAN itself when no
// keeper answers (engine.PeersOptions.Timeout).
const browseTimeout = 1500 * time.Millisecond

// Messages of the view's commands.
type (
	peersMsg struct {
		seq   int
		nodes []models.PeerNode
		err   error
	}
	tickMsg struct{ gen int }
)

// row is one line of the table: a node (ctr < 0) or one of its
// containers. The cursor runs over the table's rows and then over the
// pending trust requests: cursor len(rows)+i is m.trust.Pending[i].
type row struct{ node, ctr int }

// Model implements common.Component and common.Focusable.
var (
	_ common.Component = (*Model)(nil)
	_ common.Focusable = (*Model)(nil)
)

// Model is the Peers view. Use New; the zero value is not usable.
type Model struct {
	c             common.Common
	keys          keyMap
	width, height int
	nodes         []models.PeerNode
	rows          []row
	cursor        int
	loaded        bool
	err           error
	details       bool // the details of the cursor's row are shown
	active        bool // shown: poll
	gen           int  // poll generation; a blur or focus starts a new one
	seq, applied  int  // fetch order, so that a slow answer never overwrites a newer one

	// replication and trust (see replicate.go):
	mode       mode
	ref        string         // CONTAINERID@NODEID being replicated
	target     string         // the same as NAME@NODE, for people
	plan       replica.Result // what the dry run said would run
	job        int            // replication generation, for stale messages
	progressCh <-chan tea.Msg
	progress   replica.Progress
	replicas   []models.ReplicaStatus
	trust      models.TrustList
}

// New returns the Peers view; Init asks for the table once.
func New(c common.Common) *Model {
	return &Model{c: c, keys: newKeyMap(c)}
}

// Init asks for the table.
func (m *Model) Init() tea.Cmd { return m.fetchAll() }

// SetSize sets the cells the view may draw in.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// Focus starts polling while the view is shown.
func (m *Model) Focus() tea.Cmd {
	m.active = true
	m.gen++
	return m.fetchAll()
}

// Blur stops polling.
func (m *Model) Blur() {
	m.active = false
	m.gen++
}

func (m *Model) ctx() context.Context {
	if m.c.Ctx != nil {
		return m.c.Ctx
	}
	return context.Background()
}

// fetch asks the backend for the table.
func (m *Model) fetch() tea.Cmd {
	m.seq++
	seq, ctx := m.seq, m.ctx()
	pb, ok := m.c.Backend.(common.PeerBackend)
	return func() tea.Msg {
		if !ok {
			return peersMsg{seq: seq, err: errors.New("this nest cannot reach a keeper, which discovers peers")}
		}
		res, err := pb.Peers(ctx, engine.PeersOptions{Timeout: browseTimeout})
		return peersMsg{seq: seq, nodes: res.Nodes, err: err}
	}
}

// fetchAll asks for the table and, beside it, the replicas and trust list.
func (m *Model) fetchAll() tea.Cmd {
	cmd := m.fetch()
	return tea.Batch(cmd, m.fetchExtras(m.seq))
}

func (m *Model) tick() tea.Cmd {
	gen := m.gen
	return tea.Tick(Interval, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
}

// Update handles the view's messages and keys.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case peersMsg:
		m.apply(msg)
		if m.active {
			return m, m.tick()
		}
	case tickMsg:
		if m.active && msg.gen == m.gen {
			return m, m.fetchAll()
		}
	case extrasMsg:
		if msg.seq >= m.applied {
			keep := m.selectedKey()
			m.replicas, m.trust = msg.replicas, msg.trust
			m.keepCursor(keep)
		}
	case plannedMsg, confirmedMsg, progressMsg, replicatedMsg:
		return m, m.onReplication(msg)
	case trustDoneMsg:
		if msg.err != nil {
			return m, tea.Batch(common.ErrorCmd(msg.err), m.fetchAll())
		}
		return m, tea.Batch(common.ToastCmd(msg.text), m.fetchAll())
	case tea.KeyMsg:
		switch m.mode {
		case planning:
			return m, m.onPlanningKey(msg)
		case replicating:
			return m, nil // the transfer runs on; its panel stays until it ends
		}
		if cmd, ok := m.replicationKey(msg); ok {
			return m, cmd
		}
		return m, m.key(msg)
	}
	return m, nil
}

// apply takes a fetched table, keeping the cursor on the same node or
// container when it is still there.
func (m *Model) apply(msg peersMsg) {
	if msg.seq < m.applied {
		return
	}
	m.applied, m.loaded, m.err = msg.seq, true, msg.err
	if msg.err != nil {
		return
	}
	keep := m.selectedKey()
	m.nodes = msg.nodes
	m.rows = m.rows[:0]
	for i, n := range m.nodes {
		m.rows = append(m.rows, row{node: i, ctr: -1})
		for j := range n.Containers {
			m.rows = append(m.rows, row{node: i, ctr: j})
		}
	}
	m.keepCursor(keep)
}

// CapturingInput reports whether the plan is being asked for: esc then
// cancels it and no other key acts (the confirm dialogs are the root's).
func (m *Model) CapturingInput() bool { return m.mode == planning }

// items counts the cursor's places: the table's rows, then the pending
// trust requests.
func (m *Model) items() int { return len(m.rows) + len(m.trust.Pending) }

// keepCursor puts the cursor back on the item whose key was keep, or
// keeps it in range when that item is gone.
func (m *Model) keepCursor(keep string) {
	m.cursor = min(m.cursor, max(m.items()-1, 0))
	if keep == "" {
		return
	}
	for i := range m.items() {
		if m.itemKey(i) == keep {
			m.cursor = i
			return
		}
	}
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Close):
		m.details = false
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		m.cursor = max(min(m.cursor+1, m.items()-1), 0)
	case key.Matches(msg, m.keys.Top):
		m.cursor = 0
	case key.Matches(msg, m.keys.Bottom):
		m.cursor = max(m.items()-1, 0)
	case key.Matches(msg, m.keys.Details):
		m.details = m.items() > 0
	case key.Matches(msg, m.keys.Refresh):
		return m.fetchAll()
	}
	return nil
}

// selected returns the cursor's node and container (nil for a node row).
func (m *Model) selected() (*models.PeerNode, *models.Peer) {
	if m.cursor >= len(m.rows) {
		return nil, nil
	}
	r := m.rows[m.cursor]
	n := &m.nodes[r.node]
	if r.ctr < 0 {
		return n, nil
	}
	return n, &n.Containers[r.ctr]
}

// selectedPending returns the pending trust request under the cursor.
func (m *Model) selectedPending() (models.PendingPeer, bool) {
	i := m.cursor - len(m.rows)
	if i < 0 || i >= len(m.trust.Pending) {
		return models.PendingPeer{}, false
	}
	return m.trust.Pending[i], true
}

func (m *Model) selectedKey() string { return m.itemKey(m.cursor) }

// itemKey identifies the cursor's place i across refreshes: a node, a
// container or a pending request; "" when i is out of range.
func (m *Model) itemKey(i int) string {
	switch {
	case i < 0:
		return ""
	case i < len(m.rows):
		return m.rowKey(m.rows[i])
	case i-len(m.rows) < len(m.trust.Pending):
		return "trust/" + m.trust.Pending[i-len(m.rows)].ID
	}
	return ""
}

func (m *Model) rowKey(r row) string {
	n := m.nodes[r.node]
	if r.ctr < 0 {
		return n.ID
	}
	return n.ID + "/" + n.Containers[r.ctr].ContainerID
}

// unavailable reports whether err means no keeper runs.
func unavailable(err error) bool { return errors.Is(err, errdefs.ErrUnavailable) }
