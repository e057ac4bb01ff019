package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/budgie-sh/budgie/views/common"
)

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	if m.searching {
		return m.updateSearch(msg)
	}
	k, page := m.keys, max(m.bodyHeight()-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		m.scroll(-1)
	case key.Matches(msg, k.Down):
		m.scroll(1)
	case key.Matches(msg, k.PageUp):
		m.scroll(-page)
	case key.Matches(msg, k.PageDown):
		m.scroll(page)
	case key.Matches(msg, k.Top):
		m.follow, m.top = false, m.ring.First()
	case key.Matches(msg, k.Bottom):
		m.follow = true
	case key.Matches(msg, k.Search):
		m.searching = true
		m.input.SetValue(m.search.query)
		m.input.CursorEnd()
		return m.input.Focus()
	case key.Matches(msg, k.Next):
		m.jump(1)
	case key.Matches(msg, k.Prev):
		m.jump(-1)
	case key.Matches(msg, k.FilterMode):
		m.onlyMatch = m.search.active() && !m.onlyMatch
	case key.Matches(msg, k.Wrap):
		m.wrap = !m.wrap
	case key.Matches(msg, k.Timestamps):
		m.timestamps = !m.timestamps
	case key.Matches(msg, k.Tail):
		m.tail = (m.tail + 1) % len(tails)
		return m.restart()
	case key.Matches(msg, k.Since):
		m.since = (m.since + 1) % len(sinces)
		return m.restart()
	case key.Matches(msg, k.Save):
		return m.saveCmd()
	}
	return nil
}

func (m *Model) updateSearch(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEnter:
		m.searching = false
		m.input.Blur()
		if err := m.setSearch(m.input.Value()); err != nil {
			return common.ErrorCmd(err)
		}
		m.jump(1)
		return nil
	case tea.KeyEsc:
		m.searching = false
		m.input.Blur()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

func (m *Model) bodyHeight() int { return max(m.height-2, 1) }

// shown says whether line seq is drawn (in filter mode only matches are).
func (m *Model) shown(seq uint64) bool {
	if !m.onlyMatch {
		return true
	}
	l, ok := m.ring.Get(seq)
	return ok && m.search.match(l.Text)
}

// nextShown steps from seq in direction dir to the next drawn line.
func (m *Model) nextShown(seq uint64, dir int) (uint64, bool) {
	for {
		if dir < 0 {
			if seq <= m.ring.First() {
				return seq, false
			}
			seq--
		} else {
			if seq+1 >= m.ring.End() {
				return seq, false
			}
			seq++
		}
		if m.shown(seq) {
			return seq, true
		}
	}
}

// rows is how many screen rows line l takes.
func (m *Model) rows(l *Line) int {
	if !m.wrap || m.width <= 1 {
		return 1
	}
	w := ansi.StringWidth(m.prefix(l)) + ansi.StringWidth(l.Text) + 1
	return max((w+m.width-1)/m.width, 1)
}

// bottomTop is the top line that puts the newest line at the bottom.
func (m *Model) bottomTop() uint64 {
	first, end := m.ring.First(), m.ring.End()
	top, rows := end, 0
	for seq := end; seq > first; {
		seq--
		if !m.shown(seq) {
			continue
		}
		l, _ := m.ring.Get(seq)
		rows += m.rows(l)
		if rows > m.bodyHeight() {
			break
		}
		top = seq
	}
	return top
}

// effectiveTop is the first line drawn.
func (m *Model) effectiveTop() uint64 {
	bottom := m.bottomTop()
	if m.follow || m.top > bottom {
		return bottom
	}
	return max(m.top, m.ring.First())
}

// scroll moves by n drawn lines; scrolling up pauses following, reaching
// the bottom resumes it.
func (m *Model) scroll(n int) {
	top := m.effectiveTop()
	for ; n < 0; n++ {
		prev, ok := m.nextShown(top, -1)
		if !ok {
			break
		}
		top = prev
		m.follow = false
	}
	bottom := m.bottomTop()
	for ; n > 0 && top < bottom; n-- {
		next, ok := m.nextShown(top, 1)
		if !ok {
			break
		}
		top = next
	}
	m.top = top
	if top >= bottom {
		m.follow = true
	}
}

// saveCmd writes the lines held to <container>-<time>.log in the current directory.
func (m *Model) saveCmd() tea.Cmd {
	var b strings.Builder
	for seq := m.ring.First(); seq < m.ring.End(); seq++ {
		l, _ := m.ring.Get(seq)
		if !l.Time.IsZero() {
			b.WriteString(l.Time.Format(time.RFC3339Nano) + " ")
		}
		b.WriteString(l.Text + "\n")
	}
	name := fmt.Sprintf("%s-%s.log", m.name, m.c.Now().Format("20060102-150405"))
	data := b.String()
	return func() tea.Msg {
		path, err := filepath.Abs(name)
		if err == nil {
			err = os.WriteFile(path, []byte(data), 0o644)
		}
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("save log to %s: %w", name, err)}
		}
		return savedMsg{path: path}
	}
}
