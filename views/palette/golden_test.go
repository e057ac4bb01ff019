package palette

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/views/common/commontest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// harness shows the palette as the root model does: open, sized to the
// terminal, its commands run by the program.
type harness struct{ m *Model }

func (h harness) Init() tea.Cmd { return h.m.Open() }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.m.SetSize(msg.Width, msg.Height)
		return h, nil
	case tea.KeyMsg:
		if msg.Type == tea.KeyCtrlC {
			return h, tea.Quit
		}
	}
	return h, h.m.Update(msg)
}
func (h harness) View() string { return h.m.View() }

func TestPaletteGolden(t *testing.T) {
	tests := []struct {
		name, typed string
		enter       bool
		wait        string
	}{
		{"prompt", "stop web", false, "stop web"},
		{"output", "ps", true, "enter or esc close"},
	}
	for _, size := range commontest.Sizes {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s_%dx%d", tt.name, size.Width, size.Height), func(t *testing.T) {
				m := New(commontest.Common(context.Background(), commontest.New()))
				tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(size.Width, size.Height))
				for _, r := range tt.typed {
					tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
				}
				if tt.enter {
					tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
				}
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), tt.wait) },
					teatest.WithDuration(15*time.Second))
				tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
				view := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).View()
				commontest.RequireFits(t, view, size.Width, size.Height)
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}
