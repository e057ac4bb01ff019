package editor

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/budgie-sh/budgie/theme"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// harness shows the editor as the root model would: a confirmation the
// editor asks for opens a real common.Confirm, which gets every key until
// it closes and is drawn over the editor as the root draws it.
type harness struct {
	m   *Model
	box *common.Confirm
	ask common.ConfirmMsg
}

func (h *harness) Init() tea.Cmd { return h.m.Init() }
func (h *harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if msg.Type == tea.KeyCtrlC {
			return h, tea.Quit
		}
		if h.box != nil {
			return h, h.dialogKey(msg)
		}
	case common.ConfirmMsg:
		h.ask, h.box = msg, common.NewConfirm(h.m.c, msg.Question, msg.Action)
		return h, nil
	case tea.WindowSizeMsg:
		h.m.SetSize(msg.Width, msg.Height)
	}
	_, cmd := h.m.Update(msg)
	return h, cmd
}

// dialogKey gives k to the open dialog and runs its answer once it closes.
func (h *harness) dialogKey(k tea.KeyMsg) tea.Cmd {
	h.box.Update(k)
	if !h.box.Done() {
		return nil
	}
	ok := h.box.OK()
	h.box = nil
	if ok {
		return h.ask.OnConfirm
	}
	return h.ask.OnCancel
}

func (h *harness) View() string {
	if h.box == nil {
		return h.m.View()
	}
	return common.Overlay(h.m.View(), h.box.View(), h.m.width, h.m.height)
}

func TestEditorGolden(t *testing.T) {
	tests := []struct {
		name string
		path string // relative, so that the title is the same everywhere
		keys []tea.KeyMsg
		wait string
		w, h int
	}{
		{"new bundle", "", nil, "problem", 120, 30},
		{"existing bundle", "testdata/web.bun", nil, "valid bundle", 120, 30},
		{"bad memory", "testdata/badmem.bun", nil, "problem", 120, 30},
		{"discard dialog", "testdata/web.bun", []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("x")}, {Type: tea.KeyEsc}}, "Discard", 120, 30},
		{"existing bundle 80x24", "testdata/web.bun", nil, "valid bundle", 80, 24},
		{"bad memory 80x24", "testdata/badmem.bun", nil, "problem", 80, 24},
		{"discard dialog 80x24", "testdata/web.bun", []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("x")}, {Type: tea.KeyEsc}}, "Discard", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m := New(common.Common{Ctx: ctx, Styles: theme.New("dark"), Backend: &fakeBackend{}}, tt.path)
			tm := teatest.NewTestModel(t, &harness{m: m}, teatest.WithInitialTermSize(tt.w, tt.h))
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				return strings.Contains(string(b), "valid bundle") || strings.Contains(string(b), "problem")
			}, teatest.WithDuration(15*time.Second))
			for _, k := range tt.keys {
				tm.Send(k)
			}
			if len(tt.keys) > 0 {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), tt.wait) },
					teatest.WithDuration(15*time.Second))
			}
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
			final := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(*harness)
			commontest.RequireFits(t, final.View(), tt.w, tt.h)
			teatest.RequireEqualOutput(t, []byte(final.View()))
		})
	}
}
