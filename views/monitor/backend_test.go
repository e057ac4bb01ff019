package monitor

import (
	"context"
	"io"
	"sync"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// fakeBackend is a fixed-data common.Backend: golden files need the same
// render on every run, and containerd's IDs and clocks differ each time.
// Stats returns samples[0], samples[1], … one per call, then blocks until
// ctx ends, so that a test's final state is known.
type fakeBackend struct {
	mu         sync.Mutex
	containers []models.Container
	samples    []map[string]models.Stats
	statsCalls int
	nameCalls  int
}

func (f *fakeBackend) Stats(ctx context.Context) (map[string]models.Stats, error) {
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

func (f *fakeBackend) Containers(context.Context) ([]models.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nameCalls++
	return f.containers, nil
}

// The rest of common.Backend is not used by the monitor.

func (f *fakeBackend) Container(context.Context, string) (models.Container, error) {
	return models.Container{}, errdefs.ErrNotSupported
}
func (f *fakeBackend) Start(context.Context, string) error        { return errdefs.ErrNotSupported }
func (f *fakeBackend) Stop(context.Context, string) error         { return errdefs.ErrNotSupported }
func (f *fakeBackend) Restart(context.Context, string) error      { return errdefs.ErrNotSupported }
func (f *fakeBackend) Remove(context.Context, string, bool) error { return errdefs.ErrNotSupported }
func (f *fakeBackend) Inspect(context.Context, string) (models.Inspect, error) {
	return models.Inspect{}, errdefs.ErrNotSupported
}
func (f *fakeBackend) Events(context.Context) (<-chan models.Event, <-chan error) { return nil, nil }
func (f *fakeBackend) Logs(context.Context, string, common.LogOptions, io.Writer, io.Writer) error {
	return errdefs.ErrNotSupported
}
func (f *fakeBackend) ExecCommand(string) []string { return nil }
func (f *fakeBackend) Images(context.Context) ([]models.Image, error) {
	return nil, errdefs.ErrNotSupported
}
func (f *fakeBackend) PullImage(context.Context, string, func(common.PullProgress)) error {
	return errdefs.ErrNotSupported
}
func (f *fakeBackend) LoadImages(context.Context, string) ([]models.Image, error) {
	return nil, errdefs.ErrNotSupported
}
func (f *fakeBackend) RemoveImage(context.Context, string, bool) error {
	return errdefs.ErrNotSupported
}
func (f *fakeBackend) ValidateBundle(string, []byte) []string { return nil }
func (f *fakeBackend) RunBundle(context.Context, string) ([]models.Container, error) {
	return nil, errdefs.ErrNotSupported
}
func (f *fakeBackend) Command(context.Context, []string) (string, error) {
	return "", errdefs.ErrNotSupported
}
