// Package details is nest's inspect view: a container's docker-inspect
// document as a folding tree.
package details

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Model is the details view of one container. Create it with New.
type Model struct {
	c             common.Common
	keys          keyMap
	id            string
	width, height int
	root          *node
	err           error
	cursor        int
	offset        int
}

type keyMap struct {
	Up, Down, PageUp, PageDown, Toggle, Open, Close, OpenAll, CloseAll key.Binding
}

// New returns the details view of container id.
func New(c common.Common, id string) *Model {
	return &Model{c: c, id: id, keys: keyMap{
		Up:       c.Bind("up", "up", "up", "k"),
		Down:     c.Bind("down", "down", "down", "j"),
		PageUp:   c.Bind("page_up", "page up", "pgup", "ctrl+b"),
		PageDown: c.Bind("page_down", "page down", "pgdown", "ctrl+f"),
		Toggle:   c.Bind("toggle", "fold/unfold", "enter", " "),
		Open:     c.Bind("unfold", "unfold", "right", "l"),
		Close:    c.Bind("fold", "fold", "left", "h"),
		OpenAll:  c.Bind("unfold_all", "unfold all", "E"),
		CloseAll: c.Bind("fold_all", "fold all", "C"),
	}}
}

// inspectMsg carries the inspect document of container id.
type inspectMsg struct {
	id  string
	doc models.Inspect
	err error
}

// Init loads the inspect document.
func (m *Model) Init() tea.Cmd {
	b, ctx, id := m.c.Backend, m.c.Ctx, m.id
	return func() tea.Msg {
		doc, err := b.Inspect(ctx, id, engine.InspectOptions{})
		return inspectMsg{id: id, doc: doc, err: err}
	}
}

// SetSize sets the area the view draws in.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// ShortHelp is the one-line help of the details view.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Toggle, m.keys.OpenAll, m.keys.CloseAll}
}

// FullHelp is every binding of the details view.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Toggle, k.Open, k.Close, k.OpenAll, k.CloseAll}}
}

// Update handles the view's messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case inspectMsg:
		if msg.id != m.id {
			return m, nil
		}
		if msg.err != nil {
			m.err = msg.err
			return m, common.ErrorCmd(fmt.Errorf("inspect %s: %w", models.ShortID(m.id), msg.err))
		}
		root, err := buildTree(msg.doc)
		if err != nil {
			m.err = err
			return m, common.ErrorCmd(err)
		}
		m.root = root
		for _, c := range root.children { // State and the Budgie section open at first
			c.open = c.key == "State" || c.key == "Budgie"
		}
	case tea.KeyMsg:
		m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyMsg) {
	if m.root == nil {
		return
	}
	rows := m.root.visible(nil)
	k := m.keys
	cur := rows[min(m.cursor, len(rows)-1)]
	switch {
	case key.Matches(msg, k.Up):
		m.cursor--
	case key.Matches(msg, k.Down):
		m.cursor++
	case key.Matches(msg, k.PageUp):
		m.cursor -= m.height - 1
	case key.Matches(msg, k.PageDown):
		m.cursor += m.height - 1
	case key.Matches(msg, k.Toggle):
		cur.open = !cur.open && !cur.leaf()
	case key.Matches(msg, k.Open):
		cur.open = !cur.leaf()
	case key.Matches(msg, k.Close):
		m.closeOrParent(rows, cur)
	case key.Matches(msg, k.OpenAll):
		m.root.setOpen(true)
	case key.Matches(msg, k.CloseAll):
		m.root.setOpen(false)
		m.root.open = true
	}
	m.cursor = max(min(m.cursor, len(m.root.visible(nil))-1), 0)
	body := m.height - 1
	m.offset = max(min(m.offset, m.cursor), m.cursor-body+1, 0)
}

// closeOrParent folds the current node, or moves to its parent when it is
// already folded (as in a file tree).
func (m *Model) closeOrParent(rows []*node, cur *node) {
	if cur.open {
		cur.open = false
		return
	}
	for i := m.cursor - 1; i >= 0; i-- {
		if rows[i].depth < cur.depth {
			m.cursor = i
			return
		}
	}
}

// View draws the title and the tree rows in view.
func (m *Model) View() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString(common.Clip(st.Title.Render("Inspect "+models.ShortID(m.id))+"  "+st.Dim.Render("enter fold/unfold · E unfold all · C fold all"), m.width, 1))
	b.WriteByte('\n')
	switch {
	case m.err != nil:
		for i, l := range common.Wrap(m.err.Error(), m.width) {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(st.Error.Render(l))
		}
		return b.String()
	case m.root == nil:
		b.WriteString(st.Dim.Render("loading…"))
		return b.String()
	}
	rows := m.root.visible(nil)
	end := min(m.offset+max(m.height-1, 1), len(rows))
	for i := m.offset; i < end; i++ {
		b.WriteString(m.renderRow(rows[i], i == m.cursor))
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (m *Model) renderRow(n *node, selected bool) string {
	st := m.c.Styles
	icon := "  "
	if !n.leaf() && len(n.children) > 0 {
		icon = "▸ "
		if n.open {
			icon = "▾ "
		}
	}
	value := n.summary()
	if n.open {
		value = ""
	}
	line := strings.Repeat("  ", n.depth) + icon + st.Header.Render(n.key) + ": " + value
	line = ansi.Truncate(line, m.width-1, "…")
	if selected {
		return st.Selected.Render("›" + line)
	}
	return " " + line
}

var _ common.Component = (*Model)(nil)
