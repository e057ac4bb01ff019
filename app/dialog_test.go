package app

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
)

// confirmedMsg is what the test dialog's action sends when it runs.
type confirmedMsg struct{}

// TestDialogOwnsEveryKey: while the root's dialog is up, q, tab, digits,
// : and ? do nothing under it; Enter on the default (Cancel), Esc and q
// cancel; only moving to the action and Enter runs it.
func TestDialogOwnsEveryKey(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string
		confirm bool
	}{
		{"enter on the default cancels", []string{"enter"}, false},
		{"esc cancels", []string{"esc"}, false},
		{"q cancels and does not quit", []string{"q"}, false},
		{"tab moves the focus, not the tab", []string{"tab", "enter"}, true},
		{"digits, : and ? are swallowed", []string{"3", ":", "?", "2", "right", "enter"}, true},
		{"there and back cancels", []string{"right", "left", "enter"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := started(t)
			active := m.active
			ran := false
			m.Update(common.ConfirmMsg{Question: "Remove image busybox?", Action: "Remove",
				OnConfirm: func() tea.Msg { ran = true; return confirmedMsg{} }})
			if !strings.Contains(m.View(), "Remove image busybox?") {
				t.Fatalf("the dialog is not drawn:\n%s", m.View())
			}
			var last tea.Cmd
			for _, k := range tt.keys {
				_, cmd := m.Update(keyMsg(k))
				if cmd != nil {
					if _, quit := runQuick(cmd).(tea.QuitMsg); quit {
						t.Fatalf("%q quit nest under the dialog", k)
					}
					last = cmd
				}
				if m.active != active || m.palette.IsOpen() || m.showHelp {
					t.Fatalf("%q acted under the dialog: tab %d, palette %v, help %v", k, m.active, m.palette.IsOpen(), m.showHelp)
				}
			}
			if m.dialog != nil {
				t.Fatal("the dialog is still up")
			}
			if tt.confirm != ran || (tt.confirm && last == nil) {
				t.Fatalf("action ran %v, want %v", ran, tt.confirm)
			}
			if strings.Contains(m.View(), "Remove image busybox?") {
				t.Fatal("the dialog is still drawn")
			}
			// With the dialog gone, q quits again.
			_, cmd := m.Update(keyMsg("q"))
			if cmd == nil {
				t.Fatal("q does nothing after the dialog")
			}
			if _, quit := cmd().(tea.QuitMsg); !quit {
				t.Fatal("q does not quit after the dialog")
			}
		})
	}
}
