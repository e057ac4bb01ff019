package screen

import (
	"io"
	"os/exec"

	tea "github.com/charmbracelet/bubbletea"
)

// Wrap returns a model that forwards to m and hands every frame of m to s.
// The program must run with tea.WithoutRenderer, which also stops Bubble
// Tea from sending window sizes: the wrapper sends m the terminal's size
// at start and after every change the Screen measures.
func Wrap(m tea.Model, s *Screen) tea.Model { return &model{Model: m, s: s} }

type model struct {
	tea.Model
	s *Screen
}

// sizeMsg is a terminal size the Screen measured.
type sizeMsg [2]int

// nextSize waits for the Screen's next size (the first is queued by
// Open); it ends with nil when the Screen closes.
func (w *model) nextSize() tea.Msg {
	select {
	case sz := <-w.s.sizes:
		return sizeMsg(sz)
	case <-w.s.done:
		return nil
	}
}

// Init starts the wrapped model and the wait for sizes.
func (w *model) Init() tea.Cmd { return tea.Batch(w.Model.Init(), w.nextSize) }

// Update forwards msg, keeping the wrapper; a measured size reaches the
// wrapped model as a tea.WindowSizeMsg.
func (w *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next := tea.Cmd(nil)
	if sz, ok := msg.(sizeMsg); ok {
		msg, next = tea.WindowSizeMsg{Width: sz[0], Height: sz[1]}, w.nextSize
	}
	var cmd tea.Cmd
	w.Model, cmd = w.Model.Update(msg)
	return w, tea.Batch(cmd, next)
}

// View hands the wrapped model's frame to the screen; Bubble Tea's own
// renderer is off, so what View returns is not drawn.
func (w *model) View() string {
	w.s.Frame(w.Model.View())
	return ""
}

// ExecProcess runs c in the foreground with the terminal lent to it (the
// main screen, cooked mode, the cursor shown), then takes it back and
// draws the latest frame whole; fn turns c's result into a message. It is
// tea.ExecProcess for a program drawn by a Screen.
func (s *Screen) ExecProcess(c *exec.Cmd, fn tea.ExecCallback) tea.Cmd {
	return tea.Exec(&lent{s: s, cmd: c}, fn)
}

// lent is a command run while the Screen has lent the terminal.
type lent struct {
	s   *Screen
	cmd *exec.Cmd
}

// Run lends the terminal, runs the command and takes the terminal back.
func (l *lent) Run() error {
	if err := l.s.lend(); err != nil {
		return err
	}
	err := l.cmd.Run()
	if terr := l.s.takeBack(); err == nil {
		err = terr
	}
	return err
}

// SetStdin, SetStdout and SetStderr give the command the program's
// terminal unless it has streams of its own.
func (l *lent) SetStdin(r io.Reader) {
	if l.cmd.Stdin == nil {
		l.cmd.Stdin = r
	}
}

func (l *lent) SetStdout(w io.Writer) {
	if l.cmd.Stdout == nil {
		l.cmd.Stdout = w
	}
}

func (l *lent) SetStderr(w io.Writer) {
	if l.cmd.Stderr == nil {
		l.cmd.Stderr = w
	}
}

// lend stops drawing and gives the terminal back as it was before Open.
func (s *Screen) lend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = true
	return s.release()
}

// takeBack puts the terminal in the Screen's modes again and draws the
// latest frame whole.
func (s *Screen) takeBack() error {
	s.mu.Lock()
	err := s.acquire()
	s.paused = false
	s.forgetLocked(false)
	s.mu.Unlock()
	s.measure() // the terminal may have been resized meanwhile
	return err
}
