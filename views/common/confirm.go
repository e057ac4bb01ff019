package common

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Confirm is a yes/no dialog whose focus starts on Cancel, so that a
// stray Enter never destroys anything. Open it with NewConfirm; feed it
// key messages; Done reports when the user chose.
type Confirm struct {
	styles   Common
	question string
	action   string
	focusOK  bool
	done     bool
	ok       bool
}

// NewConfirm returns an open dialog asking question, with a Cancel button
// (focused) and a button labelled action.
func NewConfirm(c Common, question, action string) *Confirm {
	return &Confirm{styles: c, question: question, action: action}
}

var (
	confirmLeft   = key.NewBinding(key.WithKeys("left", "right", "tab", "shift+tab", "h", "l"))
	confirmEnter  = key.NewBinding(key.WithKeys("enter"))
	confirmCancel = key.NewBinding(key.WithKeys("esc", "n", "q"))
)

// ConfirmKeys are the dialog's keys, for a status bar.
func ConfirmKeys() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "choose")),
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// Update handles one key. Enter chooses the focused button; Esc or n
// cancels; arrows and tab move the focus.
func (d *Confirm) Update(msg tea.KeyMsg) {
	switch {
	case key.Matches(msg, confirmLeft):
		d.focusOK = !d.focusOK
	case key.Matches(msg, confirmEnter):
		d.done, d.ok = true, d.focusOK
	case key.Matches(msg, confirmCancel):
		d.done, d.ok = true, false
	}
}

// Done reports whether the user chose; OK whether they confirmed.
func (d *Confirm) Done() bool { return d.done }

// OK reports whether the user confirmed.
func (d *Confirm) OK() bool { return d.ok }

// View renders the dialog box.
func (d *Confirm) View() string {
	st := d.styles.Styles
	button := func(label string, focused bool) string {
		if focused {
			return st.Selected.Render("[ " + label + " ]")
		}
		return st.Dim.Render("  " + label + "  ")
	}
	buttons := button("Cancel", !d.focusOK) + "  " + button(d.action, d.focusOK)
	body := strings.Join([]string{d.question, "", buttons, "", st.Dim.Render("←/→ choose · enter confirm · esc cancel")}, "\n")
	return st.Dialog.Render(lipgloss.NewStyle().Render(body))
}

// ConfirmMsg asks the root model to show the one confirm dialog. While it
// is up the dialog owns every key: nothing reaches the view under it, the
// tab keys, q and : included. Confirming runs OnConfirm; Esc, n, q or
// Cancel run OnCancel. Views send it with AskConfirm instead of keeping a
// dialog of their own.
type ConfirmMsg struct {
	// Question is the dialog's text; it may hold several lines.
	Question string
	// Action labels the confirming button ("Remove").
	Action string
	// OnConfirm runs when the user confirms; nil does nothing.
	OnConfirm tea.Cmd
	// OnCancel runs when the user cancels; nil does nothing.
	OnCancel tea.Cmd
}

// AskConfirm returns a command asking the root to confirm question with a
// button labelled action, then to run onConfirm.
func AskConfirm(question, action string, onConfirm tea.Cmd) tea.Cmd {
	return func() tea.Msg { return ConfirmMsg{Question: question, Action: action, OnConfirm: onConfirm} }
}
