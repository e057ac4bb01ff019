package common

import (
	"slices"
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

func TestFitColumns(t *testing.T) {
	cols := []Column{
		{Title: "NAME", Min: 4, Max: 10},
		{Title: "ID", Min: 6, Max: 6, Priority: 3},
		{Title: "STATE", Min: 5, Max: 7},
		{Title: "IMAGE", Min: 5, Max: 12, Priority: 1},
		{Title: "PORTS", Min: 5, Max: 5, Priority: 2},
	}
	cells := [][]string{{"web", "0123ab", "running", "nginx:1.27", "80"}}
	tests := []struct {
		name  string
		width int
		grow  int
		want  []int
	}{
		{"everything fits, slack to NAME", 50, 0, []int{18, 6, 7, 10, 5}},
		{"everything fits, slack unused", 50, -1, []int{4, 6, 7, 10, 5}},
		{"everything just fits", 36, 0, []int{4, 6, 7, 10, 5}},
		{"ID dropped first", 33, 0, []int{8, 0, 7, 10, 5}},
		{"a column that does not fit drops the lower ones too", 26, 0, []int{7, 0, 7, 10, 0}},
		{"always-kept columns shrink", 10, 0, []int{4, 0, 5, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FitColumns(cols, cells, tt.width, tt.grow)
			if !slices.Equal(got, tt.want) {
				t.Errorf("FitColumns(width %d) = %v, want %v", tt.width, got, tt.want)
			}
		})
	}
}

func TestWrapAndClip(t *testing.T) {
	got := Wrap("start one: budgie --headless serve now", 20)
	want := []string{"start one: budgie", "--headless serve now"}
	if !slices.Equal(got, want) {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
	if got := Wrap("abcdefghij", 4); !slices.Equal(got, []string{"abcd", "efgh", "ij"}) {
		t.Errorf("Wrap of a long word = %q", got)
	}
	if got := Clip("hello world\nhi", 8, 1); got != "hello w…" {
		t.Errorf("Clip = %q", got)
	}
	if got := Cell("12", 4, true); got != "  12" {
		t.Errorf("Cell right = %q", got)
	}
}
