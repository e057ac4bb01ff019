package details

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func loaded(t *testing.T) *Model {
	t.Helper()
	m := New(commontest.Common(context.Background(), commontest.New(commontest.Sample()...)), commontest.ID(1))
	m.SetSize(100, 30)
	m.Update(m.Init()())
	return m
}

func keys(m *Model, ks ...tea.KeyMsg) {
	for _, k := range ks {
		m.Update(k)
	}
}

var (
	down  = tea.KeyMsg{Type: tea.KeyDown}
	enter = tea.KeyMsg{Type: tea.KeyEnter}
	left  = tea.KeyMsg{Type: tea.KeyLeft}
	runes = func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
)

func TestFolding(t *testing.T) {
	m := loaded(t)
	out := m.View()
	if !strings.Contains(out, "▾ State") || !strings.Contains(out, `Status: "running"`) {
		t.Fatalf("State is not open at first:\n%s", out)
	}
	if !strings.Contains(out, "▸ Config: {Cmd, Entrypoint, Env, …}") {
		t.Errorf("Config is not folded with a summary:\n%s", out)
	}
	// Args is the first row; Budgie the second, open.
	keys(m, down, enter)
	if !strings.Contains(m.View(), "▸ Budgie") {
		t.Errorf("enter did not fold Budgie:\n%s", m.View())
	}
	keys(m, runes("E"))
	if !strings.Contains(m.View(), `tier: "front"`) {
		t.Errorf("E did not unfold everything:\n%s", m.View())
	}
	keys(m, runes("C"))
	if strings.Contains(m.View(), "▾") {
		t.Errorf("C left something open:\n%s", m.View())
	}
	keys(m, enter, down, left)
	if m.cursor != 1 {
		t.Errorf("left on a leaf did not go to its parent: cursor %d", m.cursor)
	}
}

func TestInspectError(t *testing.T) {
	m := New(commontest.Common(context.Background(), commontest.New()), "nope")
	m.SetSize(80, 10)
	_, cmd := m.Update(m.Init()())
	if _, ok := cmd().(common.ErrorMsg); !ok || !strings.Contains(m.View(), "not found") {
		t.Errorf("a missing container did not report an error:\n%s", m.View())
	}
}

type harness struct{ c common.Component }

func (h harness) Init() tea.Cmd { return h.c.Init() }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ws, ok := msg.(tea.WindowSizeMsg); ok {
		h.c.SetSize(ws.Width, ws.Height)
		return h, nil
	}
	_, cmd := h.c.Update(msg)
	return h, cmd
}
func (h harness) View() string { return h.c.View() }

// TestGolden renders the tree through a real program, over commontest's
// fixed data (containerd's IDs and clocks would change every run).
func TestGolden(t *testing.T) {
	tests := []struct {
		name, keys string
		w, h       int
	}{
		{"initial", "", 120, 30},
		{"config_open", "Cjjl", 120, 30},
		{"initial_80x24", "", 80, 24},
		{"config_open_80x24", "Cjjl", 80, 24},
	}
	for _, tt := range tests {
		ks := tt.keys
		t.Run(tt.name, func(t *testing.T) {
			m := New(commontest.Common(context.Background(), commontest.New(commontest.Sample()...)), commontest.ID(1))
			tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(tt.w, tt.h))
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "State") }, teatest.WithDuration(15*time.Second))
			for _, r := range ks {
				tm.Send(runes(string(r)))
			}
			if ks != "" {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "Hostname") }, teatest.WithDuration(15*time.Second))
			}
			if err := tm.Quit(); err != nil {
				t.Fatal(err)
			}
			view := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).View()
			commontest.RequireFits(t, view, tt.w, tt.h)
			golden.RequireEqual(t, []byte(view))
		})
	}
}
