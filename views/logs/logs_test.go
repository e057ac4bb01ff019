package logs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// keyMsg is commontest.Key.
var keyMsg = commontest.Key

// view returns a logs view whose stream is replaced by lines fed directly.
func view(t testing.TB, n int, text func(i int) string) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(commontest.Common(ctx, commontest.New(commontest.Sample()...)), commontest.ID(1), Options{})
	m.SetSize(100, 12) // 10 body rows
	m.gen = 1
	feed(m, n, text)
	return m
}

func feed(m *Model, n int, text func(i int) string) {
	batch := make([]Line, 0, batchSize)
	for i := 0; i < n; i++ {
		batch = append(batch, Line{Text: text(i)})
		if len(batch) == batchSize || i == n-1 {
			m.Update(linesMsg{id: m.id, gen: m.gen, lines: batch})
			batch = make([]Line, 0, batchSize)
		}
	}
}

func numbered(i int) string { return fmt.Sprintf("line %d", i) }

func press(m *Model, keys ...string) {
	for _, k := range keys {
		m.Update(keyMsg(k))
	}
}

func TestRingBoundsAMillionLines(t *testing.T) {
	m := view(t, 1_000_000, numbered)
	if m.ring.Len() != DefaultCapacity {
		t.Fatalf("ring holds %d lines, want %d", m.ring.Len(), DefaultCapacity)
	}
	first, _ := m.ring.Get(m.ring.First())
	last, _ := m.ring.Get(m.ring.End() - 1)
	if first.Text != "line 990000" || last.Text != "line 999999" {
		t.Errorf("ring holds %q … %q, want line 990000 … line 999999", first.Text, last.Text)
	}
	if !strings.Contains(m.View(), "line 999999") {
		t.Error("following view does not show the newest line")
	}
}

