package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
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

// keyMsg is commontest.Key.
var keyMsg = commontest.Key

// TestGolden renders nest through a real program over commontest's
// fixed-data backend: containerd's IDs and clocks would make every render
// different.
func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		keys  []string
		msgs  []tea.Msg
		until string
	}{
		{"containers", 120, 30, nil, nil, ""},
		{"help", 120, 30, []string{"?"}, nil, "remap keys"},
		{"palette", 120, 30, []string{":", "p", "s"}, nil, ":ps"},
		{"palette_output", 120, 30, []string{":", "p", "s", "enter"}, nil, "enter or esc close"},
		{"toast", 120, 30, nil, []tea.Msg{common.ErrorMsg{Err: errString("stop web: container is not running")}}, "not running"},
		{"logs_page", 120, 30, []string{"j", "j", "l"}, nil, "Logs web"},
		{"details_page", 120, 30, []string{"enter"}, nil, "Inspect 03"},
		{"too_small", 50, 12, nil, nil, ""},
		{"dialog", 120, 30, nil, []tea.Msg{common.ConfirmMsg{Question: "Remove image docker.io/library/busybox:latest?", Action: "Remove"}}, "Remove image"},
		{"dialog_80x24", 80, 24, nil, []tea.Msg{common.ConfirmMsg{Question: "Remove image docker.io/library/busybox:latest?", Action: "Remove"}}, "Remove image"},
		{"containers_80x24", 80, 24, nil, nil, ""},
		{"images_80x24", 80, 24, []string{"2"}, nil, "nginx"},
		{"secrets_80x24", 80, 24, []string{"4"}, nil, "no secrets"},
		{"networks_80x24", 80, 24, []string{"5"}, nil, "cannot list networks"},
		{"peers_80x24", 80, 24, []string{"6"}, nil, "no nodes found"},
		{"logs_page_80x24", 80, 24, []string{"j", "j", "l"}, nil, "Logs web"},
		{"details_page_80x24", 80, 24, []string{"enter"}, nil, "Inspect 03"},
		{"editor_80x24", 80, 24, []string{"n"}, nil, "valid bundle"},
		{"help_80x24", 80, 24, []string{"?"}, nil, "remap keys"},
		{"palette_80x24", 80, 24, []string{":", "p", "s"}, nil, ":ps"},
		{"palette_output_80x24", 80, 24, []string{":", "p", "s", "enter"}, nil, "enter or esc close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b := commontest.New(commontest.Sample()...)
			b.LogLines[commontest.ID(1)] = []string{"listening on :80", "GET / 200"}
			m := New(commontest.Common(ctx, b), Options{})
			tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(tt.w, tt.h))
			// The table and its first stats sample (web's 1 MiB): they
			// arrive one after the other, and a step taken before the
			// sample would capture a screen without it.
			waitFor(t, tm, "1.0Mi", "needs at least")
			for _, k := range tt.keys {
				tm.Send(keyMsg(k))
			}
			for _, msg := range tt.msgs {
				tm.Send(msg)
			}
			if tt.until != "" {
				waitFor(t, tm, tt.until)
			}
			if err := tm.Quit(); err != nil {
				t.Fatal(err)
			}
			screen := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).View()
			if tt.name != "too_small" {
				commontest.RequireFits(t, screen, tt.w, tt.h)
			}
			golden.RequireEqual(t, []byte(screen))
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func waitFor(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, s := range texts {
			if strings.Contains(string(b), s) {
				return true
			}
		}
		return false
	}, teatest.WithDuration(15*time.Second))
}

// started returns a root model that has run Init's quick commands.
func started(t testing.TB) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(commontest.Common(ctx, commontest.New(commontest.Sample()...)), Options{})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	load(m)
	return m
}

func TestRouting(t *testing.T) {
	m := started(t)
	steps := []struct {
		key       string
		wantTab   int
		wantStack int
	}{
		{"tab", 1, 0},
		{"tab", 2, 0},
		{"tab", 3, 0},
		{"tab", 4, 0},
		{"tab", 5, 0},
		{"tab", 0, 0},
		{"shift+tab", 5, 0},
		{"1", 0, 0},
		{"l", 0, 1},
		{"esc", 0, 0},
		{"enter", 0, 1},
		{"2", 1, 0},
	}
	for i, s := range steps {
		_, cmd := m.Update(keyMsg(s.key))
		if cmd != nil {
			if sw, ok := runQuick(cmd).(common.SwitchViewMsg); ok {
				m.Update(sw)
			}
		}
		if m.active != s.wantTab || len(m.stack) != s.wantStack {
			t.Fatalf("step %d (%s): tab %d, %d pages; want tab %d, %d pages", i, s.key, m.active, len(m.stack), s.wantTab, s.wantStack)
		}
	}
}

