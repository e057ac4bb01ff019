package monitor

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/theme"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

var (
	idWeb    = strings.Repeat("a", 64)
	idDB     = strings.Repeat("b", 64)
	idWorker = strings.Repeat("c", 64)
	t0       = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
)

// fixedContainers are the containers the fake backend knows: web joins
// the host's network, db and worker have their own.
func fixedContainers() []models.Container {
	return []models.Container{
		{ID: idWeb, Name: "web", State: models.StateRunning, Spec: models.ContainerSpec{Networks: []string{models.HostNetwork}}},
		{ID: idDB, Name: "db", State: models.StateRunning},
		{ID: idWorker, Name: "worker", State: models.StateRunning},
	}
}

// fixedSamples are n samples two seconds apart: web uses a growing share of
// a CPU, db has a memory limit and block I/O, worker has its own network.
func fixedSamples(n int) []map[string]models.Stats {
	webCPU := []uint64{0, 2e8, 6e8, 1.2e9, 2.2e9, 3.0e9, 3.4e9, 4.4e9}
	out := make([]map[string]models.Stats, n)
	for i := range out {
		at := t0.Add(time.Duration(i) * Interval)
		k := uint64(i)
		out[i] = map[string]models.Stats{
			idWeb: {ContainerID: idWeb, Time: at, CPUNanos: webCPU[i%len(webCPU)], MemoryUsage: (20 + 2*k) << 20, Pids: 4},
			idDB: {ContainerID: idDB, Time: at, CPUNanos: k * 1e8, MemoryUsage: (100 + 10*k) << 20, MemoryLimit: 256 << 20,
				BlockRead: k * 4096, BlockWrite: k * 8192, Pids: 12},
			idWorker: {ContainerID: idWorker, Time: at, CPUNanos: k * 5e8, MemoryUsage: 8 << 20,
				NetRx: k * 2000, NetTx: k * 1000, Pids: 2},
		}
	}
	return out
}

func newTestModel(t *testing.T, f *fakeBackend) *Model {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(common.Common{Ctx: ctx, Styles: theme.New("dark"), Backend: f, Node: "alpha"})
	m.interval = time.Millisecond
	m.SetSize(120, 30)
	return m
}

// harness shows the monitor as the root model would: active from the start.
type harness struct{ m *Model }

func (h harness) Init() tea.Cmd { return h.m.SetActive(true) }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "ctrl+c" {
		return h, tea.Quit
	}
	_, cmd := h.m.Update(msg)
	return h, cmd
}
func (h harness) View() string { return h.m.View() }

func TestMonitorGolden(t *testing.T) {
	tests := []struct {
		name    string
		samples int
		keys    []tea.KeyType
		wait    string
		w, h    int
	}{
		{"three containers", 6, nil, "worker", 120, 30},
		{"cursor on worker", 6, []tea.KeyType{tea.KeyDown, tea.KeyDown, tea.KeyDown, tea.KeyUp, tea.KeyDown}, "worker", 120, 30},
		{"first sample only", 1, nil, "worker", 120, 30},
		{"no containers", 0, nil, "no running", 120, 30},
		{"three containers 80x24", 6, nil, "worker", 80, 24},
		{"first sample only 80x24", 1, nil, "worker", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBackend{containers: fixedContainers(), samples: fixedSamples(tt.samples)}
			if tt.samples == 0 {
				f.samples = []map[string]models.Stats{{}}
			}
			m := newTestModel(t, f)
			m.SetSize(tt.w, tt.h)
			tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(tt.w, tt.h))
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				return f.done() && strings.Contains(string(b), tt.wait)
			}, teatest.WithDuration(15*time.Second))
			// Keys reach the model in order, before the quit below.
			for _, k := range tt.keys {
				tm.Send(tea.KeyMsg{Type: k})
			}
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
			final := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(harness)
			commontest.RequireFits(t, final.View(), tt.w, tt.h)
			teatest.RequireEqualOutput(t, []byte(final.View()))
		})
	}
}

// done reports whether every sample was served and its names fetched.
func (f *fakeBackend) done() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statsCalls > len(f.samples)
}
