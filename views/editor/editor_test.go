package editor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/theme"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

func newEditor(t *testing.T, f *fakeBackend, path string) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(common.Common{Ctx: ctx, Styles: theme.New("dark"), Backend: f, Node: "alpha"}, path)
	m.SetSize(120, 30)
	if path != "" {
		m.Update(m.Init()())
		if m.loadErr != nil {
			t.Fatalf("load %s: %v", path, m.loadErr)
		}
	}
	return m
}

// collect runs cmd and returns the messages it yields, batches flattened.
func collect(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, collect(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// first returns the first message of type T that cmd yields.
func first[T any](t *testing.T, cmd tea.Cmd) T {
	t.Helper()
	for _, msg := range collect(cmd) {
		if m, ok := msg.(T); ok {
			return m
		}
	}
	var zero T
	t.Fatalf("no %T among the command's messages", zero)
	return zero
}

func copyFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// save presses key and feeds the save's result back, returning what follows.
func save(t *testing.T, m *Model, k tea.KeyType) tea.Cmd {
	t.Helper()
	_, cmd := m.Update(tea.KeyMsg{Type: k})
	saved := first[savedMsg](t, cmd)
	if saved.err != nil {
		t.Fatalf("save: %v", saved.err)
	}
	_, cmd = m.Update(saved)
	return cmd
}

func TestEditKeepsCommentsAndOrder(t *testing.T) {
	path := copyFixture(t, "web.bun")
	orig, _ := os.ReadFile(path)
	m := newEditor(t, &fakeBackend{}, path)
	*m.vals["resources.memory"] = "128MiB"
	save(t, m, tea.KeyCtrlS)

	got, _ := os.ReadFile(path)
	want := strings.Replace(string(orig), "memory: 64MiB # enough", "memory: 128MiB # enough", 1)
	if string(got) != want {
		t.Errorf("saved file:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want the original 0640", st.Mode().Perm())
	}
	if m.Dirty() {
		t.Error("the editor is still dirty after saving")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestNewBundleOutput(t *testing.T) {
	f := &fakeBackend{}
	m := newEditor(t, f, "")
	set := map[string]string{
		"labels": "team=web", "name": "web", "image": "busybox:1.36", "ports": "8080:80\n\n9090:90/udp",
		"restart_policy": "no", "env": "MODE=demo", "resources.memory": "64MiB", "health.tcp": "8080",
		"command": "httpd -f", "depends_on": "db healthy 30s\ncache", "replicas.count": "2",
	}
	for id, v := range set {
		*m.vals[id] = v
	}
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlS})
	if m.mode != askPath || m.pathInput.Value() != "web.bun" {
		t.Fatalf("want the save-as prompt proposing web.bun, got mode %d %q", m.mode, m.pathInput.Value())
	}
	_ = cmd
	path := filepath.Join(t.TempDir(), "web.bun")
	m.pathInput.SetValue(path)
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	m.Update(first[savedMsg](t, cmd))

	got, _ := os.ReadFile(path)
	want := `# Budgie bundle: docs/bundle.md describes every field.
name: web
image: busybox:1.36
command: httpd -f
env:
  - MODE=demo
ports:
  - 8080:80
  - 9090:90/udp
resources:
  memory: 64MiB
restart_policy: no
health:
  tcp: 8080
depends_on:
  db:
    condition: healthy
    timeout: 30s
  cache:
replicas: 2
labels:
  team: web
`
	if string(got) != want {
		t.Errorf("new bundle:\n%s\nwant:\n%s", got, want)
	}
	if m.Path() != path {
		t.Errorf("path = %q, want %q", m.Path(), path)
	}
	if problems := f.ValidateBundle("web.bun", got); len(problems) > 0 {
		t.Errorf("the new bundle is not valid: %v", problems)
	}
}

func TestNewBundleRefusesToOverwrite(t *testing.T) {
	path := copyFixture(t, "web.bun")
	m := newEditor(t, &fakeBackend{}, "")
	*m.vals["name"] = "other"
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlS})
	m.pathInput.SetValue(path)
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if saved := first[savedMsg](t, cmd); saved.err == nil || !strings.Contains(saved.err.Error(), "already exists") {
		t.Fatalf("want an already-exists error, got %v", saved.err)
	}
}

func TestValidationShowsBadMemory(t *testing.T) {
	m := newEditor(t, &fakeBackend{}, copyFixture(t, "web.bun"))
	m.Update(first[validatedMsg](t, m.validate()))
	if !strings.Contains(m.View(), "valid bundle") {
		t.Fatalf("the fixture should be valid:\n%s", m.View())
	}
	*m.vals["resources.memory"] = "lots"
	// Any message reaching the form notices the change and debounces.
	_, cmd := m.Update(struct{}{})
	deb := first[debounceMsg](t, cmd)
	*m.vals["resources.memory"] = "lots of it"
	_, cmd = m.Update(struct{}{})
	if _, cmd := m.Update(deb); cmd != nil {
		t.Error("a debounce overtaken by more typing must not validate")
	}
	_, cmd = m.Update(first[debounceMsg](t, cmd))
	m.Update(first[validatedMsg](t, cmd))
	view := m.View()
	if !strings.Contains(view, "resources.memory") || !strings.Contains(view, "1 problem(s)") {
		t.Errorf("want the memory problem under the form, got:\n%s", view)
	}
	// A result of an older edit is dropped.
	m.Update(validatedMsg{gen: m.editGen - 1, problems: nil})
	if !strings.Contains(m.View(), "resources.memory") {
		t.Error("a stale validation replaced the current one")
	}
}

