package images

import (
	"context"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// fakeBackend is a fixed-data common.Backend: golden files need the same
// render on every run, and containerd's digests and clocks differ each
// time. PullImage reports the scripted progress, then returns pullErr — or,
// with block set, waits for ctx to end so that a test sees a pull under way.
type fakeBackend struct {
	// common.Backend is nil: the view must call only the methods defined
	// below, and any other call panics the test.
	common.Backend

	mu       sync.Mutex
	images   []models.Image
	progress []common.PullProgress
	pullErr  error
	block    bool
	pulled   []string
	loaded   []string
	removed  []string
	forced   []bool
}

// now is the fixed clock the views' relative dates are computed against.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func fixedImages() []models.Image {
	return []models.Image{
		{Name: "docker.io/library/busybox:1.36", Repository: "docker.io/library/busybox", Tag: "1.36",
			ID: "sha256:1111111111111111aaaa", Created: now.Add(-72 * time.Hour), Size: 2_150_000},
		{Name: "localhost:5000/app:1.2", Repository: "localhost:5000/app", Tag: "1.2",
			ID: "sha256:2222222222222222bbbb", Created: now.Add(-2 * time.Hour), Size: 48_300_000},
		{Name: "docker.io/library/alpine:3.20", Repository: "docker.io/library/alpine", Tag: "3.20",
			ID: "sha256:3333333333333333cccc", Created: now.Add(-30 * 24 * time.Hour), Size: 3_620_000},
	}
}

func (f *fakeBackend) Images(context.Context) ([]models.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]models.Image(nil), f.images...), nil
}

func (f *fakeBackend) PullImage(ctx context.Context, ref string, progress func(common.PullProgress)) error {
	f.mu.Lock()
	f.pulled = append(f.pulled, ref)
	f.mu.Unlock()
	for _, p := range f.progress {
		progress(p)
	}
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.pullErr
}

func (f *fakeBackend) LoadImages(_ context.Context, path string) ([]models.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loaded = append(f.loaded, path)
	return fixedImages()[:1], nil
}

func (f *fakeBackend) RemoveImage(_ context.Context, ref string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed, f.forced = append(f.removed, ref), append(f.forced, force)
	return nil
}
