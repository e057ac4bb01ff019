package common

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
)

// Bind returns the key binding of action: the keys from budgie.yaml
// `keys:` when the user remapped it, else defaults. help is the short
// description shown in the help bar and the ? overlay; the first key is
// shown as the binding's key.
func (c Common) Bind(action, help string, defaults ...string) key.Binding {
	keys := defaults
	if remapped, ok := c.Keys[action]; ok && len(remapped) > 0 {
		keys = remapped
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keyLabel(keys), help))
}

// keyLabel is how a binding's keys are shown: the first key, spelled for
// humans ("space" rather than " ").
func keyLabel(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	if keys[0] == " " {
		return "space"
	}
	return keys[0]
}

// Now returns the current time from Clock, or time.Now when Clock is nil.
func (c Common) Now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// InputCapturer is implemented by components that are reading text (a
// filter or search box): while CapturingInput is true the root model
// passes every key to them instead of acting on global keys.
type InputCapturer interface {
	CapturingInput() bool
}

// Focusable is implemented by components that work only while shown (a
// stats sampler): the root model calls Focus when the component becomes
// visible and Blur when it is hidden.
type Focusable interface {
	Focus() tea.Cmd
	Blur()
}

// InfoBackend is a Backend that can also describe the node. The root
// model uses it when the Backend implements it.
type InfoBackend interface {
	Info(ctx context.Context, opts engine.InfoOptions) (engine.SystemInfo, error)
}

// Counter is implemented by the containers view: how many containers run
// and how many there are, for the status bar.
type Counter interface {
	Counts() (running, total int)
}

// Provisional is implemented by the containers view: true while its table
// is the keeper's copy and containerd's own listing has not landed yet;
// the status bar says so.
type Provisional interface {
	Provisional() bool
}

// Closer is implemented by components that hold resources (a log
// stream): the root model calls Close when it discards the component.
type Closer interface {
	Close()
}

// Selector is a view that can put its cursor on a container (SwitchViewMsg
// with a ContainerID).
type Selector interface {
	Select(containerID string)
}

// CursorAfterReload returns where a list cursor belongs after the list was
// read again: on the item named selected if it is still there, else at the
// old position, kept inside the list.
func CursorAfterReload[T any](items []T, cursor int, selected string, name func(T) string) int {
	if selected != "" {
		for i, it := range items {
			if name(it) == selected {
				return i
			}
		}
	}
	return min(cursor, max(len(items)-1, 0))
}
