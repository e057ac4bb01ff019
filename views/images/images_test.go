package images

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	engimages "github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/theme"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

func newTestModel(t *testing.T, f *fakeBackend) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(common.Common{Ctx: ctx, Styles: theme.New("dark"), Backend: f, Node: "alpha"})
	m.now = func() time.Time { return now }
	m.SetSize(120, 30)
	return m
}

// loaded returns a model that has listed the fixed images.
func loaded(t *testing.T, f *fakeBackend) *Model {
	t.Helper()
	m := newTestModel(t, f)
	m.Update(m.Init()())
	return m
}

// keyMsg is commontest.Key.
var keyMsg = commontest.Key

// harness shows the view as the root model would.
type harness struct{ m *Model }

func (h harness) Init() tea.Cmd { return h.m.Init() }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.Type == tea.KeyCtrlC {
		return h, tea.Quit
	}
	_, cmd := h.m.Update(msg)
	return h, cmd
}
func (h harness) View() string { return h.m.View() }

func TestImagesGolden(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		block bool
		wait  string
		w, h  int
	}{
		{"newest first", nil, false, "", 120, 30},
		{"largest first", []string{"s"}, false, "SIZE ↓", 120, 30},
		{"pull prompt", []string{"p"}, false, "pull:", 120, 30},
		{"pull under way", []string{"p", "a", "p", "p", "enter"}, true, "exists", 120, 30},
		{"newest first 80x24", nil, false, "", 80, 24},
		{"pull under way 80x24", []string{"p", "a", "p", "p", "enter"}, true, "exists", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBackend{images: fixedImages(), progress: scriptedProgress(), block: tt.block}
			m := newTestModel(t, f)
			m.SetSize(tt.w, tt.h)
			tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(tt.w, tt.h))
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "alpine") }, teatest.WithDuration(15*time.Second))
			for _, k := range tt.keys {
				tm.Send(keyMsg(k))
			}
			if tt.wait != "" {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), tt.wait) }, teatest.WithDuration(15*time.Second))
			}
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
			final := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(harness)
			commontest.RequireFits(t, final.View(), tt.w, tt.h)
			teatest.RequireEqualOutput(t, []byte(final.View()))
		})
	}
}

// scriptedProgress is a pull of three layers, ending with one already present.
func scriptedProgress() []engimages.Progress {
	return []engimages.Progress{
		{Digest: "sha256:aaaa", Status: "waiting"},
		{Digest: "sha256:bbbb", Status: "waiting"},
		{Digest: "sha256:aaaa", Status: "downloading", Offset: 500_000, Total: 2_000_000},
		{Digest: "sha256:bbbb", Status: "downloading", Offset: 100, Total: 1_000},
		{Digest: "sha256:aaaa", Status: "downloading", Offset: 1_500_000, Total: 2_000_000},
		{Digest: "sha256:bbbb", Status: "done", Offset: 1_000, Total: 1_000},
		{Digest: "sha256:cccc", Status: "exists", Total: 4_096},
	}
}
