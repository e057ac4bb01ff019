package images

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/distribution/reference"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// ListOptions filter List.
type ListOptions struct {
	// Repo keeps only images of this repository, as `docker images REPO`
	// does: "nginx", "nginx:1.27", "127.0.0.1:5000/app". Shell-style
	// wildcards ("library/*", "*:1") match the full or the short name.
	// Empty keeps every image.
	Repo string
}

// List returns the images in the store, newest first, then by name.
func (s *Service) List(ctx context.Context, opts ListOptions) ([]models.Image, error) {
	match, err := repoMatcher(opts.Repo)
	if err != nil {
		return nil, err
	}
	records, err := s.client.ImageService().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", errdefs.FromContainerd(err))
	}
	out := make([]models.Image, 0, len(records))
	for _, rec := range records {
		m, err := s.model(ctx, rec, "")
		if err != nil {
			return nil, err
		}
		if match(m) {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// repoMatcher returns the filter for a ListOptions.Repo value.
func repoMatcher(repo string) (func(models.Image) bool, error) {
	if repo == "" {
		return func(models.Image) bool { return true }, nil
	}
	if strings.ContainsAny(repo, "*?[") {
		return globMatcher(repo)
	}
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, fmt.Errorf("bad repository %q (expected NAME[:TAG]): %w", repo, errdefs.ErrInvalid)
	}
	tag := ""
	if tagged, ok := named.(reference.Tagged); ok {
		tag = tagged.Tag()
	}
	return func(m models.Image) bool {
		return m.Repository == named.Name() && (tag == "" || m.Tag == tag)
	}, nil
}

// globMatcher matches REPO[:TAG] patterns against the full and the short
// repository names.
func globMatcher(pattern string) (func(models.Image) bool, error) {
	repoPat, tagPat := pattern, ""
	if i := strings.LastIndex(pattern, ":"); i > strings.LastIndex(pattern, "/") {
		repoPat, tagPat = pattern[:i], pattern[i+1:]
	}
	if _, err := path.Match(repoPat, ""); err != nil {
		return nil, fmt.Errorf("bad repository pattern %q: %w", pattern, errdefs.ErrInvalid)
	}
	if _, err := path.Match(tagPat, ""); err != nil {
		return nil, fmt.Errorf("bad tag pattern %q: %w", pattern, errdefs.ErrInvalid)
	}
	return func(m models.Image) bool {
		full, _ := path.Match(repoPat, m.Repository)
		short, _ := path.Match(repoPat, FamiliarRepository(m.Repository))
		if !full && !short {
			return false
		}
		if tagPat == "" {
			return true
		}
		ok, _ := path.Match(tagPat, m.Tag)
		return ok
	}, nil
}
