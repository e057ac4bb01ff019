package images

import (
	"context"
	"io"
	"sync"
	"time"

	engimages "github.com/budgie-sh/budgie/engine/images"
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
	progress []engimages.Progress
	pullErr  error
	block    bool
	pulled   []string
	loaded   []string // what each loaded archive held
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

func (f *fakeBackend) Images(context.Context, engimages.ListOptions) ([]models.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]models.Image(nil), f.images...), nil
}

func (f *fakeBackend) PullImage(ctx context.Context, ref string, opts engimages.PullOptions) (models.Image, error) {
	f.mu.Lock()
	f.pulled = append(f.pulled, ref)
	f.mu.Unlock()
	for _, p := range f.progress {
		opts.Progress(p)
	}
	if f.block {
		<-ctx.Done()
		return models.Image{}, ctx.Err()
	}
	return models.Image{Name: ref}, f.pullErr
}

func (f *fakeBackend) LoadImages(_ context.Context, r io.Reader, _ engimages.LoadOptions) ([]models.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loaded = append(f.loaded, string(data))
	return fixedImages()[:1], nil
}

func (f *fakeBackend) RemoveImages(_ context.Context, refs []string, opts engimages.RemoveOptions) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ref := range refs {
		f.removed, f.forced = append(f.removed, ref), append(f.forced, opts.Force)
	}
	return refs, nil
}
