package networks

import (
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
)

// openCreate shows the create form: name, subnet and gateway (both may be
// left empty) and whether the network is internal.
func (m *Model) openCreate() tea.Cmd {
	m.mode, m.name, m.subnet, m.gateway, m.internal = creating, "", "", "", false
	m.form = huh.NewForm(huh.NewGroup(
		huh.NewInput().Key("name").Title("Name").Placeholder("backend").Value(&m.name).Validate(network.ValidateName),
		huh.NewInput().Key("subnet").Title("Subnet").Description("empty: the next free 172.N.0.0/16").
			Placeholder("10.30.0.0/24").Value(&m.subnet).Validate(optionalSubnet),
		huh.NewInput().Key("gateway").Title("Gateway").Description("empty: the subnet's first address").Value(&m.gateway),
		huh.NewConfirm().Key("internal").Title("Internal (no route out of the host)?").Value(&m.internal),
	).Title("New network")).
		WithTheme(huh.ThemeBase()).WithShowHelp(false).WithWidth(min(max(m.width-4, 20), 72))
	return m.form.Init()
}

// openConnect asks for the container to join the selected network.
func (m *Model) openConnect() tea.Cmd {
	m.mode, m.container, m.target = connecting, "", m.selected().Name
	m.form = huh.NewForm(huh.NewGroup(
		huh.NewInput().Key("container").Title("Container to connect to " + m.target).
			Description("a running container's name or ID").Value(&m.container).Validate(notEmpty),
	)).
		WithTheme(huh.ThemeBase()).WithShowHelp(false).WithWidth(min(max(m.width-4, 20), 72))
	return m.form.Init()
}

func optionalSubnet(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	_, err := network.ParseSubnet(s)
	return err
}

func notEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("name a container")
	}
	return nil
}

// closeForm drops the form.
func (m *Model) closeForm() { m.mode, m.form = browsing, nil }

// updateForm forwards msg to the form; once it is completed, it acts.
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
		what := m.mode
		m.closeForm()
		ctx, b := m.ctx(), m.backend
		if what == connecting {
			net, ctr := m.target, strings.TrimSpace(m.container)
			return func() tea.Msg {
				_, err := b.Connect(ctx, ctr, runtime.NetworkOptions{Network: net})
				return doneMsg{text: "connected " + ctr + " to " + net, err: err}
			}
		}
		name, subnet, gw, internal := strings.TrimSpace(m.name), strings.TrimSpace(m.subnet), strings.TrimSpace(m.gateway), m.internal
		return func() tea.Msg {
			_, err := b.CreateNetwork(ctx, name, network.CreateOptions{Subnet: subnet, Gateway: gw, Internal: internal})
			return doneMsg{text: "created network " + name, err: err}
		}
	}
	return cmd
}
