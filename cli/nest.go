package cli

import (
	"encoding/base64"
	"fmt"
	"os"

	"github.com/alecthomas/kong"
	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/term"

	"github.com/budgie-sh/budgie/app"
	"github.com/budgie-sh/budgie/app/screen"
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
	// Frames are drawn by app/screen, not Bubble Tea's renderer, which
	// wakes 60 times a second even when idle.
	tty := os.Stdout
	scr, err := screen.Open(os.Stdin, tty, screen.Options{Mouse: cfg.UI.Mouse})
	if err != nil {
		return fmt.Errorf("nest: %w", err)
	}
	c := common.Common{
		Ctx: g.ctx, Styles: st, Keys: cfg.Keys,
		Backend: eng, Node: eng.Runtime.Node(),
		Copy: func(text string) error { return scr.Passthrough(osc52(text)) },
		Exec: scr.ExecProcess,
	}
	var root tea.Model = app.New(c, app.Options{})
	if timing.FromContext(g.ctx) != nil {
		root = &firstView{Model: root, end: timing.Start(g.ctx, "nest/first-view")}
	}
	_, err = tea.NewProgram(screen.Wrap(root, scr), tea.WithoutRenderer(), tea.WithOutput(tty), tea.WithContext(g.ctx)).Run()
	if cerr := scr.Close(); err == nil {
		err = cerr
	}
	if err != nil && g.ctx.Err() == nil {
		return fmt.Errorf("nest: %w", err)
	}
	return nil
}

// firstView is nest's root model with BUDGIE_TIMINGS=1: it ends the
// "nest/first-view" phase (from the program's start) when the first frame
// is handed to the screen (its writer draws it at once: no frame was
// drawn before it).
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

// osc52 is the escape sequence that puts text on the terminal's
// clipboard (OSC 52), which works over SSH too.
func osc52(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\a"
}

// styles are nest's styles for ui.theme; auto asks the terminal for its
// background first (the one terminal query budgie makes).
func styles(name string) *theme.Styles {
	if name == "auto" || name == "" {
		theme.DetectBackground()
	}
	return theme.New(theme.Name(name))
}
