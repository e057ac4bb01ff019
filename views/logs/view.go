package logs

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/budgie-sh/budgie/views/common"
)

// View draws the header, the lines in view and the status or search line.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.header())
	b.WriteByte('\n')
	rows := m.body()
	for i := 0; i < m.bodyHeight(); i++ {
		if i < len(rows) {
			b.WriteString(rows[i])
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.footer())
	return b.String()
}

func (m *Model) header() string {
	st := m.c.Styles
	state := "following"
	switch {
	case m.ended:
		state = "stream ended"
	case !m.follow:
		state = "paused (G to follow)"
	}
	tail := "all"
	if n := tails[m.tail]; n >= 0 {
		tail = fmt.Sprint(n)
	}
	since := "-"
	if d := sinces[m.since]; d > 0 {
		since = d.String()
	}
	var extra []string
	if lbl := m.matchLabel(); lbl != "" {
		extra = append(extra, st.Marked.Render(fmt.Sprintf("/%s %s", m.search.query, lbl)))
	}
	if m.onlyMatch {
		extra = append(extra, st.Marked.Render("[matching lines only]"))
	}
	// On a narrow terminal the settings go before the search does: the
	// full status, then the state alone, then nothing; what still does not
	// fit ends in "…".
	var line string
	for _, status := range []string{fmt.Sprintf("%s · tail %s · since %s · wrap %s · time %s", state, tail, since, onOff(m.wrap), onOff(m.timestamps)), state, ""} {
		parts := []string{st.Title.Render("Logs " + m.name)}
		if status != "" {
			parts = append(parts, st.Dim.Render(status))
		}
		line = strings.Join(append(parts, extra...), "  ")
		if lipgloss.Width(line) <= m.width {
			break
		}
	}
	return common.Clip(line, m.width, 1)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (m *Model) footer() string {
	if m.searching {
		return m.input.View()
	}
	st := m.c.Styles
	if m.ring.Len() == 0 {
		return st.Dim.Render("no output yet")
	}
	top := m.effectiveTop()
	return st.Dim.Render(fmt.Sprintf("lines %d-%d of %d held (ring of %d)", top-m.ring.First()+1,
		min(top-m.ring.First()+uint64(m.bodyHeight()), uint64(m.ring.Len())), m.ring.Len(), m.ring.Cap()))
}

// body renders the screen rows from the first drawn line down.
func (m *Model) body() []string {
	var rows []string
	h := m.bodyHeight()
	seq := m.effectiveTop()
	if !m.shown(seq) {
		var ok bool
		if seq, ok = m.nextShown(seq, 1); !ok {
			return nil
		}
	}
	for len(rows) < h {
		l, ok := m.ring.Get(seq)
		if !ok {
			break
		}
		rows = append(rows, m.renderLine(l)...)
		next, ok := m.nextShown(seq, 1)
		if !ok {
			break
		}
		seq = next
	}
	return rows[:min(len(rows), h)]
}

// renderLine draws one line: a gutter (▸ on the current match), the
// timestamp when shown, the text with matches highlighted; wrapped or cut.
func (m *Model) renderLine(l *Line) []string {
	st := m.c.Styles
	gutter := " "
	if m.hasCur && l.Seq == m.current {
		gutter = "▸"
	}
	text := m.highlight(l.Text)
	if l.Stderr {
		text = st.Error.Render(l.Text)
		if m.search.active() {
			text = m.highlight(l.Text)
		}
	}
	line := gutter + st.Dim.Render(m.prefix(l)) + text
	if !m.wrap {
		return []string{ansi.Truncate(line, m.width, "…")}
	}
	return strings.Split(ansi.Hardwrap(line, m.width, true), "\n")
}

func (m *Model) prefix(l *Line) string {
	if !m.timestamps || l.Time.IsZero() {
		return ""
	}
	return l.Time.UTC().Format("2006-01-02T15:04:05.000Z ")
}

// highlight styles every match of the search in s.
func (m *Model) highlight(s string) string {
	spans := m.search.spans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp[0] < last || sp[1] <= sp[0] {
			continue
		}
		b.WriteString(s[last:sp[0]])
		b.WriteString(m.c.Styles.Match.Render(s[sp[0]:sp[1]]))
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
