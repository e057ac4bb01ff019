package palette

import (
	"context"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"stop web", []string{"stop", "web"}, false},
		{"  pull   registry:5000/app  ", []string{"pull", "registry:5000/app"}, false},
		{`exec web sh -c "echo hi there"`, []string{"exec", "web", "sh", "-c", "echo hi there"}, false},
		{`ps --format '{{.Name}} x'`, []string{"ps", "--format", "{{.Name}} x"}, false},
		{`a\ b ""`, []string{"a b", ""}, false},
		{`stop "web`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Split(tt.in)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("Split(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func typeLine(m *Model, s string) tea.Cmd {
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return m.Update(tea.KeyMsg{Type: tea.KeyEnter})
}

func TestRun(t *testing.T) {
	tests := []struct {
		line      string
		wantToast string
		wantErr   string
		wantPanel string
	}{
		{"stop web", "ran: stop web", "", ""},
		{"ps -a", "", "", "web    running"},
		{"fail now", "", "exit status 1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			b := commontest.New()
			m := New(commontest.Common(context.Background(), b))
			m.SetSize(120, 30)
			m.Open()
			cmd := typeLine(m, tt.line)
			if cmd == nil {
				t.Fatal("enter ran nothing")
			}
			next := m.Update(cmd())
			if got := b.CallLog(); len(got) != 1 || got[0] != "command "+tt.line {
				t.Errorf("backend calls = %q", got)
			}
			switch {
			case tt.wantToast != "":
				if toast, ok := next().(common.ToastMsg); !ok || toast.Text != tt.wantToast || m.IsOpen() {
					t.Errorf("want a toast %q and the palette closed", tt.wantToast)
				}
			case tt.wantErr != "":
				if e, ok := next().(common.ErrorMsg); !ok || !strings.Contains(e.Err.Error(), tt.wantErr) {
					t.Errorf("want an error containing %q", tt.wantErr)
				}
			default:
				if !m.IsOpen() || !strings.Contains(m.View(), tt.wantPanel) {
					t.Errorf("want the output panel with %q:\n%s", tt.wantPanel, m.View())
				}
			}
		})
	}
}

func TestHistory(t *testing.T) {
	m := New(commontest.Common(context.Background(), commontest.New()))
	m.SetSize(120, 30)
	for _, l := range []string{"stop web", "start db"} {
		m.Open()
		m.Update(typeLine(m, l)())
	}
	m.Open()
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	m.Update(tea.KeyMsg{Type: tea.KeyUp})
	if got := m.input.Value(); got != "stop web" {
		t.Errorf("two ups recall %q, want stop web", got)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.IsOpen() {
		t.Error("esc did not close the palette")
	}
}
