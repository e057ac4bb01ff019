package images

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/containerd/images/archive"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Archive formats Save writes.
const (
	// FormatDocker is an OCI image layout plus docker's manifest.json:
	// docker load, budgie load and OCI tools all read it.
	FormatDocker = "docker"
	// FormatOCI is an OCI image layout alone (index.json, oci-layout, blobs).
	FormatOCI = "oci"
)

// SaveOptions tune Save.
type SaveOptions struct {
	// Format is FormatDocker or FormatOCI; empty means FormatDocker.
	Format string
	// Platform is the platform saved from multi-platform images; empty
	// means the service's default.
	Platform string
}

// Save writes the images refs name (by name or ID prefix, as Get takes
// them; an ID brings every name of its image) to w as a tar archive that
// Load reads back, under their full names. Unknown images are
// ErrNotFound and nothing is written; a bad format is ErrInvalid.
func (s *Service) Save(ctx context.Context, w io.Writer, refs []string, opts SaveOptions) error {
	exportOpts, err := s.saveOptions(ctx, refs, opts)
	if err != nil {
		return err
	}
	if err := s.client.Export(ctx, w, exportOpts...); err != nil {
		return fmt.Errorf("save images: %w", errdefs.FromContainerd(err))
	}
	return nil
}

// saveOptions checks the format and the images and returns the
// exporter's options.
func (s *Service) saveOptions(ctx context.Context, refs []string, opts SaveOptions) ([]archive.ExportOpt, error) {
	var exportOpts []archive.ExportOpt
	switch opts.Format {
	case "", FormatDocker:
	case FormatOCI:
		exportOpts = append(exportOpts, archive.WithSkipDockerManifest())
	default:
		return nil, fmt.Errorf("bad archive format %q (expected %s or %s): %w", opts.Format, FormatOCI, FormatDocker, errdefs.ErrInvalid)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("save: name at least one image: %w", errdefs.ErrInvalid)
	}
	matcher, err := s.matcher(opts.Platform)
	if err != nil {
		return nil, err
	}
	exportOpts = append(exportOpts, archive.WithPlatform(matcher))
	is := s.client.ImageService()
	seen := map[string]bool{}
	for _, ref := range refs {
		names, err := s.resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			if _, err := is.Get(ctx, name); err != nil {
				return nil, fmt.Errorf("save %s: %w", name, errdefs.FromContainerd(err))
			}
			exportOpts = append(exportOpts, archive.WithImage(is, name))
		}
	}
	return exportOpts, nil
}