func TestStreamOfAMillionLines(t *testing.T) {
	b := commontest.New(commontest.Sample()...)
	const n = 1_000_000
	b.LogGen = func(_ string, stdout, _ io.Writer) {
		for i := 0; i < n; i++ {
			fmt.Fprintf(stdout, "line %d\n", i)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := New(commontest.Common(ctx, b), commontest.ID(1), Options{Capacity: 5000})
	m.SetSize(100, 12)
	cmd := m.restart()
	for m.ring.End() < n {
		msg := cmd()
		if _, ok := msg.(linesMsg); !ok {
			t.Fatalf("stream sent %T before all lines arrived", msg)
		}
		_, cmd = m.Update(msg)
	}
	if m.ring.Len() != 5000 {
		t.Errorf("ring holds %d lines, want 5000", m.ring.Len())
	}
	if last, _ := m.ring.Get(n - 1); last.Text != "line 999999" {
		t.Errorf("newest line %q", last.Text)
	}
	m.Close()
	if _, ok := cmd().(endMsg); !ok {
		t.Error("closing did not end the stream")
	}
}

func TestStaleBatchesDropped(t *testing.T) {
	m := view(t, 5, numbered)
	m.Update(linesMsg{id: m.id, gen: m.gen - 1, lines: []Line{{Text: "old"}}})
	m.Update(linesMsg{id: "other", gen: m.gen, lines: []Line{{Text: "other"}}})
	if m.ring.Len() != 5 {
		t.Errorf("stale batches were applied: %d lines", m.ring.Len())
	}
}

func TestAutoScrollPausesAndResumes(t *testing.T) {
	m := view(t, 100, numbered)
	if !m.follow || m.effectiveTop() != 90 {
		t.Fatalf("follow=%v top=%d, want following from line 90", m.follow, m.effectiveTop())
	}
	press(m, "k")
	if m.follow || m.effectiveTop() != 89 {
		t.Fatalf("after k: follow=%v top=%d, want paused at 89", m.follow, m.effectiveTop())
	}
	feed(m, 50, func(i int) string { return fmt.Sprintf("more %d", i) })
	if m.effectiveTop() != 89 || !strings.Contains(m.View(), "line 89") {
		t.Errorf("new lines moved a paused view to %d", m.effectiveTop())
	}
	press(m, "j")
	if m.follow {
		t.Error("one line down from far above resumed following")
	}
	press(m, "G")
	if !m.follow || !strings.Contains(m.View(), "more 49") {
		t.Error("G did not resume following")
	}
	press(m, "k", "k", "j", "j")
	if !m.follow {
		t.Error("scrolling back to the bottom did not resume following")
	}
	press(m, "g")
	if m.follow || m.effectiveTop() != 0 {
		t.Errorf("g: follow=%v top=%d", m.follow, m.effectiveTop())
	}
}

func TestSearchNextPrev(t *testing.T) {
	text := func(i int) string {
		if i == 10 || i == 50 || i == 90 {
			return fmt.Sprintf("ERROR at %d", i)
		}
		return numbered(i)
	}
	tests := []struct {
		name  string
		query string
		keys  []string
		want  uint64
	}{
		{"first from the view", "error", nil, 90},
		{"n wraps", "error", []string{"n"}, 10},
		{"n n", "error", []string{"n", "n"}, 50},
		{"N back", "error", []string{"n", "n", "N"}, 10},
		{"N wraps", "error", []string{"n", "N"}, 90},
		{"regex", "~^error at [15]0$", []string{"n"}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := view(t, 100, text)
			press(m, "/")
			if !m.CapturingInput() {
				t.Fatal("/ did not open the search box")
			}
			for _, r := range tt.query {
				press(m, string(r))
			}
			press(m, "enter")
			press(m, tt.keys...)
			if !m.hasCur || m.current != tt.want {
				t.Errorf("current match = %d (set %v), want %d", m.current, m.hasCur, tt.want)
			}
			out := m.View()
			if !strings.Contains(out, fmt.Sprintf("▸ERROR at %d", tt.want)) {
				t.Errorf("current match not in view:\n%s", out)
			}
			if !strings.Contains(out, fmt.Sprintf("line %d", tt.want+1)) {
				t.Errorf("lines around the match are not kept:\n%s", out)
			}
			if m.follow {
				t.Error("a search jump left following on")
			}
		})
	}
}

func TestSearchCountAndFilterMode(t *testing.T) {
	m := view(t, 100, func(i int) string {
		if i%25 == 0 {
			return fmt.Sprintf("warn %d", i)
		}
		return numbered(i)
	})
	if err := m.setSearch("warn"); err != nil {
		t.Fatal(err)
	}
	if m.matches != 4 {
		t.Fatalf("matches = %d, want 4", m.matches)
	}
	press(m, "&")
	out := m.View()
	if strings.Contains(out, "line ") || !strings.Contains(out, "warn 0") || !strings.Contains(out, "warn 75") {
		t.Errorf("filter mode shows:\n%s", out)
	}
	spans := m.search.spans("a WARN and warn")
	if len(spans) != 2 || spans[0][0] != 2 || spans[1][0] != 11 {
		t.Errorf("spans = %v", spans)
	}
	if err := m.setSearch("~("); err == nil {
		t.Error("a bad regular expression was accepted")
	}
}

func TestToggles(t *testing.T) {
	m := view(t, 3, func(int) string { return strings.Repeat("x", 250) })
	m.Update(linesMsg{id: m.id, gen: m.gen, lines: []Line{{Text: "stamped", Time: commontest.Now}}})
	press(m, "t")
	if !strings.Contains(m.View(), "2026-11-23T10:00:00.000Z stamped") {
		t.Errorf("t did not show timestamps:\n%s", m.View())
	}
	press(m, "w")
	if got := strings.Count(m.View(), strings.Repeat("x", 99)); got < 6 {
		t.Errorf("w did not wrap long lines (%d full rows):\n%s", got, m.View())
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	m := view(t, 3, numbered)
	m.name = "web"
	_, cmd := m.Update(keyMsg("S"))
	msg := cmd()
	saved, ok := msg.(savedMsg)
	if !ok {
		t.Fatalf("save sent %v", msg)
	}
	want := filepath.Join(dir, "web-20261123-100000.log")
	if saved.path != want {
		t.Errorf("saved to %s, want %s", saved.path, want)
	}
	data, err := os.ReadFile(want)
	if err != nil || string(data) != "line 0\nline 1\nline 2\n" {
		t.Errorf("file holds %q (%v)", data, err)
	}
	if _, cmd := m.Update(saved); cmd == nil || !strings.Contains(cmd().(common.ToastMsg).Text, want) {
		t.Error("saving did not toast the path")
	}
}

func TestParseLine(t *testing.T) {
	l := parseLine("2026-11-23T10:00:00.5Z \x1b[31mred\x1b[0m\tend")
	if !l.Time.Equal(commontest.Now.Add(500*time.Millisecond)) || l.Text != "red    end" {
		t.Errorf("parseLine = %+v", l)
	}
	if l := parseLine("plain text"); !l.Time.IsZero() || l.Text != "plain text" {
		t.Errorf("parseLine(plain) = %+v", l)
	}
}
