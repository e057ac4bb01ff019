package app

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// starterBackend is the fixed-data backend with a keeper that does not
// run until StartKeeper is called.
type starterBackend struct {
	*commontest.Backend
	running bool
	starts  int
	asked   []engine.LiveContainersOptions // LiveContainers calls
}

func (b *starterBackend) LiveContainers(ctx context.Context, opts engine.LiveContainersOptions) ([]models.Container, error) {
	b.asked = append(b.asked, opts)
	return b.Backend.LiveContainers(ctx, opts)
}

func (b *starterBackend) KeeperRunning(context.Context) bool { return b.running }
func (b *starterBackend) StartKeeper(context.Context) error {
	b.starts++
	b.running = true
	return nil
}

// TestLaunchStartsTheKeeper: nest started where no keeper runs starts
// one, saying so in the status bar while it does, and asks it once for its
// live list so that the list follows events for the next nest; where one
// runs it starts nothing.
func TestLaunchStartsTheKeeper(t *testing.T) {
	for _, running := range []bool{false, true} {
		b := &starterBackend{Backend: commontest.New(commontest.Sample()...), running: running}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m := New(commontest.Common(ctx, b), Options{})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
		cmd := m.onKeeper(m.keeperCmd()())
		if running {
			if cmd != nil || b.starts != 0 || m.note != "" {
				t.Fatalf("a running keeper was started again (starts %d, note %q)", b.starts, m.note)
			}
			continue
		}
		if !strings.Contains(m.View(), "starting the node keeper") {
			t.Fatalf("no status-bar note while the keeper starts:\n%s", m.View())
		}
		warm := m.onKeeper(cmd())
		runBatch(warm)
		if len(b.asked) != 1 || b.asked[0].Limit != 1 {
			t.Errorf("after starting the keeper nest asked its live list %v, want once for one container (to warm it)", b.asked)
		}
		if b.starts != 1 || m.note != "" || strings.Contains(m.View(), "starting the node keeper") {
			t.Fatalf("starts %d, note %q after the start", b.starts, m.note)
		}
		if !strings.Contains(m.View(), "started the node keeper") {
			t.Fatalf("no toast after the start:\n%s", m.View())
		}
	}
}

// runBatch runs cmd and, when it is a batch, each of its commands, for
// their side effects; one that blocks (a toast's timer) is left after
// runQuick's wait.
func runBatch(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if batch, ok := runQuick(cmd).(tea.BatchMsg); ok {
		for _, c := range batch {
			runBatch(c)
		}
	}
}
