package livelist

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// TestSince: a reader at version v gets each container changed after v
// once (gone ones by ID), and is told to resync when v is older than the
// change log or from the future.
func TestSince(t *testing.T) {
	l := New(context.Background(), Source{}, nil)
	set := func(id string) { l.byID[id] = models.Container{ID: id, Name: id}; l.record(id) }
	set("a")
	set("b")
	v := l.version
	set("a")
	set("c")
	delete(l.byID, "b")
	l.record("b")
	changed, gone, now, _, ok := l.Since(v)
	if !ok || now != 5 {
		t.Fatalf("Since(%d): ok %v, now %d; want ok at version 5", v, ok, now)
	}
	if len(changed) != 2 || changed[0].ID != "a" || changed[1].ID != "c" || len(gone) != 1 || gone[0] != "b" {
		t.Fatalf("Since(%d) = %v, gone %v; want a, c changed once each and b gone", v, changed, gone)
	}
	if _, _, _, _, ok := l.Since(99); ok {
		t.Error("Since a future version: ok, want a resync")
	}
	for range ChangeLogSize {
		set("d")
	}
	if _, _, _, _, ok := l.Since(v); ok {
		t.Error("Since a version older than the log: ok, want a resync")
	}
	if changed, _, _, _, ok := l.Since(l.version - 1); !ok || len(changed) != 1 || changed[0].ID != "d" {
		t.Errorf("Since the last but one version: %v %v", changed, ok)
	}
}

// fakeSource is a node whose containers a test changes, sending an event
// for each change as containerd would.
type fakeSource struct {
	mu     sync.Mutex
	cs     map[string]models.Container
	lists  int
	events chan models.Event
}

func (f *fakeSource) source() Source {
	return Source{
		List: func(ctx context.Context, opts runtime.ListOptions) ([]models.Container, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.lists++
			var out []models.Container
			for _, c := range f.cs {
				out = append(out, c)
			}
			return out, nil
		},
		Get: func(ctx context.Context, ref string) (models.Container, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			c, ok := f.cs[ref]
			if !ok {
				return c, errdefs.ErrNotFound
			}
			return c, nil
		},
		Events: func(ctx context.Context) (<-chan models.Event, <-chan error) {
			out := make(chan models.Event)
			errc := make(chan error, 1)
			go func() {
				defer close(out)
				for {
					select {
					case ev := <-f.events:
						select {
						case out <- ev:
						case <-ctx.Done():
							return
						}
					case <-ctx.Done():
						return
					}
				}
			}()
			return out, errc
		},
	}
}

func (f *fakeSource) set(c models.Container, gone bool) {
	f.mu.Lock()
	if gone {
		delete(f.cs, c.ID)
	} else {
		f.cs[c.ID] = c
	}
	f.mu.Unlock()
	f.events <- models.Event{Type: models.EventUpdate, ContainerID: c.ID}
}

// TestFollow: the list lists nothing until its first Snapshot, then applies
// each event to its one container (a new one appears, a changed one
// changes, a removed one goes) without listing again.
func TestFollow(t *testing.T) {
	f := &fakeSource{cs: map[string]models.Container{
		"b1": {ID: "b1", Name: "beta", State: models.StateRunning},
		"a1": {ID: "a1", Name: "alpha", State: models.StateRunning},
	}, events: make(chan models.Event)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := New(ctx, f.source(), nil)
	time.Sleep(20 * time.Millisecond)
	if l.Following() || f.lists != 0 {
		t.Fatalf("before any reader: following %v, %d listings; want none", l.Following(), f.lists)
	}
	cs, v, wake, err := l.Snapshot(ctx)
	if err != nil || len(cs) != 2 || cs[0].Name != "alpha" || cs[1].Name != "beta" {
		t.Fatalf("Snapshot = %v, %v; want alpha, beta by name", cs, err)
	}
	f.set(models.Container{ID: "c1", Name: "gamma", State: models.StateCreated}, false)
	f.set(models.Container{ID: "a1", Name: "alpha", State: models.StateExited}, false)
	f.set(models.Container{ID: "b1"}, true)
	want := map[string]models.ContainerState{"a1": models.StateExited, "c1": models.StateCreated}
	deadline := time.After(5 * time.Second)
	for {
		changed, gone, now, w, ok := l.Since(v)
		if !ok {
			t.Fatalf("Since(%d): resync, want changes", v)
		}
		got := map[string]models.ContainerState{}
		for _, c := range changed {
			got[c.ID] = c.State
		}
		if len(got) == 2 && got["a1"] == want["a1"] && got["c1"] == want["c1"] && len(gone) == 1 && gone[0] == "b1" {
			if now <= v {
				t.Fatalf("version %d after changes, want above %d", now, v)
			}
			break
		}
		select {
		case <-wake:
			wake = w
		case <-deadline:
			t.Fatalf("after 5s: changed %v gone %v; want a1 stopped, c1 created, b1 gone", changed, gone)
		}
	}
	if f.lists != 1 {
		t.Errorf("%d listings, want 1 (events apply to one container each)", f.lists)
	}
}

// TestSnapshotError: a failing first listing is the Snapshot's error, and
// a reader whose context ends stops waiting.
func TestSnapshotError(t *testing.T) {
	boom := errors.New("containerd down")
	src := Source{
		List: func(context.Context, runtime.ListOptions) ([]models.Container, error) { return nil, boom },
		Get:  func(context.Context, string) (models.Container, error) { return models.Container{}, boom },
		Events: func(ctx context.Context) (<-chan models.Event, <-chan error) {
			out := make(chan models.Event)
			go func() { <-ctx.Done(); close(out) }()
			return out, make(chan error)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, _, _, err := New(ctx, src, nil).Snapshot(ctx); !errors.Is(err, boom) {
		t.Errorf("Snapshot error = %v, want %v", err, boom)
	}
	never := Source{List: func(ctx context.Context, _ runtime.ListOptions) ([]models.Container, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, Get: src.Get, Events: src.Events}
	rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer rcancel()
	if _, _, _, err := New(ctx, never, nil).Snapshot(rctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Snapshot with a slow listing = %v, want the reader's deadline", err)
	}
}
