package networks

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

// fakeNets is a fixed-data NetworkBackend: the networks are data, the
// calls are recorded. (The real backend is tested end to end through the
// CLI against real CNI networks.)
type fakeNets struct {
	*commontest.Backend
	mu    sync.Mutex
	nets  []models.Network
	calls []string
}

func fixture() *fakeNets {
	created := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	return &fakeNets{Backend: commontest.New(), nets: []models.Network{
		{Name: "budgie0", Bridge: "budgie0", Subnet: "172.20.0.0/16", Gateway: "172.20.0.1", Default: true, Created: created,
			Endpoints: []models.Endpoint{
				{Network: "budgie0", ContainerName: "web", IfName: "eth0", IP: "172.20.0.2", PrefixLen: 16, MAC: "02:42:ac:14:00:02"},
				{Network: "budgie0", ContainerName: "db", IfName: "eth0", IP: "172.20.0.3", PrefixLen: 16, MAC: "02:42:ac:14:00:03"},
			}},
		{Name: "backend", Bridge: "budgie-1a2b3c4d", Subnet: "10.30.0.0/24", Gateway: "10.30.0.1", Internal: true, Created: created},
	}}
}

func (f *fakeNets) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeNets) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeNets) Networks(context.Context) ([]models.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]models.Network(nil), f.nets...), nil
}

func (f *fakeNets) CreateNetwork(_ context.Context, name string, opts network.CreateOptions) (models.Network, error) {
	f.record(fmt.Sprintf("create %s subnet=%s gateway=%s internal=%v", name, opts.Subnet, opts.Gateway, opts.Internal))
	n := models.Network{Name: name, Subnet: opts.Subnet, Gateway: opts.Gateway, Internal: opts.Internal}
	f.mu.Lock()
	f.nets = append(f.nets, n)
	f.mu.Unlock()
	return n, nil
}

func (f *fakeNets) RemoveNetwork(_ context.Context, name string) error {
	f.record("rm " + name)
	if name == "budgie0" {
		return fmt.Errorf("network budgie0 is in use by web, db: %w", errdefs.ErrConflict)
	}
	return nil
}

func (f *fakeNets) Connect(_ context.Context, container string, opts runtime.NetworkOptions) (models.Endpoint, error) {
	f.record("connect " + opts.Network + " " + container)
	return models.Endpoint{Network: opts.Network}, nil
}

func (f *fakeNets) Disconnect(_ context.Context, container string, opts runtime.NetworkOptions) error {
	f.record("disconnect " + opts.Network + " " + container)
	return nil
}

// The fakes must satisfy what the view asserts at run time.
var _ common.NetworkBackend = (*fakeNets)(nil)

func newTestModel(t *testing.T, b common.Backend) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(commontest.Common(ctx, b))
	m.SetSize(120, 24)
	return m
}

func loaded(t *testing.T, b common.Backend) *Model {
	t.Helper()
	m := newTestModel(t, b)
	m.Update(m.Init()())
	return m
}

func typed(s string) []string {
	var out []string
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

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

// drive runs keys through the real Bubble Tea loop (the huh forms need
// their commands run) and returns the final model.
func drive(t *testing.T, b common.Backend, keys []string, wait string) *Model {
	t.Helper()
	return driveAt(t, b, keys, wait, 120, 24)
}

// driveAt is drive on a w×h terminal.
func driveAt(t *testing.T, b common.Backend, keys []string, wait string, w, h int) *Model {
	t.Helper()
	m := newTestModel(t, b)
	m.SetSize(w, h)
	tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(w, h))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		return strings.Contains(string(out), "CONTAINERS") || strings.Contains(string(out), "no networks")
	}, teatest.WithDuration(15*time.Second))
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "wait:"); ok {
			// huh moves between fields through commands: wait until the
			// next field shows focused, or keys land in the old one.
			teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), text) },
				teatest.WithDuration(15*time.Second))
			continue
		}
		tm.Send(commontest.Key(k))
		time.Sleep(5 * time.Millisecond)
	}
	if wait != "" {
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), wait) },
			teatest.WithDuration(15*time.Second))
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	return tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(harness).m
}

func TestNetworksGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		wait string
		w, h int
	}{
		{"list", nil, "", 120, 24},
		{"second network", []string{"down"}, "no running container", 120, 24},
		{"endpoints focused", []string{"enter", "down"}, "", 120, 24},
		{"create form", append([]string{"n", "wait:┃ Name"}, typed("front")...), "front", 120, 24},
		{"list 80x24", nil, "", 80, 24},
		{"endpoints focused 80x24", []string{"enter", "down"}, "", 80, 24},
		{"create form 80x24", append([]string{"n", "wait:┃ Name"}, typed("front")...), "front", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := driveAt(t, fixture(), tt.keys, tt.wait, tt.w, tt.h)
			commontest.RequireFits(t, m.View(), tt.w, tt.h)
			teatest.RequireEqualOutput(t, []byte(m.View()))
		})
	}
}

