package engine

import (
	"context"
	"io"
	"strings"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
)

// Images lists images.
func (e *Engine) Images(ctx context.Context, opts images.ListOptions) ([]models.Image, error) {
	return e.ImageService.List(ctx, opts)
}

// PullImage pulls ref (opts.Progress reports each layer's progress).
func (e *Engine) PullImage(ctx context.Context, ref string, opts images.PullOptions) (models.Image, error) {
	return e.ImageService.Pull(ctx, ref, opts)
}

// LoadImages loads an image archive (an OCI layout or `docker save`
// tarball) from r.
func (e *Engine) LoadImages(ctx context.Context, r io.Reader, opts images.LoadOptions) ([]models.Image, error) {
	return e.ImageService.Load(ctx, r, opts)
}

// RemoveImages removes images and returns what it untagged and deleted.
func (e *Engine) RemoveImages(ctx context.Context, refs []string, opts images.RemoveOptions) ([]string, error) {
	return e.ImageService.Remove(ctx, refs, opts)
}

// ValidateBundle parses bundle text (name is used in messages) and returns
// its problems, one per line, or nil.
func (e *Engine) ValidateBundle(name string, data []byte) []string {
	if _, err := bundle.Parse(name, data, bundle.ParseOptions{}); err != nil {
		return strings.Split(err.Error(), "\n")
	}
	return nil
}
