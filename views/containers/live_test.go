package containers

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// TestFirstTableFromKeeperList: while containerd's listing is slow, the
// keeper's live list draws the first table (marked provisional, no stats
// sampled yet); containerd's listing then replaces it whole — a container
// only the copy had goes, a state only containerd knows shows — starts the
// sampler, and a late copy changes nothing.
func TestFirstTableFromKeeperList(t *testing.T) {
	truth := commontest.Sample() // web, db, cache, worker
	b := commontest.New(truth...)
	stale := []models.Container{truth[0], truth[1], {ID: commontest.ID(9), Name: "ghost", State: models.StateRunning}}
	stale[1].State = models.StateExited // db, per the copy
	hold := make(chan struct{})
	b.SetLive(stale, hold)
	m := New(commontest.Common(context.Background(), b))
	m.SetSize(120, 26)
	if cmd := m.Focus(); cmd != nil {
		t.Fatal("Focus sampled stats before any listing")
	}

	_, list := m.Update(m.liveListCmd()())
	if list == nil {
		t.Fatal("the keeper's list did not start containerd's listing")
	}
	listed := make(chan any, 1)
	go func() { listed <- list() }() // containerd's listing waits on hold
	if got := names(m); !slices.Equal(got, []string{"db", "ghost", "web"}) {
		t.Fatalf("first table = %v, want the keeper's copy db, ghost, web", got)
	}
	if !m.Provisional() || !strings.Contains(m.View(), "ghost") {
		t.Errorf("provisional %v; view:\n%s\nwant the copy drawn and marked provisional", m.Provisional(), m.View())
	}
	if running, total := m.Counts(); running != 2 || total != 3 {
		t.Errorf("counts from the copy = %d/%d, want 2/3", running, total)
	}

	close(hold)
	_, cmd := m.Update(<-listed)
	if got := names(m); !slices.Equal(got, []string{"cache", "db", "web", "worker"}) {
		t.Fatalf("table after containerd's listing = %v, want cache, db, web, worker", got)
	}
	if m.Provisional() || strings.Contains(m.View(), "ghost") {
		t.Errorf("provisional %v after containerd's listing; view:\n%s", m.Provisional(), m.View())
	}
	for _, i := range m.visible {
		if r := m.rows[i]; r.c.Name == "db" && r.c.State != models.StateRunning {
			t.Errorf("db is %s, want running as containerd says", r.c.State)
		}
	}
	if cmd == nil {
		t.Error("containerd's listing did not start the stats sampler")
	} else if _, ok := cmd().(statsMsg); !ok {
		t.Error("containerd's listing returned a command that is not a stats sample")
	}

	if _, again := m.Update(liveListMsg{containers: stale}); again != nil {
		t.Error("a second copy started another containerd listing")
	}
	if got := names(m); !slices.Equal(got, []string{"cache", "db", "web", "worker"}) {
		t.Errorf("a late copy changed the table to %v", got)
	}
}

// TestNoKeeperList: with no keeper (or one slower than liveListWait) no
// table is drawn from it, no error is shown, and containerd's listing
// draws the table, as before.
func TestNoKeeperList(t *testing.T) {
	b := commontest.New(commontest.Sample()...)
	m := New(commontest.Common(context.Background(), b))
	m.SetSize(120, 26)
	msg := m.liveListCmd()()
	if lm, ok := msg.(liveListMsg); !ok || lm.err == nil {
		t.Fatalf("no keeper: message %#v, want a liveListMsg with an error", msg)
	}
	_, list := m.Update(msg)
	if m.Provisional() || !strings.Contains(m.emptyText(), "loading") || list == nil {
		t.Fatalf("no keeper: provisional %v, empty text %q, listing %v; want loading and containerd asked", m.Provisional(), m.emptyText(), list != nil)
	}
	m.Update(list())
	if got := names(m); !slices.Equal(got, []string{"cache", "db", "web", "worker"}) {
		t.Errorf("table from containerd = %v", got)
	}

	slow := commontest.New(commontest.Sample()...)
	hold := make(chan struct{})
	defer close(hold)
	slow.SetLive(nil, nil)
	slowKeeper := &blockingLive{Backend: slow, hold: hold}
	m = New(commontest.Common(context.Background(), slowKeeper))
	start := time.Now()
	if lm, ok := m.liveListCmd()().(liveListMsg); !ok || lm.err == nil || time.Since(start) > 5*liveListWait {
		t.Errorf("a keeper that does not answer: %#v after %s, want an error after about %s", lm, time.Since(start), liveListWait)
	}
}

// blockingLive is a keeper whose live list answers only when hold closes
// or the caller gives up.
type blockingLive struct {
	*commontest.Backend
	hold <-chan struct{}
}

func (b *blockingLive) LiveContainers(ctx context.Context, opts engine.LiveContainersOptions) ([]models.Container, error) {
	select {
	case <-b.hold:
		return b.Backend.LiveContainers(ctx, opts)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
