package main

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// vtScreen is a small model of a terminal's screen: enough of VT100 and
// xterm to follow what nest writes (cursor addressing, erasing, printable
// text; colours and modes are read and ignored). The nest rows watch a
// start through it, fed from tmux pipe-pane, so that nothing has to ask
// tmux for its screen while nest starts; a capture at the end checks that
// it and tmux agree (startNest).
type vtScreen struct {
	w, h     int
	cells    [][]rune // 0: the right half of a wide character
	row, col int
	state    vtState
	params   []byte
	pending  []byte // the start of a UTF-8 sequence cut by a write
}

type vtState int

const (
	vtGround vtState = iota
	vtEsc
	vtEscSkip // the byte after ESC ( or ESC ) names a character set
	vtCSI
	vtString    // OSC, DCS, APC, PM: up to BEL or ESC \
	vtStringEsc // ESC seen inside a string
)

func newVTScreen(w, h int) *vtScreen {
	s := &vtScreen{w: w, h: h}
	s.clear()
	return s
}

func (s *vtScreen) clear() {
	s.cells = make([][]rune, s.h)
	for i := range s.cells {
		s.cells[i] = blankRow(s.w)
	}
}

func blankRow(w int) []rune {
	r := make([]rune, w)
	for i := range r {
		r[i] = ' '
	}
	return r
}

// Write feeds output to the screen. It never fails.
func (s *vtScreen) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.pending) > 0 {
		p = append(s.pending, p...)
		s.pending = nil
	}
	for len(p) > 0 {
		b := p[0]
		if s.state != vtGround || b < 0x80 {
			s.byte(b)
			p = p[1:]
			continue
		}
		if !utf8.FullRune(p) {
			s.pending = append([]byte(nil), p...)
			break
		}
		r, size := utf8.DecodeRune(p)
		s.print(r)
		p = p[size:]
	}
	return n, nil
}

func (s *vtScreen) byte(b byte) {
	switch s.state {
	case vtGround:
		s.control(b)
	case vtEsc:
		s.state = vtGround
		switch b {
		case '[':
			s.state, s.params = vtCSI, s.params[:0]
		case ']', 'P', '_', '^':
			s.state = vtString
		case '(', ')':
			s.state = vtEscSkip
		case 'M': // reverse index
			s.row = max(s.row-1, 0)
		}
	case vtEscSkip:
		s.state = vtGround
	case vtCSI:
		switch {
		case b >= 0x30 && b <= 0x3f:
			s.params = append(s.params, b)
		case b >= 0x40 && b <= 0x7e:
			s.state = vtGround
			s.csi(b)
		}
	case vtString:
		switch b {
		case 0x07:
			s.state = vtGround
		case 0x1b:
			s.state = vtStringEsc
		}
	case vtStringEsc:
		s.state = vtString
		if b == '\\' {
			s.state = vtGround
		}
	}
}

func (s *vtScreen) control(b byte) {
	switch b {
	case 0x1b:
		s.state = vtEsc
	case '\r':
		s.col = 0
	case '\n':
		s.lineFeed()
	case '\b':
		s.col = max(s.col-1, 0)
	case '\t':
		s.col = min((s.col/8+1)*8, s.w-1)
	default:
		if b >= 0x20 && b < 0x7f {
			s.print(rune(b))
		}
	}
}

func (s *vtScreen) lineFeed() {
	if s.row < s.h-1 {
		s.row++
		return
	}
	copy(s.cells, s.cells[1:])
	s.cells[s.h-1] = blankRow(s.w)
}

func (s *vtScreen) print(r rune) {
	wd := runewidth.RuneWidth(r)
	if wd == 0 {
		return
	}
	if s.col+wd > s.w {
		s.col = 0
		s.lineFeed()
	}
	s.cells[s.row][s.col] = r
	if wd == 2 {
		s.cells[s.row][s.col+1] = 0
	}
	s.col += wd
}

// csi runs a control sequence; the ones nest does not send are ignored.
func (s *vtScreen) csi(final byte) {
	if len(s.params) > 0 && s.params[0] == '?' { // private modes
		if final == 'h' && (string(s.params) == "?1049" || string(s.params) == "?47" || string(s.params) == "?1047") {
			s.clear()
		}
		return
	}
	ps := strings.Split(string(s.params), ";")
	arg := func(i, def int) int {
		if i >= len(ps) || ps[i] == "" {
			return def
		}
		n, err := strconv.Atoi(ps[i])
		if err != nil || n == 0 {
			return def
		}
		return n
	}
	switch final {
	case 'H', 'f':
		s.row, s.col = min(arg(0, 1), s.h)-1, min(arg(1, 1), s.w)-1
	case 'A':
		s.row = max(s.row-arg(0, 1), 0)
	case 'B':
		s.row = min(s.row+arg(0, 1), s.h-1)
	case 'C':
		s.col = min(s.col+arg(0, 1), s.w-1)
	case 'D':
		s.col = max(s.col-arg(0, 1), 0)
	case 'G':
		s.col = min(arg(0, 1), s.w) - 1
	case 'd':
		s.row = min(arg(0, 1), s.h) - 1
	case 'K':
		s.eraseLine(arg(0, 0))
	case 'J':
		s.eraseScreen(arg(0, 0))
	}
}

func (s *vtScreen) eraseLine(mode int) {
	line := s.cells[s.row]
	from, to := s.col, s.w
	switch mode {
	case 1:
		from, to = 0, s.col+1
	case 2:
		from = 0
	}
	for i := from; i < min(to, s.w); i++ {
		line[i] = ' '
	}
}

func (s *vtScreen) eraseScreen(mode int) {
	switch mode {
	case 0:
		s.eraseLine(0)
		for r := s.row + 1; r < s.h; r++ {
			s.cells[r] = blankRow(s.w)
		}
	case 1:
		s.eraseLine(1)
		for r := 0; r < s.row; r++ {
			s.cells[r] = blankRow(s.w)
		}
	default:
		s.clear()
	}
}

// Text is the screen as `tmux capture-pane -p` prints it: one line per
// row, trailing blanks cut, trailing empty rows dropped.
func (s *vtScreen) Text() string {
	lines := make([]string, s.h)
	for i, row := range s.cells {
		var b strings.Builder
		for _, r := range row {
			if r != 0 {
				b.WriteRune(r)
			}
		}
		lines[i] = strings.TrimRight(b.String(), " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}