func TestListShowsEndpointsOfSelected(t *testing.T) {
	m := loaded(t, fixture())
	v := m.View()
	for _, want := range []string{"budgie0", "172.20.0.0/16", "backend", "10.30.0.0/24", "yes", "web", "172.20.0.2/16", "02:42:ac:14:00:03"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	m.Update(commontest.Key("down"))
	if v := m.View(); strings.Contains(v, "172.20.0.2/16") || !strings.Contains(v, "On backend") {
		t.Errorf("after down the endpoints are not backend's:\n%s", v)
	}
}

func TestCreateFormSubmits(t *testing.T) {
	b := fixture()
	keys := append([]string{"n", "wait:┃ Name"}, typed("front")...)
	keys = append(keys, "enter", "wait:┃ Subnet")
	keys = append(keys, typed("10.40.0.0/24")...)
	keys = append(keys, "enter", "wait:┃ Gateway", "enter", "wait:┃ Internal", "left", "enter")
	drive(t, b, keys, "3 network(s)")
	want := []string{"create front subnet=10.40.0.0/24 gateway= internal=true"}
	if !reflect.DeepEqual(b.log(), want) {
		t.Errorf("calls = %v, want %v", b.log(), want)
	}
}

func TestCreateFormRefusesBadInput(t *testing.T) {
	b := fixture()
	keys := append([]string{"n"}, typed("bad name!")...)
	keys = append(keys, "enter", "enter", "enter", "enter")
	m := drive(t, b, keys, "")
	if len(b.log()) != 0 || m.mode != creating {
		t.Errorf("a bad name was submitted: calls %v, mode %d", b.log(), m.mode)
	}
}

func TestRemoveConfirmDefaultsToCancel(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		calls []string
	}{
		{"enter cancels", []string{"enter"}, nil},
		{"esc cancels", []string{"esc"}, nil},
		{"right enter removes", []string{"right", "enter"}, []string{"rm backend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fixture()
			m := loaded(t, b)
			m.Update(commontest.Key("down"))
			_, ask := m.Update(commontest.Key("d"))
			q, cmd := commontest.Answer(t, ask, tt.keys...)
			if q.Question != "Remove network backend?" {
				t.Fatalf("asked %q", q.Question)
			}
			if cmd != nil {
				cmd()
			}
			if !reflect.DeepEqual(b.log(), tt.calls) || m.mode != browsing {
				t.Errorf("calls = %v, mode %d; want %v", b.log(), m.mode, tt.calls)
			}
		})
	}
}

func TestRemoveInUseReportsError(t *testing.T) {
	m := loaded(t, fixture())
	_, ask := m.Update(commontest.Key("d"))
	_, cmd := commontest.Answer(t, ask, "right", "enter")
	_, cmd = m.Update(cmd())
	found := false
	for _, c := range cmd().(tea.BatchMsg) {
		if e, ok := c().(common.ErrorMsg); ok && errors.Is(e.Err, errdefs.ErrConflict) && strings.Contains(e.Err.Error(), "in use by web") {
			found = true
		}
	}
	if !found {
		t.Error("a refused removal must report the error")
	}
}

func TestConnectAndDisconnect(t *testing.T) {
	b := fixture()
	keys := append([]string{"down", "c"}, typed("web")...)
	drive(t, b, append(keys, "enter", "r"), "c connects one  ")
	for deadline := time.Now().Add(5 * time.Second); len(b.log()) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// Disconnect: tab to the endpoints of budgie0, down to db, D, confirm.
	m := loaded(t, b)
	var ask tea.Cmd
	for _, k := range []string{"enter", "down", "D"} {
		_, ask = m.Update(commontest.Key(k))
	}
	_, cmd := commontest.Answer(t, ask, "right", "enter")
	if cmd == nil {
		t.Fatal("confirming the disconnect did nothing")
	}
	cmd()
	want := []string{"connect backend web", "disconnect budgie0 db"}
	if !reflect.DeepEqual(b.log(), want) {
		t.Errorf("calls = %v, want %v", b.log(), want)
	}
}

func TestBackendWithoutNetworks(t *testing.T) {
	m := loaded(t, commontest.New())
	if !strings.Contains(m.View(), "does not manage networks") {
		t.Errorf("view:\n%s", m.View())
	}
}
