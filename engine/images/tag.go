package images

import (
	"context"
	"fmt"
	"strings"

	cimages "github.com/containerd/containerd/images"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Tag gives the image source names (by name or ID prefix) the new name
// target, normalised as Pull normalises ("app" → docker.io/library/
// app:latest), as docker tag does: an image already of that name is
// renamed away from it. The target must be a name with a tag, not a
// digest. An unknown source is ErrNotFound; a source ID shared by several
// images is ErrAmbiguous.
func (s *Service) Tag(ctx context.Context, source, target string) (models.Image, error) {
	name, err := Normalize(target)
	if err != nil {
		return models.Image{}, err
	}
	if strings.Contains(name, "@") {
		return models.Image{}, fmt.Errorf("tag %s: the new name cannot be a digest (give NAME[:TAG]): %w", target, errdefs.ErrInvalid)
	}
	names, err := s.resolve(ctx, source)
	if err != nil {
		return models.Image{}, err
	}
	is := s.client.ImageService()
	src, err := is.Get(ctx, names[0])
	if err != nil {
		return models.Image{}, fmt.Errorf("tag %s: %w", source, errdefs.FromContainerd(err))
	}
	rec := cimages.Image{Name: name, Target: src.Target, Labels: src.Labels}
	created, err := is.Update(ctx, rec, "target", "labels")
	if cerrdefs.IsNotFound(err) {
		created, err = is.Create(ctx, rec)
	}
	if err != nil {
		return models.Image{}, fmt.Errorf("tag %s as %s: %w", source, name, errdefs.FromContainerd(err))
	}
	return s.model(ctx, created, "")
}
