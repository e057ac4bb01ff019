// Package screen draws nest's frames on the terminal only when they change.
//
// Bubble Tea v1's own renderer wakes 60 times a second to look for a new
// frame, even when nothing happens; on a VM with costly context switches
// that alone kept an idle nest above 1 % of a core. A Screen is woken by a
// new frame instead: the program runs with tea.WithoutRenderer, Wrap's
// model hands every View to the Screen, and a goroutine blocked on a
// channel writes the lines that changed, at most FrameRate times a second.
// While nothing changes it does not run at all.
//
// The Screen also owns the terminal's modes (raw input, the alternate
// screen, the cursor, mouse reporting, bracketed paste), since Bubble Tea
// sets none of them without its renderer, and hands the terminal to a
// child process and back (ExecProcess).
package screen

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"
)

// FrameRate is the most frames a Screen writes in a second, Bubble Tea's
// default.
const FrameRate = 60

// Terminal control sequences a Screen writes.
const (
	enterAlt     = "\x1b[?1049h"
	exitAlt      = "\x1b[?1049l"
	hideCursor   = "\x1b[?25l"
	showCursor   = "\x1b[?25h"
	clearAll     = "\x1b[2J"
	clearBelow   = "\x1b[J"
	eraseRight   = "\x1b[K"
	home         = "\x1b[H"
	mouseOn      = "\x1b[?1002h\x1b[?1006h" // cell motion, SGR coordinates
	mouseOff     = "\x1b[?1002l\x1b[?1006l"
	pasteOn      = "\x1b[?2004h"
	pasteOff     = "\x1b[?2004l"
	minFrameTime = time.Second / FrameRate
)

// Options configures a Screen.
type Options struct {
	// Mouse turns on mouse reporting (cell motion, SGR coordinates).
	Mouse bool
}

// Screen is a terminal drawn by frames. The zero value is not usable; call
// Open.
type Screen struct {
	in, out *os.File
	opts    Options

	mu      sync.Mutex
	width   int
	height  int
	frame   string   // the latest frame handed in
	drawn   string   // the frame last written
	lines   []string // its lines, as written (after truncation)
	pending bool     // frame differs from drawn and the writer was kicked
	paused  bool     // the terminal is lent to a child process
	last    time.Time
	raw     *term.State
	err     error // the first write error, reported by Close

	kick    chan struct{}
	sizes   chan [2]int // the latest size not yet handed to the program
	done    chan struct{}
	wg      sync.WaitGroup
	capture *capture
}

// Open takes over the terminal: in raw mode, the alternate screen, the
// cursor hidden, bracketed paste (and the mouse if asked) on. Until Close
// gives it back, os.Stdout and os.Stderr point at a pipe (see capture): in
// and out stay the terminal, and the program must be given out with
// tea.WithOutput.
func Open(in, out *os.File, opts Options) (*Screen, error) {
	s := &Screen{in: in, out: out, opts: opts, kick: make(chan struct{}, 1), sizes: make(chan [2]int, 1), done: make(chan struct{})}
	if err := s.acquire(); err != nil {
		s.release()
		return nil, err
	}
	c, err := startCapture()
	if err != nil {
		s.release()
		return nil, err
	}
	s.capture = c
	s.measure()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	s.wg.Add(2)
	go s.run()
	go s.watchSize(winch)
	return s, nil
}

// watchSize measures the terminal at every SIGWINCH.
func (s *Screen) watchSize(winch chan os.Signal) {
	defer s.wg.Done()
	defer signal.Stop(winch)
	for {
		select {
		case <-s.done:
			return
		case <-winch:
			s.measure()
		}
	}
}

// measure reads the terminal's size and, when it changed, queues it for
// the program (see Wrap); an older size still queued is replaced.
func (s *Screen) measure() {
	w, h, err := term.GetSize(int(s.out.Fd()))
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w == s.width && h == s.height {
		return
	}
	s.width, s.height = w, h
	s.forgetLocked(true)
	select {
	case <-s.sizes:
	default:
	}
	s.sizes <- [2]int{w, h}
}

