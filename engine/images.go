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

// SaveImages writes the images refs name to w as an archive LoadImages
// reads back (opts.Format: docker or oci).
func (e *Engine) SaveImages(ctx context.Context, w io.Writer, refs []string, opts images.SaveOptions) error {
	return e.ImageService.Save(ctx, w, refs, opts)
}

// TagImage gives the image source names the new name target.
func (e *Engine) TagImage(ctx context.Context, source, target string) (models.Image, error) {
	return e.ImageService.Tag(ctx, source, target)
}

// PushImage sends the image named ref to its registry with the stored
// credentials (opts.Progress reports each layer's progress).
func (e *Engine) PushImage(ctx context.Context, ref string, opts images.PushOptions) (models.Image, error) {
	return e.ImageService.Push(ctx, ref, opts)
}

// ValidateBundle parses bundle text (name is used in messages) and returns
// its problems, one per line, or nil.
func (e *Engine) ValidateBundle(name string, data []byte) []string {
	if _, err := bundle.Parse(name, data, bundle.ParseOptions{}); err != nil {
		return strings.Split(err.Error(), "\n")
	}
	return nil
}
