package images

import (
	"context"
	"errors"
	"fmt"
	"slices"

	containerd "github.com/containerd/containerd"
	cimages "github.com/containerd/containerd/images"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// containerNameLabel is the label holding a Budgie container's name
// (engine/runtime.LabelName), used to name the container in errors.
const containerNameLabel = "budgie.name"

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Force removes images that containers use (the containers keep their
	// snapshots and go on running) and every name of an image given by ID.
	Force bool
}

// Remove deletes the images refs name — by name (normalised first) or by
// ID prefix — and returns the names it removed. It goes on past a ref it
// cannot remove and returns every failure joined: an unknown image is
// ErrNotFound; an image a container uses, or an ID with several names, is
// ErrConflict unless opts.Force.
func (s *Service) Remove(ctx context.Context, refs []string, opts RemoveOptions) ([]string, error) {
	var removed []string
	var errs []error
	for _, ref := range refs {
		names, err := s.removeOne(ctx, ref, opts)
		removed = append(removed, names...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// removeOne removes the images of one ref.
func (s *Service) removeOne(ctx context.Context, ref string, opts RemoveOptions) ([]string, error) {
	names, err := s.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(names) > 1 && !opts.Force {
		return nil, fmt.Errorf("image %s is referenced in several repositories (%d names; remove them by name, or force: budgie rmi -f %s): %w",
			ref, len(names), ref, errdefs.ErrConflict)
	}
	if !opts.Force {
		if err := s.checkUnused(ctx, names); err != nil {
			return nil, err
		}
	}
	var removed []string
	is := s.client.ImageService()
	for i, name := range names {
		var delOpts []cimages.DeleteOpt
		if i == len(names)-1 {
			delOpts = append(delOpts, cimages.SynchronousDelete())
		}
		if err := is.Delete(ctx, name, delOpts...); err != nil && !cerrdefs.IsNotFound(err) {
			return removed, fmt.Errorf("remove image %s: %w", name, errdefs.FromContainerd(err))
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// checkUnused fails with ErrConflict when a container was created from one
// of the named images.
func (s *Service) checkUnused(ctx context.Context, names []string) error {
	containers, err := s.client.Containers(ctx)
	if err != nil {
		return fmt.Errorf("list containers: %w", errdefs.FromContainerd(err))
	}
	for _, c := range containers {
		info, err := c.Info(ctx, containerd.WithoutRefreshedMetadata)
		if err != nil {
			if cerrdefs.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("inspect container %s: %w", c.ID(), errdefs.FromContainerd(err))
		}
		if !slices.Contains(names, info.Image) {
			continue
		}
		who := info.Labels[containerNameLabel]
		if who == "" {
			who = models.ShortID(info.ID)
		}
		return fmt.Errorf("image %s is used by container %s (remove the container first, or force: budgie rmi -f %s): %w",
			Familiar(info.Image), who, Familiar(info.Image), errdefs.ErrConflict)
	}
	return nil
}
