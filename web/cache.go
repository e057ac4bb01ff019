package web

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// changeLogSize is how many recent changes the cache remembers, so that a
// stream opened after its page was drawn sends only what changed since.
const changeLogSize = 4096

// containerCache is the node's containers as the dashboard shows them,
// kept up to date by containerd's and the keeper's events: a page and its
// stream are drawn from it without listing every container and task (on
// containerd 1.6 a task listing asks every shim). It starts with the first
// page that needs it; until then the dashboard costs the keeper nothing.
type containerCache struct {
	s *Server

	once  sync.Once
	ready chan struct{} // closed once the first listing is in

	mu      sync.Mutex
	byID    map[string]models.Container
	err     error // the last listing's, while no listing succeeded
	version uint64
	changes []change // the last changeLogSize changes, oldest first
	wake    chan struct{}
}

// change says that container id changed at version.
type change struct {
	version uint64
	id      string
}

func newContainerCache(s *Server) *containerCache {
	return &containerCache{s: s, ready: make(chan struct{}), byID: map[string]models.Container{}, wake: make(chan struct{})}
}

// start runs the cache's follower once, for the server's lifetime.
func (c *containerCache) start() {
	c.once.Do(func() { go c.follow(c.s.ctx) })
}

// follow subscribes to events, lists every container, then applies each
// event by reading its one container again; when the event stream breaks
// it starts over.
func (c *containerCache) follow(ctx context.Context) {
	for ctx.Err() == nil {
		sctx, cancel := context.WithCancel(ctx)
		events, errs := c.s.eng.Events(sctx)
		c.relist(sctx)
		for ev := range events {
			c.refresh(sctx, ev.ContainerID)
		}
		cancel()
		select {
		case err := <-errs:
			if err != nil && ctx.Err() == nil {
				c.s.log.Warn("dashboard: container events broke; listing again", "err", err)
			}
		default:
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// relist replaces the cache with a full listing.
func (c *containerCache) relist(ctx context.Context) {
	cs, err := c.s.eng.Containers(ctx, runtime.ListOptions{All: true})
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.markReady()
	if err != nil {
		c.err = err
		return
	}
	c.err = nil
	seen := map[string]bool{}
	for _, ct := range cs {
		seen[ct.ID] = true
		c.byID[ct.ID] = ct
		c.record(ct.ID)
	}
	for id := range c.byID {
		if !seen[id] {
			delete(c.byID, id)
			c.record(id)
		}
	}
	c.notify()
}

func (c *containerCache) markReady() {
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
}

// refresh reads container id again after one of its events.
func (c *containerCache) refresh(ctx context.Context, id string) {
	if id == "" {
		return
	}
	ct, err := c.s.eng.Container(ctx, id)
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return // the next event, or the next listing, tries again
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if _, ok := c.byID[id]; !ok {
			return
		}
		delete(c.byID, id)
	} else {
		c.byID[id] = ct
	}
	c.record(id)
	c.notify()
}

// record notes a change (the caller holds mu).
func (c *containerCache) record(id string) {
	c.version++
	c.changes = append(c.changes, change{c.version, id})
	if len(c.changes) > changeLogSize {
		c.changes = append(c.changes[:0], c.changes[len(c.changes)-changeLogSize:]...)
	}
}

// notify wakes the streams (the caller holds mu).
func (c *containerCache) notify() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// snapshot waits for the first listing and returns every container, by
// name, with the cache's version and a channel closed at the next change.
func (c *containerCache) snapshot(ctx context.Context) ([]models.Container, uint64, <-chan struct{}, error) {
	c.start()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, 0, nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil && len(c.byID) == 0 {
		return nil, c.version, c.wake, c.err
	}
	out := make([]models.Container, 0, len(c.byID))
	for _, ct := range c.byID {
		out = append(out, ct)
	}
	sort.Slice(out, func(i, k int) bool { return strings.Compare(out[i].Name, out[k].Name) < 0 })
	return out, c.version, c.wake, nil
}

// since returns the containers changed after version v (each once, with
// found false for one that is gone), the current version and a channel
// closed at the next change. ok is false when v is older than the change
// log: the caller sends everything.
func (c *containerCache) since(v uint64) (changed []models.Container, gone []string, now uint64, wake <-chan struct{}, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, wake = c.version, c.wake
	if v > now || (len(c.changes) > 0 && c.changes[0].version > v+1) {
		return nil, nil, now, wake, false
	}
	seen := map[string]bool{}
	for _, ch := range c.changes {
		if ch.version <= v || seen[ch.id] {
			continue
		}
		seen[ch.id] = true
		if ct, found := c.byID[ch.id]; found {
			changed = append(changed, ct)
		} else {
			gone = append(gone, ch.id)
		}
	}
	return changed, gone, now, wake, true
}
