package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common/commontest"
)

// pump runs cmd and feeds what it returns back into m, following batches,
// until no quick command is left (stream reads and timers are dropped).
func pump(m *Model, cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 8 {
		return
	}
	msg := runQuick(cmd)
	switch msg := msg.(type) {
	case nil, tea.QuitMsg:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			pump(m, c, depth+1)
		}
		return
	case tea.WindowSizeMsg:
		return
	}
	_, next := m.Update(msg)
	pump(m, next, depth+1)
}

// TestEveryScreenFits opens every tab, page and overlay at 80×24 and
// 120×30 and checks that neither the view nor the whole screen draws a
// line wider than the terminal or more lines than it has: the root clips
// and pads, so a view that overflows wraps its rows instead.
func TestEveryScreenFits(t *testing.T) {
	screens := []struct {
		name string
		keys []string
	}{
		{"containers", nil},
		{"images", []string{"2"}},
		{"monitor", []string{"3"}},
		{"secrets", []string{"4"}},
		{"networks", []string{"5"}},
		{"peers", []string{"6"}},
		{"logs", []string{"l"}},
		{"details", []string{"enter"}},
		{"editor", []string{"n"}},
		{"help", []string{"?"}},
		{"palette", []string{":", "p", "s"}},
	}
	for _, size := range commontest.Sizes {
		for _, s := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", s.name, size.Width, size.Height), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				b := commontest.New(commontest.Sample()...)
				b.LogLines[commontest.ID(3)] = []string{strings.Repeat("a long log line without end ", 8)}
				m := New(commontest.Common(ctx, b), Options{})
				pump(m, m.Init(), 0)
				m.Update(tea.WindowSizeMsg{Width: size.Width, Height: size.Height})
				load(m)
				for _, k := range s.keys {
					_, cmd := m.Update(keyMsg(k))
					pump(m, cmd, 0)
				}
				commontest.RequireFits(t, m.current().View(), size.Width, size.Height-2)
				screen := m.View()
				commontest.RequireFits(t, screen, size.Width, size.Height)
				if n := strings.Count(screen, "\n") + 1; n != size.Height {
					t.Errorf("screen has %d lines, want %d", n, size.Height)
				}
				if t.Failed() {
					t.Logf("screen:\n%s\nview:\n%s", screen, m.current().View())
				}
			})
		}
	}
}
