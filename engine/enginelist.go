package engine

import (
	"context"

	"github.com/budgie-sh/budgie/models"
)

// LiveContainersOptions tune LiveContainers.
type LiveContainersOptions struct {
	// Limit is the most containers returned, by name; zero means the
	// keeper's bound (keeper.MaxContainers).
	Limit int
}

// LiveContainers returns every container (stopped ones too), sorted by
// name, from the keeper's live list: an in-memory copy the keeper keeps
// current with containerd's and its own events, answered in one round trip
// on its socket instead of a containerd task listing that asks every shim.
// It is a derived copy; Containers (containerd) stays the source of truth,
// and nest draws its first table from this one only until that listing
// lands. With no keeper running the error wraps errdefs.ErrUnavailable.
func (e *Engine) LiveContainers(ctx context.Context, opts LiveContainersOptions) ([]models.Container, error) {
	resp, err := e.Keeper.Containers(ctx, opts.Limit)
	if err != nil {
		return nil, err
	}
	return resp.Containers, nil
}
