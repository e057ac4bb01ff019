package commontest

import (
	"context"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
)

// Answer plays the root's confirm dialog for a view test: cmd (what the
// view returned) must ask for a confirmation; keys are pressed in a real
// common.Confirm, as the root does. It returns what was asked and the
// command the dialog runs when it closes: OnConfirm, OnCancel, or nil
// while it stays open.
func Answer(t testing.TB, cmd tea.Cmd, keys ...string) (common.ConfirmMsg, tea.Cmd) {
	t.Helper()
	if cmd == nil {
		t.Fatal("the view asked nothing (nil command)")
	}
	ask, ok := cmd().(common.ConfirmMsg)
	if !ok {
		t.Fatalf("the view did not ask for a confirmation")
	}
	box := common.NewConfirm(Common(context.Background(), New()), ask.Question, ask.Action)
	for _, k := range keys {
		box.Update(Key(k))
		if box.Done() {
			if box.OK() {
				return ask, ask.OnConfirm
			}
			return ask, ask.OnCancel
		}
	}
	return ask, nil
}
