// Package common is what every nest view shares: the Component interface,
// the Common struct handed to constructors (context, styles, key overrides,
// backend), the Backend through which views reach the engine, and the
// messages views send to the root model.
package common

import (
	"context"
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

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
}

// LogOptions choose which log lines to read.
type LogOptions struct {
	// Tail is the number of last lines (negative: all).
	Tail int
	// Since drops lines before it (zero: none).
	Since time.Time
	// Timestamps prefixes each line with its time.
	Timestamps bool
	// Follow keeps reading until the container stops or ctx ends.
	Follow bool
}

// PullProgress is one progress report of a pull, per layer.
type PullProgress struct {
	// Layer is the layer's short digest.
	Layer string
	// Status is waiting, downloading, done or exists.
	Status string
	// Offset and Total are bytes.
	Offset, Total int64
}

// Backend is the engine as nest sees it. The app implements it over the
// real engine; golden-file tests implement it with fixed data so that
// renders are deterministic (containerd's IDs and clocks are not).
type Backend interface {
	// Containers lists all containers (running or not).
	Containers(ctx context.Context) ([]models.Container, error)
	// Container returns one container by ID, name or unique prefix.
	Container(ctx context.Context, ref string) (models.Container, error)
	// Start, Stop, Restart and Remove act on one container.
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string) error
	Restart(ctx context.Context, id string) error
	Remove(ctx context.Context, id string, force bool) error
	// Inspect returns docker-inspect-shaped details.
	Inspect(ctx context.Context, id string) (models.Inspect, error)
	// Events streams container events until ctx ends.
	Events(ctx context.Context) (<-chan models.Event, <-chan error)
	// Stats samples every running container.
	Stats(ctx context.Context) (map[string]models.Stats, error)
	// Logs writes a container's log lines to stdout and stderr.
	Logs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error
	// ExecCommand returns the argv that opens an interactive shell in a container
	// (run through tea.ExecProcess).
	ExecCommand(id string) []string
	// Images lists images; PullImage pulls one, reporting progress;
	// LoadImages loads an archive; RemoveImage removes one.
	Images(ctx context.Context) ([]models.Image, error)
	PullImage(ctx context.Context, ref string, progress func(PullProgress)) error
	LoadImages(ctx context.Context, path string) ([]models.Image, error)
	RemoveImage(ctx context.Context, ref string, force bool) error
	// ValidateBundle parses bundle YAML (name is used in messages) and
	// returns the problems found, one per line, or nil.
	ValidateBundle(name string, data []byte) []string
	// RunBundle runs every container of a bundle file and returns them.
	RunBundle(ctx context.Context, path string) ([]models.Container, error)
	// Command runs a headless budgie command line (the : palette) and returns its output.
	Command(ctx context.Context, args []string) (string, error)
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
