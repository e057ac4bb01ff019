package logs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// harness runs a component as a whole program, passing the window size
// on. The backend is commontest's fixed data: renders must not depend on
// containerd's IDs and clocks.
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

func TestGolden(t *testing.T) {
	var lines []string
	for i := 0; i < 40; i++ {
		switch {
		case i%13 == 5:
			lines = append(lines, fmt.Sprintf("GET /api/items/%d 500 error: upstream timed out", i))
		case i == 38:
			lines = append(lines, "a long line "+strings.Repeat("0123456789", 16))
		default:
			lines = append(lines, fmt.Sprintf("GET /api/items/%d 200 in %dms", i, 3+i%7))
		}
	}
	tests := []struct {
		name  string
		keys  string
		until string
		w, h  int
	}{
		{"following", "", "", 120, 24},
		{"search_error", "/error\rn", "match 3/3", 120, 24},
		{"timestamps_wrap", "tw", "wrap on", 120, 24},
		{"paused", "kkkkk", "paused", 120, 24},
		{"only_matches", "/error\r&", "matching lines only", 120, 24},
		{"following_80x24", "", "", 80, 24},
		{"search_error_80x24", "/error\rn", "match 3/3", 80, 24},
		{"timestamps_wrap_80x24", "tw", "wrap on", 80, 24},
		{"only_matches_80x24", "/error\r&", "matching lines only", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b := commontest.New(commontest.Sample()...)
			b.LogLines[commontest.ID(1)] = lines
			m := New(commontest.Common(ctx, b), commontest.ID(1), Options{})
			tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(tt.w, tt.h))
			waitFor(t, tm, "a long line")
			for _, r := range tt.keys {
				if r == '\r' {
					tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
					continue
				}
				tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			if tt.until != "" {
				waitFor(t, tm, tt.until)
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

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), text) },
		teatest.WithDuration(15*time.Second))
}
