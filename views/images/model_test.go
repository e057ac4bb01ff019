package images

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	engimages "github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

func names(m *Model) []string {
	var out []string
	for _, img := range m.images {
		out = append(out, img.Tag)
	}
	return out
}

func TestSorting(t *testing.T) {
	tests := []struct {
		keys string
		want []string
	}{
		{"", []string{"1.2", "1.36", "3.20"}},  // newest first
		{"c", []string{"3.20", "1.36", "1.2"}}, // date again: oldest first
		{"s", []string{"1.2", "3.20", "1.36"}}, // largest first
		{"ss", []string{"1.36", "3.20", "1.2"}},
		{"n", []string{"3.20", "1.36", "1.2"}}, // alpine, busybox, localhost
		{"nn", []string{"1.2", "1.36", "3.20"}},
		{"sn", []string{"3.20", "1.36", "1.2"}},
	}
	for _, tt := range tests {
		t.Run("keys "+tt.keys, func(t *testing.T) {
			m := loaded(t, &fakeBackend{images: fixedImages()})
			for _, k := range tt.keys {
				m.Update(keyMsg(string(k)))
			}
			if got := names(m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSortKeepsCursorOnImage(t *testing.T) {
	m := loaded(t, &fakeBackend{images: fixedImages()})
	m.Update(keyMsg("down")) // busybox 1.36
	m.Update(keyMsg("s"))
	if got := m.selected().Tag; got != "1.36" {
		t.Errorf("cursor on %s after sorting, want 1.36", got)
	}
}

// TestRemoveAsksTheRoot: d and D ask the root's dialog (which starts on
// Cancel, see app's dialog tests) and remove only when it confirms.
func TestRemoveAsksTheRoot(t *testing.T) {
	tests := []struct {
		key, question, action string
		force                 bool
	}{
		{"d", "Remove image localhost:5000/app:1.2?", "Remove", false},
		{"D", "Force remove image localhost:5000/app:1.2?", "Force remove", true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			f := &fakeBackend{images: fixedImages()}
			m := loaded(t, f)
			_, cmd := m.Update(keyMsg(tt.key))
			ask, ok := cmd().(common.ConfirmMsg)
			if !ok || ask.Question != tt.question || ask.Action != tt.action {
				t.Fatalf("%s asked %#v", tt.key, ask)
			}
			if len(f.forced) != 0 {
				t.Fatal("removed before the dialog confirmed")
			}
			removed, ok := ask.OnConfirm().(removedMsg)
			if !ok || removed.ref != "localhost:5000/app:1.2" || !reflect.DeepEqual(f.forced, []bool{tt.force}) {
				t.Fatalf("confirming removed %#v with force flags %v", removed, f.forced)
			}
		})
	}
}

func TestPullProgressRendering(t *testing.T) {
	m := loaded(t, &fakeBackend{images: fixedImages()})
	m.pullSeq = 4
	m.pull = &pull{id: 4, ref: "docker.io/library/alpine:3.20", progress: map[string]engimages.Progress{},
		ch: make(chan tea.Msg, 1), cancel: func() {}}
	for _, p := range scriptedProgress() {
		if cmd := m.onPullProgress(pullMsg{id: 4, p: p}); cmd == nil {
			t.Fatal("a progress report must wait for the next")
		}
	}
	// A report of an earlier pull changes nothing.
	if cmd := m.onPullProgress(pullMsg{id: 3, p: engimages.Progress{Digest: "sha256:dddd", Status: "waiting"}}); cmd != nil {
		t.Error("a stale report must not be waited on")
	}
	t.Run("three layers", func(t *testing.T) {
		teatest.RequireEqualOutput(t, []byte(strings.Join(m.pullView(), "\n")))
	})

	_, cmd := m.Update(pullDoneMsg{id: 4, err: errors.New("connection refused")})
	if _, ok := cmd().(common.ErrorMsg); !ok || !strings.Contains(m.View(), "failed: connection refused") {
		t.Errorf("a failed pull must report its error, view:\n%s", m.View())
	}
}

func TestPullThroughChannel(t *testing.T) {
	f := &fakeBackend{images: fixedImages(), progress: scriptedProgress()}
	m := loaded(t, f)
	m.Update(keyMsg("p"))
	for _, r := range "alpine" {
		m.Update(keyMsg(string(r)))
	}
	_, cmd := m.Update(keyMsg("enter"))
	batch := cmd().(tea.BatchMsg)
	go batch[0]() // PullImage runs in its command's goroutine
	next, reports := batch[1], 0
	for i := 0; next != nil && i < 20; i++ {
		msg := next()
		if _, ok := msg.(pullMsg); ok {
			reports++
		}
		_, next = m.Update(msg)
		if _, done := msg.(pullDoneMsg); done {
			break
		}
	}
	if reports != len(scriptedProgress()) || !m.pull.finished {
		t.Fatalf("got %d reports, finished %v; want %d and finished", reports, m.pull.finished, len(scriptedProgress()))
	}
	if !reflect.DeepEqual(f.pulled, []string{"alpine"}) || !reflect.DeepEqual(m.pull.layers, []string{"sha256:aaaa", "sha256:bbbb", "sha256:cccc"}) {
		t.Errorf("pulled %v with layers %v", f.pulled, m.pull.layers)
	}
	var refreshed bool
	for _, c := range next().(tea.BatchMsg) {
		if _, ok := c().(listMsg); ok {
			refreshed = true
		}
	}
	if !refreshed {
		t.Error("a finished pull must refresh the list")
	}
}

func TestStaleListDropped(t *testing.T) {
	m := loaded(t, &fakeBackend{images: fixedImages()})
	old := m.listGen
	m.list()
	m.Update(listMsg{gen: old, images: []models.Image{{Name: "stale"}}})
	if len(m.images) != 3 {
		t.Errorf("a stale listing replaced the images: %v", m.images)
	}
}

func TestLoadArchive(t *testing.T) {
	f := &fakeBackend{images: fixedImages()}
	m := loaded(t, f)
	m.Update(keyMsg("L"))
	if !m.CapturingInput() {
		t.Fatal("the load prompt must take the keys")
	}
	archive := filepath.Join(t.TempDir(), "images.tar")
	if err := os.WriteFile(archive, []byte("an archive"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.input.SetValue(archive)
	_, cmd := m.Update(keyMsg("enter"))
	_, cmd = m.Update(cmd())
	if !reflect.DeepEqual(f.loaded, []string{"an archive"}) || cmd == nil {
		t.Errorf("loaded %q; want the typed file's contents and a refresh", f.loaded)
	}
}
