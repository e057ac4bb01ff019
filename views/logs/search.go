package logs

import (
	"fmt"
	"regexp"
	"strings"
)

// matcher finds a search in a line: a case-insensitive substring, or a
// regular expression when the search starts with ~. The zero value
// matches nothing and is inactive.
type matcher struct {
	query string
	lower string
	re    *regexp.Regexp
}

func newMatcher(query string) (matcher, error) {
	if query == "" {
		return matcher{}, nil
	}
	if expr, ok := strings.CutPrefix(query, "~"); ok {
		re, err := regexp.Compile("(?i)" + expr)
		if err != nil {
			return matcher{}, fmt.Errorf("bad regular expression %q: %w", expr, err)
		}
		return matcher{query: query, re: re}, nil
	}
	return matcher{query: query, lower: strings.ToLower(query)}, nil
}

func (mt matcher) active() bool { return mt.query != "" }

func (mt matcher) match(s string) bool {
	switch {
	case mt.re != nil:
		return mt.re.MatchString(s)
	case mt.lower != "":
		return strings.Contains(strings.ToLower(s), mt.lower)
	}
	return false
}

// spans returns the byte ranges of every match in s.
func (mt matcher) spans(s string) [][]int {
	if mt.re != nil {
		return mt.re.FindAllStringIndex(s, -1)
	}
	if mt.lower == "" {
		return nil
	}
	var out [][]int
	low := strings.ToLower(s)
	if len(low) != len(s) { // case folding changed lengths: highlight nothing rather than the wrong bytes
		return nil
	}
	for off := 0; ; {
		i := strings.Index(low[off:], mt.lower)
		if i < 0 {
			return out
		}
		out = append(out, []int{off + i, off + i + len(mt.lower)})
		off += i + len(mt.lower)
	}
}

// setSearch applies a new search and counts the matches held.
func (m *Model) setSearch(query string) error {
	mt, err := newMatcher(query)
	if err != nil {
		return err
	}
	m.search, m.matches, m.hasCur = mt, 0, false
	if !mt.active() {
		m.onlyMatch = false
		return nil
	}
	for seq := m.ring.First(); seq < m.ring.End(); seq++ {
		if l, _ := m.ring.Get(seq); mt.match(l.Text) {
			m.matches++
		}
	}
	return nil
}

// jump moves to the next (dir 1) or previous (dir -1) match, wrapping
// around, and pauses following so that it stays in view.
func (m *Model) jump(dir int) {
	if !m.search.active() || m.matches == 0 || m.ring.Len() == 0 {
		return
	}
	first, end := m.ring.First(), m.ring.End()
	from := m.effectiveTop()
	if m.hasCur && m.current >= first {
		from = m.current
	} else if dir < 0 {
		from = end
	} else {
		from--
	}
	n := uint64(m.ring.Len())
	for i := uint64(1); i <= n; i++ {
		var seq uint64
		if dir > 0 {
			seq = first + (from-first+i)%n
		} else {
			seq = first + (from-first+n*2-i)%n
		}
		if l, ok := m.ring.Get(seq); ok && m.search.match(l.Text) {
			m.current, m.hasCur = seq, true
			m.reveal(seq)
			return
		}
	}
}

// reveal scrolls so that line seq is in view, a third from the top.
func (m *Model) reveal(seq uint64) {
	m.follow = false
	top := seq
	for i := 0; i < m.bodyHeight()/3; i++ {
		prev, ok := m.nextShown(top, -1)
		if !ok {
			break
		}
		top = prev
	}
	m.top = top
	if m.top >= m.bottomTop() {
		m.top = m.bottomTop()
	}
}

// matchLabel is "3 matches", "match 2/3" or "no match".
func (m *Model) matchLabel() string {
	switch {
	case !m.search.active():
		return ""
	case m.matches == 0:
		return "no match"
	case m.hasCur:
		return fmt.Sprintf("match %d/%d", m.matchIndex(), m.matches)
	}
	return fmt.Sprintf("%d matches", m.matches)
}

// matchIndex is the current match's position among the matches held.
func (m *Model) matchIndex() int {
	n := 0
	for seq := m.ring.First(); seq <= m.current && seq < m.ring.End(); seq++ {
		if l, _ := m.ring.Get(seq); m.search.match(l.Text) {
			n++
		}
	}
	return n
}
