package editor

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/views/common"
)

// problemLines is the room kept under the form for validation problems.
const problemLines = 5

// buildForm makes the form over m.vals, one group per page.
func (m *Model) buildForm() {
	groups := make([]*huh.Group, len(pages))
	for i, p := range pages {
		fields := make([]huh.Field, len(p.fields))
		for j, f := range p.fields {
			fields[j] = m.formField(f)
		}
		groups[i] = huh.NewGroup(fields...).Title(fmt.Sprintf("%s (%d/%d)", p.title, i+1, len(pages)))
	}
	m.form = huh.NewForm(groups...).
		WithKeyMap(formKeys()).
		WithTheme(huh.ThemeBase()).
		WithShowHelp(false).
		WithShowErrors(false)
	if m.width > 0 {
		m.form.WithWidth(m.width).WithHeight(m.formHeight())
	}
}

// formField is the input for one field.
func (m *Model) formField(f field) huh.Field {
	if f.kind() == bundle.FieldLine || f.kind() == bundle.FieldPolicy {
		in := huh.NewInput().Key(f.id).Title(f.title).Description(f.help).Value(m.vals[f.id])
		if len(f.suggest) > 0 {
			in.Suggestions(f.suggest)
		}
		return in
	}
	return huh.NewText().Key(f.id).Title(f.title).Description(f.help).Lines(3).
		ExternalEditor(false).Value(m.vals[f.id])
}

// formHeight is the height left for the form.
func (m *Model) formHeight() int {
	return max(m.height-2-problemLines-1, 6)
}

// View draws the title, the form, the problems and the save-as prompt.
// The discard confirmation is the root's dialog, drawn over this.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	s := m.c.Styles
	var body string
	switch {
	case m.loading:
		body = s.Dim.Render("loading " + m.path + "…")
	case m.loadErr != nil:
		body = s.ToastError.Render(m.loadErr.Error()) + "\n" + s.Dim.Render("esc: close")
	default:
		body = m.form.View() + "\n" + m.problemView()
	}
	out := lipgloss.JoinVertical(lipgloss.Left, m.title(), "", body)
	if m.mode == askPath {
		out = lipgloss.JoinVertical(lipgloss.Left, out, m.pathInput.View())
	}
	return common.Clip(out, m.width, m.height)
}

// title names the bundle and says whether it has unsaved changes.
func (m *Model) title() string {
	s := m.c.Styles
	name := m.path
	if name == "" {
		name = "new bundle"
	}
	t := s.Title.Render("Bundle editor") + "  " + name
	if m.Dirty() {
		t += s.Marked.Render("  [modified]")
	}
	if m.doc != nil && m.doc.Containers() > 1 {
		t += s.Dim.Render(fmt.Sprintf("  (stack: editing container 1 of %d)", m.doc.Containers()))
	}
	if m.status != "" {
		t += s.Dim.Render("  " + m.status)
	}
	return t
}

// problemView lists the validator's problems, or says the bundle is valid.
func (m *Model) problemView() string {
	s := m.c.Styles
	switch {
	case !m.validated:
		return s.Dim.Render("validating…")
	case len(m.problems) == 0:
		return s.Dim.Render("✓ valid bundle")
	}
	lines := []string{s.ToastError.UnsetBorderStyle().UnsetPadding().Render(fmt.Sprintf("%d problem(s):", len(m.problems)))}
	return strings.Join(append(lines, m.problemBody(problemLines-1)...), "\n")
}

// problemBody is the problems in at most room lines, each wrapped at word
// boundaries under a hanging indent. A problem cut short ends in "…"; the
// problems left out are counted on a last "… and N more" line.
func (m *Model) problemBody(room int) []string {
	var out []string
	for i, p := range m.problems {
		ls := common.Wrap(p, max(m.width-4, 10))
		for j := range ls {
			ls[j] = map[bool]string{true: "  ", false: "    "}[j == 0] + ls[j]
		}
		left := room - len(out)
		if i < len(m.problems)-1 {
			left-- // keep a line to count what is left out
		}
		if len(ls) <= left {
			out = append(out, ls...)
			continue
		}
		more := len(m.problems) - i
		if left > 0 {
			ls = ls[:left]
			ls[left-1] = ellipsis(ls[left-1], m.width)
			out, more = append(out, ls...), more-1
		}
		if more > 0 {
			out = append(out, m.c.Styles.Dim.Render(fmt.Sprintf("  … and %d more", more)))
		}
		break
	}
	return out
}

// ellipsis marks line as cut short, within width cells.
func ellipsis(line string, width int) string {
	if lipgloss.Width(line)+1 <= width {
		return line + "…"
	}
	return ansi.Truncate(line, width-1, "") + "…"
}
