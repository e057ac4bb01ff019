package web

import (
	"context"
	"sync"

	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/models"
)

// containerCache is the node's containers as the dashboard shows them: the
// keeper's live list (engine/livelist) when the keeper runs the dashboard,
// else one of the dashboard's own. A page and its stream are drawn from it
// without listing every container and task; the list starts following
// events with the first page that needs it, so until then the dashboard
// costs the keeper nothing.
type containerCache struct {
	s *Server

	mu   sync.Mutex
	list *livelist.List // nil until given (use) or first needed
}

func newContainerCache(s *Server) *containerCache { return &containerCache{s: s} }

// use makes the cache the given list (the keeper's); nil keeps its own.
func (c *containerCache) use(l *livelist.List) {
	if l == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = l
}

// get returns the list, making the dashboard's own from its engine when
// none was given; it follows events for the server's lifetime.
func (c *containerCache) get() *livelist.List {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list == nil {
		eng := c.s.eng
		c.list = livelist.New(c.s.ctx, livelist.Source{List: eng.Containers, Get: eng.Container, Events: eng.Events}, c.s.log)
	}
	return c.list
}

// snapshot waits for the first listing and returns every container, by
// name, with the list's version and a channel closed at the next change.
func (c *containerCache) snapshot(ctx context.Context) ([]models.Container, uint64, <-chan struct{}, error) {
	return c.get().Snapshot(ctx)
}

// since returns the containers changed after version v (see
// livelist.List.Since); ok is false when the caller must send everything.
func (c *containerCache) since(v uint64) (changed []models.Container, gone []string, now uint64, wake <-chan struct{}, ok bool) {
	return c.get().Since(v)
}
