package commontest

import (
	"context"
	"fmt"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// SetLive makes LiveContainers answer with cs, as a keeper's live list
// would (a copy that may differ from Containers); hold, when not nil,
// makes Containers wait until it is closed, like a slow containerd
// listing. Without SetLive no keeper runs: LiveContainers fails.
func (b *Backend) SetLive(cs []models.Container, hold <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live, b.liveSet, b.hold = append([]models.Container(nil), cs...), true, hold
}

// LiveContainers returns the list set by SetLive, or errdefs.ErrUnavailable.
func (b *Backend) LiveContainers(context.Context, engine.LiveContainersOptions) ([]models.Container, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.liveSet {
		return nil, fmt.Errorf("no keeper runs: %w", errdefs.ErrUnavailable)
	}
	return append([]models.Container(nil), b.live...), nil
}
