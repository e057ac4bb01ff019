package editor

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// fakeBackend is a fixed-data common.Backend: golden files need the same
// render on every run, and containerd's IDs and clocks differ each time.
// ValidateBundle is the real engine validator (engine/bundle.Parse);
// RunBundle records the paths it was given and returns one fixed container.
type fakeBackend struct {
	// common.Backend is nil: the view must call only the methods defined
	// below, and any other call panics the test.
	common.Backend

	mu   sync.Mutex
	runs []string
}

// runID is the ID of the container RunBundle "starts".
var runID = strings.Repeat("d", 64)

func (f *fakeBackend) KeeperCommand() []string { return nil }

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

func (f *fakeBackend) RunBundles(_ context.Context, paths []string, _ engine.RunBundleOptions) ([]models.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, paths...)
	return []models.Container{{ID: runID, Name: "web", State: models.StateRunning}}, nil
}
