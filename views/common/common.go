// Package common is what every nest view shares: the Component interface,
// the Common struct handed to constructors (context, styles, key overrides,
// backend), the Backend through which views reach the engine, and the
// messages views send to the root model.
package common

import (
	"context"
	"io"
	"os/exec"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/theme"
)

// Component is one view or widget: a tea.Model with its key map and a size.
type Component interface {
	tea.Model
	help.KeyMap
	// SetSize tells the component how many cells it may draw in.
	SetSize(width, height int)
}

// Common travels to every view's constructor. It holds no mutable state.
type Common struct {
	// Ctx is cancelled when nest quits.
	Ctx context.Context
	// Styles are the theme's styles.
	Styles *theme.Styles
	// Keys remaps key bindings: action name → keys (budgie.yaml `keys:`).
	Keys map[string][]string
	// Backend reaches the engine; views call it only inside tea.Cmds.
	Backend Backend
	// Node is this node's name.
	Node string
	// Clock returns the current time; nil means time.Now. Golden-file
	// tests fix it so that uptimes render the same every run.
	Clock func() time.Time
	// Copy puts text on the user's clipboard (OSC 52 on the terminal);
	// nil means copying is not available. It is called inside a tea.Cmd.
	Copy func(text string) error
	// Exec runs a command in the foreground with the terminal lent to it
	// (a shell in a container); nil means tea.ExecProcess. nest draws
	// through app/screen, whose ExecProcess it sets here.
	Exec func(c *exec.Cmd, fn tea.ExecCallback) tea.Cmd
}

// ExecProcess runs c through Exec, or tea.ExecProcess when Exec is nil.
func (c Common) ExecProcess(cmd *exec.Cmd, fn tea.ExecCallback) tea.Cmd {
	if c.Exec != nil {
		return c.Exec(cmd, fn)
	}
	return tea.ExecProcess(cmd, fn)
}

// Backend is the engine as nest sees it: a list of *engine.Engine's own
// methods (engine types, models types), which *engine.Engine satisfies as
// it is — no forwarding layer. Golden-file tests implement it with fixed
// data (views/common/commontest) so that renders are deterministic.
// Views call it only inside tea.Cmds.
type Backend interface {
	// Containers lists containers; Container returns one by name, ID or
	// unique prefix.
	Containers(ctx context.Context, opts runtime.ListOptions) ([]models.Container, error)
	Container(ctx context.Context, ref string) (models.Container, error)
	// LiveContainers lists every container from the keeper's live list
	// (one round trip, no containerd task listing); it fails when no
	// keeper runs. The containers view draws its first table from it
	// until Containers answers.
	LiveContainers(ctx context.Context, opts engine.LiveContainersOptions) ([]models.Container, error)
	// Start, Stop, Restart and Remove act on one container.
	Start(ctx context.Context, ref string) (models.Container, error)
	Stop(ctx context.Context, ref string, opts runtime.StopOptions) (models.Container, error)
	Restart(ctx context.Context, ref string, opts runtime.StopOptions) (models.Container, error)
	Remove(ctx context.Context, ref string, opts runtime.RemoveOptions) (models.Container, error)
	// Inspect returns docker-inspect-shaped details.
	Inspect(ctx context.Context, ref string, opts engine.InspectOptions) (models.Inspect, error)
	// Events streams container events (the keeper's merged in) until ctx ends.
	Events(ctx context.Context) (<-chan models.Event, <-chan error)
	// Stats samples every running container.
	Stats(ctx context.Context, opts runtime.StatsOptions) (map[string]models.Stats, error)
	// Logs writes a container's log lines, following until it stops.
	Logs(ctx context.Context, ref string, opts engine.LogsOptions) error
	// ShellCommand is the argv of an interactive shell in a container
	// (run through Common.ExecProcess).
	ShellCommand(id string) []string
	// Images lists images; PullImage pulls one, reporting progress;
	// LoadImages loads an archive; RemoveImages removes some.
	Images(ctx context.Context, opts images.ListOptions) ([]models.Image, error)
	PullImage(ctx context.Context, ref string, opts images.PullOptions) (models.Image, error)
	LoadImages(ctx context.Context, r io.Reader, opts images.LoadOptions) ([]models.Image, error)
	RemoveImages(ctx context.Context, refs []string, opts images.RemoveOptions) ([]string, error)
	// ValidateBundle returns the problems of bundle text, one per line, or nil.
	ValidateBundle(name string, data []byte) []string
	// RunBundles runs every container of bundle files and returns them.
	RunBundles(ctx context.Context, paths []string, opts engine.RunBundleOptions) ([]models.Container, error)
	// KeeperCommand is the command line of the node's detached keeper
	// (for RunBundleOptions.KeeperArgv).
	KeeperCommand() []string
	// RunCommandLine runs a headless budgie command line (the : palette)
	// and returns its output.
	RunCommandLine(ctx context.Context, args []string) (string, error)
}

// ErrorMsg reports a failed action; the root model shows it as a toast.
type ErrorMsg struct{ Err error }

// ToastMsg shows a short message in a toast.
type ToastMsg struct{ Text string }

// SwitchViewMsg asks the root model to show another view.
type SwitchViewMsg struct {
	// View is the view's name ("containers", "logs", …).
	View string
	// ContainerID is the container the view should open on, if any.
	ContainerID string
	// Path is the file the view should open, if any (the editor's bundle).
	Path string
}

// ToastCmd wraps text in a command returning ToastMsg.
func ToastCmd(text string) tea.Cmd { return func() tea.Msg { return ToastMsg{Text: text} } }

// ErrorCmd wraps err in a command returning ErrorMsg.
func ErrorCmd(err error) tea.Cmd { return func() tea.Msg { return ErrorMsg{Err: err} } }
