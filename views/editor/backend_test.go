package editor

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// fakeBackend is a fixed-data common.Backend: golden files need the same
// render on every run, and containerd's IDs and clocks differ each time.
// ValidateBundle is the real engine validator (engine/bundle.Parse);
// RunBundle records the paths it was given and returns one fixed container.
type fakeBackend struct {
	mu   sync.Mutex
	runs []string
}

// runID is the ID of the container RunBundle "starts".
var runID = strings.Repeat("d", 64)

func (f *fakeBackend) ValidateBundle(name string, data []byte) []string {
	_, err := bundle.Parse(name, data, bundle.ParseOptions{Dir: "testdata"})
	var be *bundle.Error
	if errors.As(err, &be) {
		out := make([]string, len(be.Problems))
		for i, p := range be.Problems {
			out[i] = p.String()
		}
		return out
	}
	if err != nil {
		return []string{err.Error()}
	}
	return nil
}

func (f *fakeBackend) RunBundle(_ context.Context, path string) ([]models.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, path)
	return []models.Container{{ID: runID, Name: "web", State: models.StateRunning}}, nil
}

// The rest of common.Backend is not used by the editor.

func (f *fakeBackend) Containers(context.Context) ([]models.Container, error) {
	return nil, errdefs.ErrNotSupported
}
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
func (f *fakeBackend) Stats(context.Context) (map[string]models.Stats, error) {
	return nil, errdefs.ErrNotSupported
}
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
func (f *fakeBackend) Command(context.Context, []string) (string, error) {
	return "", errdefs.ErrNotSupported
}
