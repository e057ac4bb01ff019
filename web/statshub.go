package web

import (
	"context"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// statsHub samples every container's CPU and memory every statsEvery
// while at least one Containers page is open, and hands each sample to
// every open page. One round of containerd calls serves all pages, and it
// runs beside the pages' streams, never inside them: with 500 containers a
// sample takes long enough to hold up a state change queued behind it.
type statsHub struct {
	parent context.Context
	sample func(context.Context) (map[string]models.Stats, error)
	every  time.Duration

	mu     sync.Mutex
	subs   map[chan map[string]models.Stats]struct{}
	cancel context.CancelFunc // stops the sampling goroutine; nil when none runs
}

func newStatsHub(parent context.Context, sample func(context.Context) (map[string]models.Stats, error), every time.Duration) *statsHub {
	return &statsHub{parent: parent, sample: sample, every: every, subs: map[chan map[string]models.Stats]struct{}{}}
}

// subscribe returns a channel that holds the newest sample (an older one
// not yet read is replaced) and a function that ends the subscription.
// Sampling starts with the first subscriber and stops with the last.
func (h *statsHub) subscribe() (<-chan map[string]models.Stats, func()) {
	ch := make(chan map[string]models.Stats, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	if h.cancel == nil {
		ctx, cancel := context.WithCancel(h.parent)
		h.cancel = cancel
		go h.run(ctx)
	}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, ch)
		if len(h.subs) == 0 && h.cancel != nil {
			h.cancel()
			h.cancel = nil
		}
	}
}

func (h *statsHub) run(ctx context.Context) {
	tick := time.NewTicker(h.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cur, err := h.sample(ctx)
		if err != nil {
			continue // a container going away mid-sample; the next tick tries again
		}
		h.publish(cur)
	}
}

// publish gives cur to every subscriber, replacing a sample it has not
// read yet. Samples are shared: subscribers only read them.
func (h *statsHub) publish(cur map[string]models.Stats) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case <-ch:
		default:
		}
		ch <- cur
	}
}
