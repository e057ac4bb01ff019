// Package commontest provides a fixed-data common.Backend for nest's view
// tests. Golden files need the same render on every run, and containerd's
// IDs and clocks differ each time, so tests use this instead of the engine.
package commontest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	engsecrets "github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/theme"
	"github.com/budgie-sh/budgie/views/common"
)

// Now is the fixed time of every test.
var Now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// Backend is a common.Backend over fixed, in-memory data. Actions change
// the data and publish the matching event, as containerd would. It is safe
// for concurrent use.
type Backend struct {
	mu         sync.Mutex
	containers []models.Container
	events     chan models.Event
	samples    int
	statsAsked [][]string
	// Logs are each container's log lines, by ID.
	LogLines map[string][]string
	// LogGen, when set, writes a container's log instead of LogLines.
	LogGen func(id string, stdout, stderr io.Writer)
	// Calls records every action as "verb id-or-args".
	Calls []string
	// secrets are the secrets (see SetSecrets); created values are kept by name.
	secrets      []engsecrets.Secret
	secretValues map[string][]byte
	// peers are the nodes on the LAN (see SetPeers); peersErr fails Peers.
	peers    []models.PeerNode
	peersErr error
	// live is the keeper's list (see SetLive); hold delays Containers.
	live    []models.Container
	liveSet bool
	hold    <-chan struct{}
}

// New returns a Backend holding containers.
func New(containers ...models.Container) *Backend {
	return &Backend{containers: containers, events: make(chan models.Event, 64), LogLines: map[string][]string{}}
}

// Common returns a common.Common over b with the ASCII theme and the fixed clock.
func Common(ctx context.Context, b common.Backend) common.Common {
	return common.Common{Ctx: ctx, Styles: theme.New("dark"), Backend: b, Node: "node-1",
		Clock: func() time.Time { return Now }, Copy: func(string) error { return nil }}
}

// ID returns a fixed 64-character ID made from n.
func ID(n int) string { return fmt.Sprintf("%02x%s", n, strings.Repeat("ab", 31)) }

// Sample returns four containers in the usual states.
func Sample() []models.Container {
	mk := func(n int, name, image string, st models.ContainerState, up time.Duration) models.Container {
		c := models.Container{ID: ID(n), Name: name, Image: image, State: st, Node: "node-1",
			Created: Now.Add(-48 * time.Hour), BundlePath: "/srv/" + name + ".bun"}
		if st == models.StateRunning {
			c.StartedAt = Now.Add(-up)
		}
		return c
	}
	web := mk(1, "web", "docker.io/library/nginx:1.27", models.StateRunning, 3*time.Hour)
	web.Ports = []models.PortMapping{{HostPort: 8080, ContainerPort: 80}}
	web.Health = models.HealthHealthy
	db := mk(2, "db", "docker.io/library/postgres:16", models.StateRunning, 26*time.Hour)
	db.Health = models.HealthUnhealthy
	cache := mk(3, "cache", "docker.io/library/redis:7", models.StateExited, 0)
	cache.ExitCode, cache.RestartCount = 137, 2
	worker := mk(4, "worker", "registry:5000/app/worker:2.1", models.StateCreated, 0)
	return []models.Container{web, db, cache, worker}
}

// Many returns n running containers named app-000, app-001, ….
func Many(n int) []models.Container {
	out := make([]models.Container, n)
	for i := range out {
		out[i] = models.Container{ID: ID(i), Name: fmt.Sprintf("app-%03d", i), Image: "docker.io/library/busybox:1.36",
			State: models.StateRunning, Node: "node-1", StartedAt: Now.Add(-time.Duration(i) * time.Minute)}
	}
	return out
}

// Emit publishes an event on the stream Events returns.
func (b *Backend) Emit(ev models.Event) { b.events <- ev }

func (b *Backend) record(verb, arg string) {
	b.mu.Lock()
	b.Calls = append(b.Calls, verb+" "+arg)
	b.mu.Unlock()
}

// CallLog returns the recorded calls.
func (b *Backend) CallLog() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.Calls...)
}

// Containers lists the containers.
func (b *Backend) Containers(ctx context.Context, _ runtime.ListOptions) ([]models.Container, error) {
	b.mu.Lock()
	hold := b.hold
	b.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]models.Container(nil), b.containers...), nil
}

// Container returns one container by ID or name.
func (b *Backend) Container(_ context.Context, ref string) (models.Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.containers {
		if c.ID == ref || c.Name == ref {
			return c, nil
		}
	}
	return models.Container{}, fmt.Errorf("container %q: %w", ref, errdefs.ErrNotFound)
}

// setState changes a container's state and publishes ev.
func (b *Backend) setState(id string, st models.ContainerState, ev models.EventType) error {
	b.mu.Lock()
	found := false
	for i := range b.containers {
		if b.containers[i].ID == id {
			b.containers[i].State, found = st, true
			if st == models.StateRunning {
				b.containers[i].StartedAt = Now.Add(-time.Second)
			}
		}
	}
	b.mu.Unlock()
	if !found {
		return fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)
	}
	select {
	case b.events <- models.Event{Type: ev, ContainerID: id, Time: Now}:
	default:
	}
	return nil
}

// Start marks the container running.
func (b *Backend) Start(_ context.Context, id string) (models.Container, error) {
	b.record("start", id)
	return models.Container{}, b.setState(id, models.StateRunning, models.EventStart)
}

// Stop marks the container exited.
func (b *Backend) Stop(_ context.Context, id string, _ runtime.StopOptions) (models.Container, error) {
	b.record("stop", id)
	return models.Container{}, b.setState(id, models.StateExited, models.EventExit)
}

// Restart marks the container running.
func (b *Backend) Restart(_ context.Context, id string, _ runtime.StopOptions) (models.Container, error) {
	b.record("restart", id)
	return models.Container{}, b.setState(id, models.StateRunning, models.EventStart)
}

// Remove deletes the container.
func (b *Backend) Remove(_ context.Context, id string, _ runtime.RemoveOptions) (models.Container, error) {
	b.record("remove", id)
	b.mu.Lock()
	for i := range b.containers {
		if b.containers[i].ID == id {
			b.containers = append(b.containers[:i], b.containers[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	b.events <- models.Event{Type: models.EventRemove, ContainerID: id, Time: Now}
	return models.Container{}, nil
}

// Key turns a key name as written in key maps ("enter", "ctrl+r", "x",
// "space") into the message Bubble Tea would deliver.
func Key(name string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"backspace": tea.KeyBackspace, "delete": tea.KeyDelete, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "home": tea.KeyHome, "end": tea.KeyEnd,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
	}
	if t, ok := named[name]; ok {
		return tea.KeyMsg{Type: t}
	}
	if name == "space" {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	if rest, ok := strings.CutPrefix(name, "ctrl+"); ok && len(rest) == 1 && rest[0] >= 'a' && rest[0] <= 'z' {
		return tea.KeyMsg{Type: tea.KeyCtrlA + tea.KeyType(rest[0]-'a')}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}
