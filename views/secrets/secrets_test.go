package secrets

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

// fixture is a backend holding the sample containers and secrets.
func fixture() *commontest.Backend {
	b := commontest.New(commontest.Sample()...)
	b.SetSecrets(commontest.SampleSecrets())
	return b
}

func newTestModel(t *testing.T, b common.Backend) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(commontest.Common(ctx, b))
	m.SetSize(120, 30)
	return m
}

// loaded returns a model that has listed the secrets.
func loaded(t *testing.T, b common.Backend) *Model {
	t.Helper()
	m := newTestModel(t, b)
	m.Update(m.Init()())
	return m
}

// keyMsg is commontest.Key.
var keyMsg = commontest.Key

// typed returns one key message per rune of s.
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

// drive runs keys through the real Bubble Tea loop (the huh form needs
// its commands run) and returns the final model.
func drive(t *testing.T, b common.Backend, keys []string, wait string) *Model {
	t.Helper()
	return driveAt(t, b, keys, wait, 120, 30)
}

// driveAt is drive on a w×h terminal.
func driveAt(t *testing.T, b common.Backend, keys []string, wait string, w, h int) *Model {
	t.Helper()
	m := newTestModel(t, b)
	m.SetSize(w, h)
	tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(w, h))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		return strings.Contains(string(out), "USED BY") || strings.Contains(string(out), "no secrets")
	}, teatest.WithDuration(15*time.Second))
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "wait:"); ok {
			// huh moves between fields through commands: wait until the
			// next field shows focused, or keys land in the old one.
			teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), text) },
				teatest.WithDuration(15*time.Second))
			continue
		}
		tm.Send(keyMsg(k))
		time.Sleep(5 * time.Millisecond)
	}
	if wait != "" {
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), wait) },
			teatest.WithDuration(15*time.Second))
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	return tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(harness).m
}

func TestSecretsGolden(t *testing.T) {
	create := append([]string{"n", "wait:┃ Name"}, append(typed("new-key"), append([]string{"enter", "wait:┃ Value"}, typed("hunter2")...)...)...)
	tests := []struct {
		name string
		keys []string
		wait string
		w, h int
	}{
		{"list", nil, "", 120, 30},
		{"inspect", []string{"down", "enter"}, "app=shop", 120, 30},
		{"create form", create, "*******", 120, 30},
		{"list 80x24", nil, "", 80, 24},
		{"inspect 80x24", []string{"down", "enter"}, "app=shop", 80, 24},
		{"create form 80x24", create, "*******", 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := driveAt(t, fixture(), tt.keys, tt.wait, tt.w, tt.h)
			commontest.RequireFits(t, m.View(), tt.w, tt.h)
			teatest.RequireEqualOutput(t, []byte(m.View()))
		})
	}
	t.Run("empty", func(t *testing.T) {
		m := drive(t, commontest.New(), nil, "")
		teatest.RequireEqualOutput(t, []byte(m.View()))
	})
}

func TestCreateFormHidesValue(t *testing.T) {
	const value = "hunter2-very-secret"
	b := fixture()
	keys := append([]string{"n", "wait:┃ Name"}, typed("new-key")...)
	keys = append(keys, "enter", "wait:┃ Value")
	keys = append(keys, typed(value)...)
	m := drive(t, b, keys, "*******************")
	if !m.CapturingInput() {
		t.Fatal("the form must take the keys while open")
	}
	if v := m.View(); strings.Contains(v, value) || strings.Contains(v, "hunter") || !strings.Contains(v, "new-key") {
		t.Errorf("the form shows the value (or not the name):\n%s", v)
	}

	// Submitting creates the secret with the typed value and clears it from the model.
	m = drive(t, b, append(keys, "enter"), "19 B now")
	if got := string(b.SecretValue("new-key")); got != value {
		t.Errorf("created value = %q, want %q", got, value)
	}
	if m.mode != browsing || m.value != "" || strings.Contains(m.View(), value) {
		t.Errorf("after submit: mode %d, value kept %q", m.mode, m.value)
	}
	if !reflect.DeepEqual(b.CallLog(), []string{"secret-create new-key"}) {
		t.Errorf("calls = %v", b.CallLog())
	}
}

func TestCreateFormCancelAndValidation(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"esc cancels", append(append([]string{"n"}, typed("x")...), "esc")},
		{"bad name stays", append(append([]string{"n"}, typed("../x")...), "enter", "enter")},
		{"empty value stays", append(append([]string{"n"}, typed("ok")...), "enter", "enter")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fixture()
			m := drive(t, b, tt.keys, "")
			if len(b.CallLog()) != 0 {
				t.Errorf("calls = %v, want none", b.CallLog())
			}
			if tt.name == "esc cancels" && (m.mode != browsing || m.CapturingInput()) {
				t.Errorf("esc left mode %d", m.mode)
			}
		})
	}
}

func TestRemoveConfirmDefaultsToCancel(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		calls []string
	}{
		{"enter cancels", []string{"d", "enter"}, nil},
		{"esc cancels", []string{"d", "esc"}, nil},
		{"right enter removes", []string{"d", "right", "enter"}, []string{"secret-rm api-token force=false"}},
		{"force", []string{"D", "right", "enter"}, []string{"secret-rm api-token force=true"}},
		{"there and back cancels", []string{"d", "right", "right", "enter"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fixture()
			m := loaded(t, b)
			_, ask := m.Update(keyMsg(tt.keys[0]))
			_, cmd := commontest.Answer(t, ask, tt.keys[1:]...)
			if cmd != nil {
				if msg, ok := cmd().(removedMsg); !ok || msg.name != "api-token" || msg.err != nil {
					t.Fatalf("want a removal of the selected secret, got %#v", msg)
				}
			}
			if !reflect.DeepEqual(b.CallLog(), tt.calls) || m.mode != browsing {
				t.Errorf("calls = %v, mode %d; want %v, browsing", b.CallLog(), m.mode, tt.calls)
			}
		})
	}
}

func TestRemoveInUseReportsError(t *testing.T) {
	m := loaded(t, fixture())
	m.Update(keyMsg("down")) // db-password, used by the running db
	_, ask := m.Update(keyMsg("d"))
	_, cmd := commontest.Answer(t, ask, "right", "enter")
	_, cmd = m.Update(cmd())
	var found bool
	for _, c := range cmd().(tea.BatchMsg) {
		if e, ok := c().(common.ErrorMsg); ok && strings.Contains(e.Err.Error(), "in use by running container db") {
			found = true
		}
	}
	if !found {
		t.Error("a refused removal must report the error")
	}
}

// noSecrets is a Backend without secret support.
type noSecrets struct{ common.Backend }

func TestBackendWithoutSecrets(t *testing.T) {
	m := loaded(t, noSecrets{commontest.New()})
	if !strings.Contains(m.View(), "does not manage secrets") {
		t.Errorf("view:\n%s", m.View())
	}
}
