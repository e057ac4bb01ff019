package containers

import (
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/views/common"
)

// View draws the title line, the table and the filter line, with the
// file picker on top when open.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.titleLine())
	b.WriteByte('\n')
	b.WriteString(m.table())
	b.WriteString(m.filterLine())
	out := b.String()
	if m.picker != nil {
		box := m.c.Styles.Dialog.Width(min(m.width-4, 80)).Render(
			m.c.Styles.Title.Render("Run a bundle (.bun)") + "  " + m.c.Styles.Dim.Render(m.picker.CurrentDirectory) + "\n\n" +
				m.picker.View() + "\n" + m.c.Styles.Dim.Render("enter choose · esc cancel"))
		out = common.Overlay(out, box, m.width, m.height)
	}
	return out
}

func (m *Model) titleLine() string {
	st := m.c.Styles
	running, total := m.Counts()
	dir := "↑"
	if m.sortDesc {
		dir = "↓"
	}
	parts := []string{
		st.Title.Render("Containers"),
		st.Dim.Render(fmt.Sprintf("%d running / %d", running, total)),
		st.Dim.Render("sort: " + columns[m.sortCol].Title + " " + dir),
	}
	if n := len(m.marked); n > 0 {
		parts = append(parts, st.Marked.Render(fmt.Sprintf("%d selected", n)))
	}
	if m.query != "" {
		parts = append(parts, st.Dim.Render(fmt.Sprintf("filter: %s (%d)", m.query, len(m.visible))))
	}
	return common.Clip(strings.Join(parts, "  "), m.width, 1)
}

// table draws the header and the rows in view, each line ending in \n.
func (m *Model) table() string {
	st := m.c.Styles
	now := m.c.Now()
	h := m.tableHeight()
	end := min(m.offset+h, len(m.visible))
	cells := make([][]string, 0, end-m.offset)
	for _, idx := range m.visible[m.offset:end] {
		r := m.rows[idx]
		line := make([]string, len(columns))
		for i, col := range columns {
			line[i] = col.cell(r, now)
		}
		cells = append(cells, line)
	}
	ws := widths(cells, m.width-2)
	var b strings.Builder
	header := make([]string, len(columns))
	for i, col := range columns {
		header[i] = fit(col.Title, ws[i])
	}
	b.WriteString(st.Header.Render("  " + strings.Join(shown(header, ws), " ")))
	b.WriteByte('\n')
	frame := make(map[string]string, len(cells))
	for i, line := range cells {
		b.WriteString(m.renderRow(m.offset+i, line, ws, frame))
		b.WriteByte('\n')
	}
	m.drawn = frame
	if len(m.visible) == 0 {
		b.WriteString(st.Dim.Render("  " + m.emptyText()))
		b.WriteByte('\n')
		h--
	}
	for i := len(cells); i < h; i++ {
		b.WriteByte('\n')
	}
	return b.String()
}

func (m *Model) emptyText() string {
	switch {
	case !m.loaded:
		return "loading…"
	case m.query != "":
		return "no container matches the filter"
	}
	return "no containers yet: press r to run a bundle or n to write one"
}

// renderRow draws the row at pos from its cells. A row drawn the same in
// the previous frame is taken from m.drawn rather than styled again: after a
// stats sample most rows on screen read as before, and styling them again
// was most of an idle nest's CPU. frame collects this frame's rows.
func (m *Model) renderRow(pos int, line []string, ws []int, frame map[string]string) string {
	st := m.c.Styles
	r := m.rows[m.visible[pos]]
	mark := []rune("  ")
	if pos == m.cursor {
		mark[0] = '▸'
	}
	if m.marked[r.c.ID] {
		mark[1] = '●'
	}
	for i := range line {
		line[i] = fit(line[i], ws[i])
	}
	damaged := len(r.c.Damaged) > 0
	key := fmt.Sprintf("%s\x1f%t\x1f%s\x1f", string(mark), damaged, r.c.State) + strings.Join(line, "\x1f")
	if out, ok := m.drawn[key]; ok {
		frame[key] = out
		return out
	}
	var out string
	if pos == m.cursor {
		out = st.Selected.Render(string(mark) + strings.Join(shown(line, ws), " "))
	} else {
		base := st.Row
		if m.marked[r.c.ID] {
			base = st.Marked
		}
		state := st.State(r.c.State)
		if damaged {
			state = st.Error
		}
		// Three runs: the cells before STATE, STATE in its colour, the rest.
		before, after := shown(line[:stateCol], ws[:stateCol]), shown(line[stateCol+1:], ws[stateCol+1:])
		out = base.Render(string(mark) + strings.Join(before, " "))
		if ws[stateCol] > 0 {
			out += " " + state.Render(line[stateCol])
		}
		if len(after) > 0 {
			out += " " + base.Render(strings.Join(after, " "))
		}
	}
	frame[key] = out
	return out
}

func (m *Model) filterLine() string {
	st := m.c.Styles
	switch {
	case m.filtering && m.filterErr != "":
		return m.input.View() + "  " + st.Error.Render(m.filterErr)
	case m.filtering:
		return m.input.View()
	case m.filterErr != "":
		return st.Dim.Render(m.filterErr)
	}
	return st.Dim.Render(fmt.Sprintf("%d/%d", min(m.cursor+1, len(m.visible)), len(m.visible)))
}
