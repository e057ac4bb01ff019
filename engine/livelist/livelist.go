// Package livelist keeps a node's containers in memory, current with
// containerd's and the keeper's events, so that a listing is one map copy
// instead of a containerd task listing (on containerd 1.6 that asks every
// shim in turn). The keeper owns one per node and serves it on its API
// (GET /v1/containers); the web dashboard draws its Containers page from
// the same list. containerd stays the source of truth: the list is a
// derived copy, like dockerd's, and starts following only once something
// asks for it, so that it costs nothing at rest until then.
package livelist

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// ChangeLogSize is how many recent changes a List remembers, so that a
// reader that drew version v gets only what changed since (Since).
const ChangeLogSize = 4096

// Source is where a List reads containers and their events.
type Source struct {
	// List lists the node's containers; required.
	List func(ctx context.Context, opts runtime.ListOptions) ([]models.Container, error)
	// Get reads one container by ID; required.
	Get func(ctx context.Context, ref string) (models.Container, error)
	// Events streams container events until ctx ends; required.
	Events func(ctx context.Context) (<-chan models.Event, <-chan error)
}

// List is the node's containers, kept current by events. Its zero value is
// not usable; use New.
type List struct {
	ctx context.Context
	src Source
	log *slog.Logger

	once    sync.Once
	started atomic.Bool
	ready   chan struct{} // closed once the first listing is in

	mu      sync.Mutex
	byID    map[string]models.Container
	err     error // the last listing's, while no listing succeeded
	version uint64
	changes []change // the last ChangeLogSize changes, oldest first
	wake    chan struct{}
}

// change says that container id changed at version.
type change struct {
	version uint64
	id      string
}

// New returns a list of src's containers that starts following events at
// its first Snapshot and stops when ctx ends. A nil log discards.
func New(ctx context.Context, src Source, log *slog.Logger) *List {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &List{ctx: ctx, src: src, log: log, ready: make(chan struct{}), byID: map[string]models.Container{}, wake: make(chan struct{})}
}

// Following reports whether the list has started following events (some
// reader asked for it).
func (l *List) Following() bool {
	return l.started.Load()
}

// start runs the follower once, for the list's lifetime.
func (l *List) start() {
	l.once.Do(func() {
		l.started.Store(true)
		go l.follow(l.ctx)
	})
}

// follow subscribes to events, lists every container, then applies each
// event by reading its one container again; when the event stream breaks
// it starts over.
func (l *List) follow(ctx context.Context) {
	for ctx.Err() == nil {
		sctx, cancel := context.WithCancel(ctx)
		events, errs := l.src.Events(sctx)
		l.relist(sctx)
		for ev := range events {
			l.refresh(sctx, ev.ContainerID)
		}
		cancel()
		select {
		case err := <-errs:
			if err != nil && ctx.Err() == nil {
				l.log.Warn("live container list: events broke; listing again", "err", err)
			}
		default:
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// relist replaces the list with a full listing.
func (l *List) relist(ctx context.Context) {
	cs, err := l.src.List(ctx, runtime.ListOptions{All: true})
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.markReady()
	if err != nil {
		l.err = err
		return
	}
	l.err = nil
	seen := map[string]bool{}
	for _, ct := range cs {
		seen[ct.ID] = true
		l.byID[ct.ID] = ct
		l.record(ct.ID)
	}
	for id := range l.byID {
		if !seen[id] {
			delete(l.byID, id)
			l.record(id)
		}
	}
	l.notify()
}

func (l *List) markReady() {
	select {
	case <-l.ready:
	default:
		close(l.ready)
	}
}

// refresh reads container id again after one of its events.
func (l *List) refresh(ctx context.Context, id string) {
	if id == "" {
		return
	}
	ct, err := l.src.Get(ctx, id)
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return // the next event, or the next listing, tries again
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if _, ok := l.byID[id]; !ok {
			return
		}
		delete(l.byID, id)
	} else {
		l.byID[id] = ct
	}
	l.record(id)
	l.notify()
}

// record notes a change (the caller holds mu).
func (l *List) record(id string) {
	l.version++
	l.changes = append(l.changes, change{l.version, id})
	if len(l.changes) > ChangeLogSize {
		l.changes = append(l.changes[:0], l.changes[len(l.changes)-ChangeLogSize:]...)
	}
}

// notify wakes the readers waiting for a change (the caller holds mu).
func (l *List) notify() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// Snapshot starts the follower if need be, waits for the first listing and
// returns every container, sorted by name, with the list's version and a
// channel closed at the next change. The error is the last listing's while
// no listing succeeded.
func (l *List) Snapshot(ctx context.Context) ([]models.Container, uint64, <-chan struct{}, error) {
	l.start()
	select {
	case <-l.ready:
	case <-ctx.Done():
		return nil, 0, nil, ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil && len(l.byID) == 0 {
		return nil, l.version, l.wake, l.err
	}
	out := make([]models.Container, 0, len(l.byID))
	for _, ct := range l.byID {
		out = append(out, ct)
	}
	sort.Slice(out, func(i, k int) bool { return strings.Compare(out[i].Name, out[k].Name) < 0 })
	return out, l.version, l.wake, nil
}

// Since returns the containers changed after version v (each once, with
// gone naming the ones removed), the current version and a channel closed
// at the next change. ok is false when v is older than the change log or
// newer than the list: the caller takes a Snapshot instead.
func (l *List) Since(v uint64) (changed []models.Container, gone []string, now uint64, wake <-chan struct{}, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now, wake = l.version, l.wake
	if v > now || (len(l.changes) > 0 && l.changes[0].version > v+1) {
		return nil, nil, now, wake, false
	}
	seen := map[string]bool{}
	for _, ch := range l.changes {
		if ch.version <= v || seen[ch.id] {
			continue
		}
		seen[ch.id] = true
		if ct, found := l.byID[ch.id]; found {
			changed = append(changed, ct)
		} else {
			gone = append(gone, ch.id)
		}
	}
	return changed, gone, now, wake, true
}

// Put sets one container in the list as if an event had changed it: a
// caller that has just acted on a container (or a test) need not wait for
// containerd's event.
func (l *List) Put(c models.Container) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byID[c.ID] = c
	l.record(c.ID)
	l.notify()
}

// Delete removes container id from the list as if an event had said it
// went; an ID not in the list changes nothing.
func (l *List) Delete(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byID[id]; !ok {
		return
	}
	delete(l.byID, id)
	l.record(id)
	l.notify()
}
