package monitor

import (
	"context"
	"sync"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// fakeBackend is a fixed-data common.Backend: golden files need the same
// render on every run, and containerd's IDs and clocks differ each time.
// Stats returns samples[0], samples[1], … one per call, then blocks until
// ctx ends, so that a test's final state is known.
type fakeBackend struct {
	// common.Backend is nil: the view must call only the methods defined
	// below, and any other call panics the test.
	common.Backend

	mu         sync.Mutex
	containers []models.Container
	samples    []map[string]models.Stats
	statsCalls int
	nameCalls  int
}

func (f *fakeBackend) Stats(ctx context.Context, _ runtime.StatsOptions) (map[string]models.Stats, error) {
	f.mu.Lock()
	i := f.statsCalls
	f.statsCalls++
	f.mu.Unlock()
	if i < len(f.samples) {
		return f.samples[i], nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (f *fakeBackend) Containers(context.Context, runtime.ListOptions) ([]models.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nameCalls++
	return f.containers, nil
}
