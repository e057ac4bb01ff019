package peers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

func newModel(t *testing.T, b *commontest.Backend) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(commontest.Common(ctx, b))
	m.SetSize(120, 20)
	return m
}

// keyMsg is commontest.Key.
var keyMsg = commontest.Key

// harness shows the view as the root model would: focused.
type harness struct{ m *Model }

func (h harness) Init() tea.Cmd { return h.m.Focus() }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.Type == tea.KeyCtrlC {
		return h, tea.Quit
	}
	_, cmd := h.m.Update(msg)
	return h, cmd
}
func (h harness) View() string { return h.m.View() }

func TestPeersGolden(t *testing.T) {
	tests := []struct {
		name  string
		nodes []models.PeerNode
		err   error
		keys  []string
		ready string // shown once the table is loaded
		wait  string // shown once the keys took effect; "" waits for nothing
		w, h  int    // the terminal
	}{
		{"three nodes", commontest.SamplePeers(), nil, nil, "cellar", "", 120, 20},
		{"cursor on a container", commontest.SamplePeers(), nil, []string{"down", "down", "down", "j"}, "cellar", "", 120, 20},
		{"container details", commontest.SamplePeers(), nil, []string{"down", "down", "down", "enter"}, "cellar", "First seen", 120, 20},
		{"node details", commontest.SamplePeers(), nil, []string{"G", "enter"}, "cellar", "This node", 120, 20},
		{"details closed", commontest.SamplePeers(), nil, []string{"down", "enter", "esc", "up"}, "cellar", "", 120, 20},
		{"no keeper", nil, fmt.Errorf("no keeper: %w", errdefs.ErrUnavailable), nil, "no keeper runs", "", 120, 20},
		{"nothing found", []models.PeerNode{}, nil, nil, "no nodes found", "", 120, 20},
		{"three nodes 80x24", commontest.SamplePeers(), nil, nil, "cellar", "", 80, 24},
		{"container details 80x24", commontest.SamplePeers(), nil, []string{"down", "down", "down", "enter"}, "cellar", "First seen", 80, 24},
		{"no keeper 80x24", nil, fmt.Errorf("no keeper: %w", errdefs.ErrUnavailable), nil, "no keeper runs", "", 80, 24},
		{"nothing found 80x24", []models.PeerNode{}, nil, nil, "no nodes found", "", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := commontest.New()
			b.SetPeers(tt.nodes, tt.err)
			w, h := tt.w, tt.h
			m := newModel(t, b)
			m.SetSize(w, h)
			tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(w, h))
			teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), tt.ready) }, teatest.WithDuration(15*time.Second))
			for _, k := range tt.keys {
				tm.Send(keyMsg(k))
			}
			if tt.wait != "" {
				teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), tt.wait) }, teatest.WithDuration(15*time.Second))
			}
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
			final := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(harness)
			commontest.RequireFits(t, final.View(), w, h)
			teatest.RequireEqualOutput(t, []byte(final.View()))
		})
	}
}

// load runs the model's fetch command and applies the answer.
func load(m *Model, cmd tea.Cmd) tea.Cmd {
	_, next := m.Update(cmd())
	return next
}

func TestPollsOnlyWhileShown(t *testing.T) {
	b := commontest.New()
	b.SetPeers(commontest.SamplePeers(), nil)
	m := newModel(t, b)
	if next := load(m, m.Init()); next != nil {
		t.Fatal("a hidden view schedules a poll")
	}
	next := load(m, m.Focus())
	if next == nil {
		t.Fatal("a shown view schedules no poll")
	}
	gen := m.gen
	m.Blur()
	if _, cmd := m.Update(tickMsg{gen: gen}); cmd != nil {
		t.Fatal("a tick after Blur fetches again")
	}
	m.Focus()
	if _, cmd := m.Update(tickMsg{gen: gen}); cmd != nil {
		t.Fatal("a tick of an older generation fetches")
	}
	if _, cmd := m.Update(tickMsg{gen: m.gen}); cmd == nil {
		t.Fatal("a current tick does not fetch")
	}
}

func TestCursorFollowsItsRowAcrossRefreshes(t *testing.T) {
	b := commontest.New()
	nodes := commontest.SamplePeers()
	b.SetPeers(nodes, nil)
	m := newModel(t, b)
	load(m, m.Init())
	m.Update(keyMsg("G")) // the last row: cellar
	if n, p := m.selected(); n.Name != "cellar" || p != nil {
		t.Fatalf("selected %v %v", n.Name, p)
	}
	// attic disappears: cellar moves up two rows and keeps the cursor.
	b.SetPeers([]models.PeerNode{nodes[0], nodes[2]}, nil)
	load(m, m.fetch())
	if n, _ := m.selected(); n.Name != "cellar" || m.cursor != 2 {
		t.Fatalf("after refresh: %s at row %d, want cellar at 2", n.Name, m.cursor)
	}
}

func TestStaleAnswerDropped(t *testing.T) {
	b := commontest.New()
	b.SetPeers(commontest.SamplePeers(), nil)
	m := newModel(t, b)
	old := m.fetch()
	load(m, m.fetch())
	b.SetPeers([]models.PeerNode{}, nil)
	m.Update(old())
	if len(m.nodes) != 3 {
		t.Fatalf("an older answer overwrote a newer one: %d nodes", len(m.nodes))
	}
}

func TestWithoutPeerBackend(t *testing.T) {
	m := New(common.Common{Ctx: context.Background(), Styles: commontest.Common(context.Background(), nil).Styles, Backend: noPeers{}})
	m.SetSize(100, 10)
	load(m, m.Init())
	if m.err == nil || !strings.Contains(m.View(), "cannot list peers") {
		t.Fatalf("view without a PeerBackend:\n%s", m.View())
	}
}

// noPeers is a Backend that does not implement common.PeerBackend.
type noPeers struct{ common.Backend }
