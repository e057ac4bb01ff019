package secrets

import (
	"errors"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/budgie-sh/budgie/engine/secrets"
	engsecrets "github.com/budgie-sh/budgie/engine/secrets"
)

// openForm shows the create form: a name, then the value, whose input
// echoes only masks.
func (m *Model) openForm() tea.Cmd {
	m.mode, m.name, m.value = creating, "", ""
	m.form = huh.NewForm(huh.NewGroup(
		huh.NewInput().Key("name").Title("Name").Placeholder("db-password").
			Value(&m.name).Validate(secrets.ValidName),
		huh.NewInput().Key("value").Title("Value").Description("hidden as you type; sealed at rest").
			EchoMode(huh.EchoModePassword).Value(&m.value).Validate(checkValue),
	).Title("New secret")).
		WithTheme(huh.ThemeBase()).
		WithShowHelp(false).
		WithWidth(min(max(m.width-4, 20), 72))
	return m.form.Init()
}

func checkValue(v string) error {
	switch {
	case v == "":
		return errors.New("the value is empty")
	case len(v) > secrets.MaxSize:
		return errors.New("the value is too large")
	}
	return nil
}

// closeForm drops the form and clears the typed value.
func (m *Model) closeForm() {
	m.mode, m.form, m.name, m.value = browsing, nil, "", ""
}

// updateForm forwards msg to the form; once it is completed, it creates
// the secret.
func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	if m.form == nil {
		return nil
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	switch m.form.State {
	case huh.StateAborted:
		m.closeForm()
		return nil
	case huh.StateCompleted:
		name, value := m.name, []byte(m.value)
		m.closeForm()
		ctx, b := m.ctx(), m.backend
		return func() tea.Msg {
			defer clear(value)
			_, err := b.CreateSecret(ctx, name, value, engsecrets.CreateOptions{})
			return createdMsg{name: name, err: err}
		}
	}
	return cmd
}