// acquire puts the terminal in the Screen's modes.
func (s *Screen) acquire() error {
	st, err := term.MakeRaw(int(s.in.Fd()))
	if err != nil {
		return fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	s.raw = st
	modes := enterAlt + clearAll + home + hideCursor + pasteOn
	if s.opts.Mouse {
		modes += mouseOn
	}
	_, err = io.WriteString(s.out, modes)
	return err
}

// release gives the terminal back as it was before acquire.
func (s *Screen) release() error {
	modes := pasteOff + showCursor + exitAlt
	if s.opts.Mouse {
		modes = mouseOff + modes
	}
	_, err := io.WriteString(s.out, modes)
	if s.raw != nil {
		if rerr := term.Restore(int(s.in.Fd()), s.raw); err == nil {
			err = rerr
		}
		s.raw = nil
	}
	return err
}

// Close stops the writer, gives the terminal back and prints what the
// process wrote to stdout and stderr meanwhile. It returns the first error
// met writing to the terminal.
func (s *Screen) Close() error {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.release(); s.err == nil {
		s.err = err
	}
	if err := s.capture.stop(); s.err == nil {
		s.err = err
	}
	return s.err
}

// forgetLocked makes the next flush draw every line, on a cleared screen
// when clear is set.
func (s *Screen) forgetLocked(clear bool) {
	s.drawn, s.lines = "", nil
	if clear {
		s.writeLocked(clearAll)
	}
	s.kickLocked()
}

// Frame hands in a new frame: View's whole output. It returns at once; the
// writer draws it within 1/FrameRate of the last frame drawn.
func (s *Screen) Frame(frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frame = frame
	if frame != s.drawn {
		s.kickLocked()
	}
}

func (s *Screen) kickLocked() {
	if s.pending || s.paused {
		return
	}
	s.pending = true
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Passthrough writes an escape sequence that draws nothing (an OSC 52
// copy, say) between frames.
func (s *Screen) Passthrough(seq string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := io.WriteString(s.out, seq)
	return err
}

// run is the writer: it sleeps until kicked, keeps frames at least
// 1/FrameRate apart and draws the latest frame.
func (s *Screen) run() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		wait := minFrameTime - time.Since(s.last)
		s.mu.Unlock()
		if wait > 0 {
			select {
			case <-s.done:
				return
			case <-time.After(wait):
			}
		}
		s.mu.Lock()
		s.flushLocked()
		s.mu.Unlock()
	}
}

// flushLocked writes the lines of the latest frame that differ from what
// is on the screen.
func (s *Screen) flushLocked() {
	s.pending = false
	if s.paused || s.frame == s.drawn {
		return
	}
	s.last = time.Now()
	var b bytes.Buffer
	lines := s.draw(&b, s.frame)
	s.writeLocked(b.String())
	s.drawn, s.lines = s.frame, lines
}

// draw writes into b what turns the screen's lines into frame's and
// returns frame's lines as drawn. Lines past the screen's height are cut
// from the top (the terminal cannot scroll back to them) and lines wider
// than the screen are cut at its width, so nothing wraps.
func (s *Screen) draw(b *bytes.Buffer, frame string) []string {
	lines := strings.Split(frame, "\n")
	if s.height > 0 && len(lines) > s.height {
		lines = lines[len(lines)-s.height:]
	}
	for i, l := range lines {
		if s.width > 0 {
			l = ansi.Truncate(l, s.width, "")
		}
		lines[i] = l
		if i < len(s.lines) && s.lines[i] == l {
			continue
		}
		fmt.Fprintf(b, "\x1b[%d;1H", i+1)
		b.WriteString(l)
		if s.width <= 0 || ansi.StringWidth(l) < s.width {
			// A line as wide as the screen leaves the cursor on its
			// last cell: erasing from there would erase that cell.
			b.WriteString(eraseRight)
		}
	}
	if len(lines) < len(s.lines) {
		fmt.Fprintf(b, "\x1b[%d;1H%s", len(lines)+1, clearBelow)
	}
	return lines
}

// writeLocked writes to the terminal, keeping the first error.
func (s *Screen) writeLocked(p string) {
	if p == "" {
		return
	}
	if _, err := io.WriteString(s.out, p); err != nil && s.err == nil {
		s.err = err
	}
}
