package common

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/theme"
)

func TestBind(t *testing.T) {
	c := Common{Keys: map[string][]string{"quit": {"Q", "ctrl+q"}}}
	q := c.Bind("quit", "quit", "q")
	if !key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("Q")}, q) || key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}, q) {
		t.Error("remapped quit does not match Q only")
	}
	if q.Help().Key != "Q" {
		t.Errorf("help key = %q", q.Help().Key)
	}
	if h := c.Bind("mark", "select", " ").Help().Key; h != "space" {
		t.Errorf("space shows as %q", h)
	}
}

func TestConfirmDefaultsToCancel(t *testing.T) {
	tests := []struct {
		keys   []tea.KeyMsg
		wantOK bool
	}{
		{[]tea.KeyMsg{{Type: tea.KeyEnter}}, false},
		{[]tea.KeyMsg{{Type: tea.KeyRight}, {Type: tea.KeyEnter}}, true},
		{[]tea.KeyMsg{{Type: tea.KeyRight}, {Type: tea.KeyLeft}, {Type: tea.KeyEnter}}, false},
		{[]tea.KeyMsg{{Type: tea.KeyRight}, {Type: tea.KeyEsc}}, false},
	}
	for i, tt := range tests {
		d := NewConfirm(Common{Styles: theme.New("dark")}, "Stop web?", "Stop")
		for _, k := range tt.keys {
			d.Update(k)
		}
		if !d.Done() || d.OK() != tt.wantOK {
			t.Errorf("case %d: done %v ok %v, want ok %v", i, d.Done(), d.OK(), tt.wantOK)
		}
	}
}

func TestOverlay(t *testing.T) {
	bg := strings.Repeat("..........\n", 4) + ".........."
	got := Overlay(bg, "ab\ncd", 10, 5)
	want := "..........\n....ab....\n....cd....\n..........\n.........."
	if got != want {
		t.Errorf("Overlay =\n%s\nwant\n%s", got, want)
	}
}

func TestCursorAfterReload(t *testing.T) {
	id := func(s string) string { return s }
	tests := []struct {
		items    []string
		cursor   int
		selected string
		want     int
	}{
		{[]string{"a", "b", "c"}, 0, "c", 2}, // follows its item
		{[]string{"a", "b"}, 1, "gone", 1},   // item gone: stays put
		{[]string{"a"}, 5, "gone", 0},        // kept inside the list
		{nil, 3, "", 0},                      // empty list
	}
	for _, tt := range tests {
		if got := CursorAfterReload(tt.items, tt.cursor, tt.selected, id); got != tt.want {
			t.Errorf("%v cursor %d selected %q: got %d want %d", tt.items, tt.cursor, tt.selected, got, tt.want)
		}
	}
}
