package images

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	containerd "github.com/containerd/containerd"
	cimages "github.com/containerd/containerd/images"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Platform is the platform to load from multi-platform archives; empty
	// means the service's default.
	Platform string
}

// unnamedPrefix starts the store name of a loaded image the archive gives
// no name: "<none>@sha256:…". It lists as <none>:<none>.
const unnamedPrefix = NoneTag + "@"

// Load reads an OCI image-layout tar or a `docker save` tar (either may be
// gzipped) from r, stores its images under their normalised names and
// unpacks them. Images without
// a name are stored as "<none>@DIGEST". A stream that is neither format is
// ErrInvalid.
func (s *Service) Load(ctx context.Context, r io.Reader, opts LoadOptions) ([]models.Image, error) {
	matcher, err := s.matcher(opts.Platform)
	if err != nil {
		return nil, err
	}
	r, err = decompress(r)
	if err != nil {
		return nil, err
	}
	records, err := s.client.Import(ctx, r,
		containerd.WithImportPlatform(matcher),
		containerd.WithImageRefTranslator(ociRefName),
		containerd.WithDigestRef(func(d digest.Digest) string { return unnamedPrefix + d.String() }),
		containerd.WithSkipDigestRef(func(name string) bool { return name != "" }),
	)
	if err != nil {
		return nil, loadError(err)
	}
	out := make([]models.Image, 0, len(records))
	for _, rec := range records {
		rec, err = s.normalizeName(ctx, rec)
		if err != nil {
			return nil, err
		}
		img := containerd.NewImageWithPlatform(s.client, rec, matcher)
		if err := img.Unpack(ctx, s.opts.Snapshotter); err != nil {
			return nil, fmt.Errorf("unpack loaded image %s: %w", rec.Name, errdefs.FromContainerd(err))
		}
		m, err := s.model(ctx, rec, opts.Platform)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// decompress returns r, or a gzip reader over it when it starts with the
// gzip magic number.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil // an empty or short stream fails as "not an archive" later
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("load images: bad gzip stream: %w: %w", err, errdefs.ErrInvalid)
	}
	return zr, nil
}

// ociRefName turns an OCI layout's org.opencontainers.image.ref.name into a
// store name: a full reference is normalised; a bare tag ("1.0"), which
// names no repository, leaves the image unnamed.
func ociRefName(name string) string {
	if !strings.ContainsAny(name, "/:@") {
		return ""
	}
	full, err := Normalize(name)
	if err != nil {
		return ""
	}
	return full
}

// normalizeName renames an imported image whose name is a reference but
// not a normalised one ("busybox:1" from an io.containerd.image.name
// annotation) to its normalised name.
func (s *Service) normalizeName(ctx context.Context, rec cimages.Image) (cimages.Image, error) {
	if strings.HasPrefix(rec.Name, unnamedPrefix) {
		return rec, nil
	}
	full, err := Normalize(rec.Name)
	if err != nil || full == rec.Name {
		return rec, nil
	}
	is := s.client.ImageService()
	renamed := cimages.Image{Name: full, Target: rec.Target, Labels: rec.Labels}
	created, err := is.Update(ctx, renamed, "target")
	if cerrdefs.IsNotFound(err) {
		created, err = is.Create(ctx, renamed)
	}
	if err != nil {
		return rec, fmt.Errorf("name loaded image %s: %w", full, errdefs.FromContainerd(err))
	}
	if err := is.Delete(ctx, rec.Name); err != nil && !cerrdefs.IsNotFound(err) {
		return rec, fmt.Errorf("rename loaded image %s: %w", rec.Name, errdefs.FromContainerd(err))
	}
	return created, nil
}

// loadError classifies an import failure: containerd's own errors keep
// their class; anything else means the archive was not understood.
func loadError(err error) error {
	classified := errdefs.FromContainerd(err)
	for _, sentinel := range []error{errdefs.ErrNotFound, errdefs.ErrConflict, errdefs.ErrInvalid, errdefs.ErrUnavailable, errdefs.ErrNotSupported} {
		if errors.Is(classified, sentinel) {
			return fmt.Errorf("load images: %w", classified)
		}
	}
	return fmt.Errorf("load images: the archive is not an OCI image layout or a docker save tar (%v): %w", err, errdefs.ErrInvalid)
}