func TestSaveAndRun(t *testing.T) {
	f := &fakeBackend{}
	path := copyFixture(t, "web.bun")
	m := newEditor(t, f, path)
	*m.vals["stop_timeout"] = "5s"
	cmd := save(t, m, tea.KeyCtrlR)
	ran := first[ranMsg](t, cmd)
	if len(f.runs) != 1 || f.runs[0] != path {
		t.Fatalf("RunBundle calls = %v, want [%s]", f.runs, path)
	}
	_, cmd = m.Update(ran)
	sw := first[common.SwitchViewMsg](t, cmd)
	if sw.View != "containers" || sw.ContainerID != runID {
		t.Errorf("switch = %#v, want containers on %s", sw, runID)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "stop_timeout: 5s\n") {
		t.Errorf("the bundle was not saved before running:\n%s", data)
	}
}

// TestEscConfirmsDiscardDefaultCancel: esc on a clean editor closes it; on
// a dirty one it asks the root's dialog, which starts on Cancel, and only
// moving to Discard and pressing enter closes the editor.
func TestEscConfirmsDiscardDefaultCancel(t *testing.T) {
	tests := []struct {
		name      string
		keys      []string // pressed in the root's dialog
		wantClose bool
	}{
		{"enter keeps editing", []string{"enter"}, false},
		{"esc keeps editing", []string{"esc"}, false},
		{"q keeps editing", []string{"q"}, false},
		{"right then enter discards", []string{"right", "enter"}, true},
		{"right left enter keeps", []string{"right", "left", "enter"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newEditor(t, &fakeBackend{}, copyFixture(t, "web.bun"))
			*m.vals["name"] = "web2"
			_, ask := m.Update(tea.KeyMsg{Type: tea.KeyEsc})
			q, cmd := commontest.Answer(t, ask, tt.keys...)
			if q.Question != "Discard unsaved changes?" || q.Action != "Discard" {
				t.Errorf("asked %q with button %q", q.Question, q.Action)
			}
			if closed := closes(cmd); closed != tt.wantClose {
				t.Errorf("closed = %v, want %v", closed, tt.wantClose)
			}
			if m.mode != editing || !m.Dirty() || *m.vals["name"] != "web2" {
				t.Errorf("mode %d, dirty %v, name %q: the editor must be as it was", m.mode, m.Dirty(), *m.vals["name"])
			}
		})
	}
}

// TestEscClosesCleanEditor: without changes esc closes at once, asking nothing.
func TestEscClosesCleanEditor(t *testing.T) {
	m := newEditor(t, &fakeBackend{}, copyFixture(t, "web.bun"))
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	for _, msg := range collect(cmd) {
		if _, ok := msg.(common.ConfirmMsg); ok {
			t.Fatal("a clean editor asked to discard")
		}
	}
	if !closes(cmd) {
		t.Error("esc did not close a clean editor")
	}
}

// closes reports whether cmd switches back to the containers tab.
func closes(cmd tea.Cmd) bool {
	for _, msg := range collect(cmd) {
		if sw, ok := msg.(common.SwitchViewMsg); ok && sw.View == "containers" {
			return true
		}
	}
	return false
}

// TestProblemCutAtWordWithEllipsis: a problem longer than the room under
// the form wraps at words and its last shown line ends in "…"; one that
// fits is shown whole (the bad_memory goldens show the whole hint).
func TestProblemCutAtWordWithEllipsis(t *testing.T) {
	m := newEditor(t, &fakeBackend{}, copyFixture(t, "badmem.bun"))
	m.Update(first[validatedMsg](t, m.validate()))
	if len(m.problems) != 1 || !strings.Contains(m.problems[0], "(hint: ") {
		t.Fatalf("want one problem with a hint, got %q", m.problems)
	}
	problem := m.problems[0]
	words := strings.Fields(problem)
	tests := []struct {
		name  string
		width int
		room  int
		cut   bool
	}{
		{"120 wide fits", 120, 4, false},
		{"80 wide fits", 80, 4, false},
		{"40 wide is cut", 40, 3, true},
		{"one line is cut", 120, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.width = tt.width
			lines := m.problemBody(tt.room)
			if len(lines) > tt.room {
				t.Fatalf("%d lines in a room of %d", len(lines), tt.room)
			}
			var shown []string
			for _, l := range lines {
				shown = append(shown, strings.Fields(l)...)
			}
			last := lines[len(lines)-1]
			if got := strings.HasSuffix(last, "…"); got != tt.cut {
				t.Fatalf("last line %q: ends in … = %v, want %v", last, got, tt.cut)
			}
			if tt.cut {
				shown[len(shown)-1] = strings.TrimSuffix(shown[len(shown)-1], "…")
			}
			for i, w := range shown {
				if i >= len(words) || w != words[i] {
					t.Fatalf("shown word %d %q is not the problem's %q: a word was cut\n%s", i, w, words[min(i, len(words)-1)],
						strings.Join(lines, "\n"))
				}
			}
			if !tt.cut && len(shown) != len(words) {
				t.Errorf("shown %d of %d words without an ellipsis", len(shown), len(words))
			}
		})
	}
}
