package app

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
)

// dialog is the one confirm dialog, shown by the root over every view.
type dialog struct {
	box *common.Confirm
	msg common.ConfirmMsg
}

// openDialog shows the dialog a view asked for; a second request while
// one is up replaces it (the first is cancelled).
func (m *Model) openDialog(msg common.ConfirmMsg) tea.Cmd {
	var cancelled tea.Cmd
	if m.dialog != nil {
		cancelled = m.dialog.msg.OnCancel
	}
	m.dialog = &dialog{box: common.NewConfirm(m.c, msg.Question, msg.Action), msg: msg}
	return cancelled
}

// dialogKey gives a key to the open dialog, which owns every key, and
// runs the chosen action when it closes.
func (m *Model) dialogKey(msg tea.KeyMsg) tea.Cmd {
	d := m.dialog
	d.box.Update(msg)
	if !d.box.Done() {
		return nil
	}
	m.dialog = nil
	if d.box.OK() {
		return d.msg.OnConfirm
	}
	return d.msg.OnCancel
}
