package containers

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// harness runs a component as a whole program: it passes the window size
// on and nothing else. Tests use the fixed-data commontest backend so that
// renders are deterministic (containerd's IDs and clocks are not).
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
	tests := []struct {
		name  string
		data  []models.Container
		keys  []tea.KeyMsg
		until string
		w, h  int
	}{
		{"initial", commontest.Sample(), nil, "worker", 120, 26},
		{"empty", nil, nil, "no containers yet", 120, 26},
		{"sorted_by_state_desc", commontest.Sample(), []tea.KeyMsg{keyMsg("S"), keyMsg("S")}, "STATE ↓", 120, 26},
		{"filtered_regex", commontest.Sample(), typeKeys("/~^(web|db) "), "filter: ~^(web|db)", 120, 26},
		{"marked", commontest.Sample(), []tea.KeyMsg{keyMsg("space"), keyMsg("space")}, "2 selected", 120, 26},
		{"damaged", withDamaged(commontest.Sample()), nil, "worker", 120, 26},
		{"initial_80x24", commontest.Sample(), nil, "worker", 80, 24},
		{"empty_80x24", nil, nil, "no containers yet", 80, 24},
		{"marked_80x24", commontest.Sample(), []tea.KeyMsg{keyMsg("space"), keyMsg("space")}, "2 selected", 80, 24},
		{"wide_cells_80x24", wide(commontest.Sample()), nil, "worker", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m := New(commontest.Common(ctx, commontest.New(tt.data...)))
			tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(tt.w, tt.h))
			waitFor(t, tm, "worker", "no containers yet")
			for _, k := range tt.keys {
				tm.Send(k)
			}
			if len(tt.keys) > 0 {
				waitFor(t, tm, tt.until)
			}
			if err := tm.Quit(); err != nil {
				t.Fatal(err)
			}
			final := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second))
			commontest.RequireFits(t, final.View(), tt.w, tt.h)
			golden.RequireEqual(t, []byte(final.View()))
		})
	}
}

// waitFor waits until the program's output shows one of texts.
func waitFor(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, text := range texts {
			if strings.Contains(string(b), text) {
				return true
			}
		}
		return false
	}, teatest.WithDuration(15*time.Second))
}

func typeKeys(s string) []tea.KeyMsg {
	var out []tea.KeyMsg
	for _, r := range s {
		out = append(out, keyMsg(string(r)))
	}
	return out
}

// withDamaged marks the sample's "cache" container as one whose spec
// labels cannot be read: its row says "damaged" instead of its state.
func withDamaged(cs []models.Container) []models.Container {
	for i := range cs {
		if cs[i].Name == "cache" {
			cs[i].Damaged = []models.LabelError{{Label: "budgie.spec", Error: "decode spec labels (12 bytes): unexpected end of JSON input"}}
		}
	}
	return cs
}

// wide gives the sample long names and images, to show the always-kept
// NAME column cut with an ellipsis and the lower columns dropped.
func wide(cs []models.Container) []models.Container {
	for i := range cs {
		if cs[i].Name == "worker" {
			cs[i].Name = "worker-with-a-very-long-descriptive-name"
			cs[i].Image = "registry.example.com:5000/team/backend/worker:2.1.0-rc1"
		}
	}
	return cs
}