// runQuick runs cmd unless it blocks (a stream read or a timer).
func runQuick(cmd tea.Cmd) tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		m := started(t)
		_, cmd := m.Update(keyMsg(k))
		if cmd == nil {
			t.Fatalf("%s returned no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s did not quit", k)
		}
	}
}

func TestTypingInAFilterIsNotAGlobalKey(t *testing.T) {
	m := started(t)
	m.Update(keyMsg("/"))
	for _, k := range []string{"q", "2", "?", ":"} {
		if _, cmd := m.Update(keyMsg(k)); cmd != nil {
			if _, ok := runQuick(cmd).(tea.QuitMsg); ok {
				t.Fatalf("typing %q in the filter quit", k)
			}
		}
	}
	if m.active != 0 || m.showHelp || m.palette.IsOpen() {
		t.Errorf("typing in the filter acted globally: tab %d help %v palette %v", m.active, m.showHelp, m.palette.IsOpen())
	}
}

func TestRemappedKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := commontest.Common(ctx, commontest.New(commontest.Sample()...))
	c.Keys = map[string][]string{"quit": {"Q"}, "help": {"f1", "H"}}
	m := New(c, Options{})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	if _, cmd := m.Update(keyMsg("q")); cmd != nil {
		if _, ok := runQuick(cmd).(tea.QuitMsg); ok {
			t.Error("q still quits after remapping quit to Q")
		}
	}
	m.Update(keyMsg("H"))
	if !m.showHelp || !strings.Contains(m.View(), "f1") {
		t.Error("H did not open help, or help does not show the remapped key")
	}
}

func TestToastsExpire(t *testing.T) {
	m := started(t)
	m.Update(common.ToastMsg{Text: "hello"})
	if !strings.Contains(m.View(), "hello") {
		t.Fatal("toast not shown")
	}
	m.Update(toastExpiredMsg{id: m.toastSeq})
	if strings.Contains(m.View(), "hello") {
		t.Error("toast not removed when it expired")
	}
}

// BenchmarkFirstFrame measures New + Init + the first View with 500 containers.
func BenchmarkFirstFrame(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := commontest.New(commontest.Many(500)...)
	for b.Loop() {
		m := New(commontest.Common(ctx, fake), Options{})
		_ = m.Init()
		m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
		load(m)
		_ = m.View()
	}
}

// BenchmarkKeyPress measures Update + View of one key press (cursor down)
// with 500 containers.
func BenchmarkKeyPress(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := New(commontest.Common(ctx, commontest.New(commontest.Many(500)...)), Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	load(m)
	down := keyMsg("j")
	for b.Loop() {
		m.Update(down)
		_ = m.View()
	}
}

// countingView counts its Init calls.
type countingView struct {
	inits *int
}

func (v countingView) Init() tea.Cmd                       { *v.inits++; return nil }
func (v countingView) Update(tea.Msg) (tea.Model, tea.Cmd) { return v, nil }
func (v countingView) View() string                        { return "" }
func (v countingView) SetSize(int, int)                    {}
func (v countingView) ShortHelp() []key.Binding            { return nil }
func (v countingView) FullHelp() [][]key.Binding           { return nil }

// TestTabsStartWhenFirstShown: only the visible tab starts at launch (its
// listing is what the first frame waits for); others start once, when shown.
func TestTabsStartWhenFirstShown(t *testing.T) {
	inits := make([]int, 3)
	var tabs []Tab
	for i := range inits {
		tabs = append(tabs, Tab{Name: fmt.Sprint("t", i), Title: fmt.Sprint("T", i),
			New: func(common.Common) common.Component { return countingView{inits: &inits[i]} }})
	}
	m := New(commontest.Common(context.Background(), commontest.New()), Options{Tabs: tabs, Pages: []Page{}})
	m.Init()
	if inits[0] != 1 || inits[1] != 0 || inits[2] != 0 {
		t.Fatalf("after Init: %v, want only the first tab started", inits)
	}
	m.Update(keyMsg("3"))
	m.Update(keyMsg("1"))
	m.Update(keyMsg("3"))
	if inits[0] != 1 || inits[1] != 0 || inits[2] != 1 {
		t.Fatalf("after showing tab 3 twice: %v, want each started once", inits)
	}
}
