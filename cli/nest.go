package cli

import (
	"encoding/base64"
	"fmt"
	"os"

	"github.com/alecthomas/kong"
	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/term"

	"github.com/budgie-sh/budgie/app"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/theme"
	"github.com/budgie-sh/budgie/views/common"
)

// NestCmd opens nest, the full-screen TUI. It is the default command.
type NestCmd struct{}

// Run opens nest in the alternate screen. With --headless it prints the
// usage instead (a script asked for nothing); without a terminal on stdin
// and stdout it refuses.
func (NestCmd) Run(g *Globals, k *kong.Context) error {
	if g.Headless {
		if root, err := kong.Trace(k.Kong, nil); err == nil {
			root.Path = root.Path[:1] // the application, not the default command
			_ = root.PrintUsage(false)
		}
		return fmt.Errorf("--headless needs a command (nest is the TUI): %w", errdefs.ErrInvalid)
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("nest needs a terminal on stdin and stdout (for scripts use --headless COMMAND): %w", errdefs.ErrInvalid)
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	endTheme := timing.Start(g.ctx, "nest/theme")
	st := styles(cfg.UI.Theme)
	endTheme()
	c := common.Common{
		Ctx: g.ctx, Styles: st, Keys: cfg.Keys,
		Backend: eng, Node: eng.Runtime.Node(), Copy: osc52Copy,
	}
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(g.ctx)}
	if cfg.UI.Mouse {
		opts = append(opts, tea.WithMouseCellMotion())
	}
	var root tea.Model = app.New(c, app.Options{})
	if timing.FromContext(g.ctx) != nil {
		root = &firstView{Model: root, end: timing.Start(g.ctx, "nest/first-view")}
	}
	if _, err := tea.NewProgram(root, opts...).Run(); err != nil && g.ctx.Err() == nil {
		return fmt.Errorf("nest: %w", err)
	}
	return nil
}

// firstView is nest's root model with BUDGIE_TIMINGS=1: it ends the
// "nest/first-view" phase (from the program's start) when the first frame
// is drawn. Bubble Tea writes that frame to the terminal at its next tick
// (at most 1/60 s later).
type firstView struct {
	tea.Model
	end  func()
	done bool
}

// Update forwards to the root model, keeping the wrapper.
func (m *firstView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	m.Model, cmd = m.Model.Update(msg)
	return m, cmd
}

// View ends the phase on the first call.
func (m *firstView) View() string {
	if !m.done {
		m.done = true
		m.end()
	}
	return m.Model.View()
}

// osc52Copy puts text on the terminal's clipboard with OSC 52, which
// works over SSH too. It writes one escape sequence to the terminal.
func osc52Copy(text string) error {
	_, err := fmt.Fprintf(os.Stdout, "\x1b]52;c;%s\a", base64.StdEncoding.EncodeToString([]byte(text)))
	return err
}

// styles are nest's styles for ui.theme; auto asks the terminal for its
// background first (the one terminal query budgie makes).
func styles(name string) *theme.Styles {
	if name == "auto" || name == "" {
		theme.DetectBackground()
	}
	return theme.New(theme.Name(name))
}
