// Package palette is nest's : command palette. It runs any headless
// budgie command line through Backend.Command (":stop web",
// ":pull registry:5000/app") and shows the output: one line in a toast,
// more in a panel.
package palette

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/views/common"
)

// suggestions complete the first words of a command line.
var suggestions = []string{
	"ps -a", "start ", "stop ", "restart ", "rm ", "rm -f ", "kill ", "logs ", "inspect ", "run ",
	"pull ", "images", "rmi ", "volume ls", "volume rm ", "system info", "config show", "version", "dashboard",
}

// Model is the palette: an input line, then the output of the last
// command. Create it with New; the root model shows it over the view
// while Open is true.
type Model struct {
	c             common.Common
	width, height int
	input         textinput.Model
	out           viewport.Model
	showing       bool // the output panel is shown
	running       string
	history       []string
	hist          int
	open          bool
}

// resultMsg is a command's output.
type resultMsg struct {
	line string
	out  string
	err  error
}

// New returns a closed palette.
func New(c common.Common) *Model {
	in := textinput.New()
	in.Prompt = ":"
	in.Placeholder = "a budgie command, e.g. stop web"
	in.ShowSuggestions = true
	in.SetSuggestions(suggestions)
	return &Model{c: c, input: in, out: viewport.New(0, 0)}
}

// Open shows the palette with an empty line.
func (m *Model) Open() tea.Cmd {
	m.open, m.showing = true, false
	m.input.SetValue("")
	m.hist = len(m.history)
	return m.input.Focus()
}

// IsOpen reports whether the palette is shown.
func (m *Model) IsOpen() bool { return m.open }

// SetSize sets the screen size the palette draws over.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.input.Width = max(min(width-10, 90), 10)
	m.out.Width, m.out.Height = max(min(width-8, 100), 10), max(height-10, 3)
}

// Update handles keys while open, and command results.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case resultMsg:
		m.running = ""
		return m.result(msg)
	case tea.KeyMsg:
		if !m.open {
			return nil
		}
		return m.handleKey(msg)
	}
	return nil
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.open = false
		m.input.Blur()
		return nil
	case tea.KeyEnter:
		if m.showing {
			m.open = false
			return nil
		}
		return m.run(strings.TrimSpace(m.input.Value()))
	case tea.KeyUp, tea.KeyDown:
		if m.showing {
			var cmd tea.Cmd
			m.out, cmd = m.out.Update(msg)
			return cmd
		}
		m.recall(msg.Type == tea.KeyUp)
		return nil
	}
	if m.showing {
		var cmd tea.Cmd
		m.out, cmd = m.out.Update(msg)
		return cmd
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

func (m *Model) recall(older bool) {
	if len(m.history) == 0 {
		return
	}
	if older {
		m.hist = max(m.hist-1, 0)
	} else {
		m.hist = min(m.hist+1, len(m.history)-1)
	}
	m.input.SetValue(m.history[m.hist])
	m.input.CursorEnd()
}

func (m *Model) run(line string) tea.Cmd {
	if line == "" {
		m.open = false
		return nil
	}
	args, err := Split(line)
	if err != nil {
		return common.ErrorCmd(err)
	}
	m.history = append(m.history, line)
	m.running = line
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		out, err := b.RunCommandLine(ctx, args)
		return resultMsg{line: line, out: out, err: err}
	}
}

// result shows one line in a toast (and closes), more in the panel.
func (m *Model) result(msg resultMsg) tea.Cmd {
	out := strings.TrimRight(msg.out, "\n")
	if msg.err != nil && out == "" {
		m.open = false
		return common.ErrorCmd(fmt.Errorf(":%s: %w", msg.line, msg.err))
	}
	if msg.err == nil && !strings.Contains(out, "\n") {
		m.open = false
		if out == "" {
			out = "done: " + msg.line
		}
		return common.ToastCmd(out)
	}
	if msg.err != nil {
		out += "\n\n" + msg.err.Error()
	}
	m.showing = true
	m.open = true
	m.input.Blur()
	m.out.Height = min(strings.Count(out, "\n")+1, max(m.height-10, 3))
	// The panel does not scroll sideways: long lines end in "…" rather
	// than wrapping, which would push the box past the screen.
	m.out.SetContent(common.Clip(strings.TrimRight(out, "\n"), m.out.Width, -1))
	m.out.GotoTop()
	return nil
}

// View draws the palette box (the root model places it over the view).
func (m *Model) View() string {
	st := m.c.Styles
	var body string
	switch {
	case m.showing:
		body = st.Title.Render(":"+m.lastLine()) + "\n\n" + m.out.View() + "\n\n" + st.Dim.Render("↑/↓ scroll · enter or esc close")
	case m.running != "":
		body = st.Dim.Render("running :" + m.running + " …")
	default:
		body = m.input.View() + "\n" + st.Dim.Render("tab complete · ↑/↓ history · enter run · esc close")
	}
	return st.Dialog.Padding(0, 1).Width(min(m.width-4, 104)).Render(lipgloss.NewStyle().Render(body))
}

func (m *Model) lastLine() string {
	if len(m.history) == 0 {
		return ""
	}
	return m.history[len(m.history)-1]
}

// Keys are the palette's bindings, for the help overlay.
func (m *Model) Keys() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
		key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "history")),
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
	}
}
