package images

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	containerd "github.com/containerd/containerd"
	cimages "github.com/containerd/containerd/images"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// DefaultSnapshotter is the snapshotter images are unpacked into when
// Options.Snapshotter is empty.
const DefaultSnapshotter = "overlayfs"

// NoneTag is the Repository and Tag of an image that has no name.
const NoneTag = "<none>"

// Options configure a Service.
type Options struct {
	// Insecure lists registry hosts ("host:port", or "host" for every port)
	// reached over plain HTTP. Loopback registries always are.
	Insecure []string
	// Snapshotter is the snapshotter images are unpacked into; empty means
	// DefaultSnapshotter.
	Snapshotter string
	// Platform is the platform ("linux/amd64") pulled, loaded and measured
	// by default; empty means the host's.
	Platform string
}

// Service pulls, loads, lists and removes images in containerd's store.
type Service struct {
	client *containerd.Client
	opts   Options
}

// New returns a Service working through client.
func New(client *containerd.Client, opts Options) *Service {
	if opts.Snapshotter == "" {
		opts.Snapshotter = DefaultSnapshotter
	}
	return &Service{client: client, opts: opts}
}

// Normalize returns ref as a full reference with a tag or digest:
// "nginx" → "docker.io/library/nginx:latest". A bad reference is ErrInvalid.
func Normalize(ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("bad image reference %q (expected NAME[:TAG] or NAME@DIGEST, lowercase): %w: %w", ref, err, errdefs.ErrInvalid)
	}
	return named.String(), nil
}

// Familiar returns the short form of a full reference, as docker prints it:
// "docker.io/library/nginx:latest" → "nginx:latest". Names that are not
// references come back unchanged.
func Familiar(name string) string {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return reference.FamiliarString(named)
}

// FamiliarRepository returns the short form of a repository name:
// "docker.io/library/nginx" → "nginx".
func FamiliarRepository(repo string) string {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return repo
	}
	return reference.FamiliarName(named)
}

// matcher returns the platform matcher for platform, or for the service's
// default platform when it is empty.
func (s *Service) matcher(platform string) (platforms.MatchComparer, error) {
	if platform == "" {
		platform = s.opts.Platform
	}
	if platform == "" {
		return platforms.Default(), nil
	}
	p, err := platforms.Parse(platform)
	if err != nil {
		return nil, fmt.Errorf("bad platform %q (expected os/arch[/variant], e.g. linux/arm64): %w", platform, errdefs.ErrInvalid)
	}
	return platforms.Only(p), nil
}

// isInsecure says whether host ("name" or "name:port") is in list; an entry
// without a port covers every port of its host.
func isInsecure(list []string, host string) bool {
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	for _, entry := range list {
		if entry == host || entry == hostname {
			return true
		}
	}
	return false
}

// Get returns the image named ref (normalised first), or the one whose ID
// starts with ref. Unknown images are ErrNotFound.
func (s *Service) Get(ctx context.Context, ref string) (models.Image, error) {
	names, err := s.resolve(ctx, ref)
	if err != nil {
		return models.Image{}, err
	}
	img, err := s.client.ImageService().Get(ctx, names[0])
	if err != nil {
		return models.Image{}, fmt.Errorf("get image %s: %w", names[0], errdefs.FromContainerd(err))
	}
	return s.model(ctx, img, "")
}

// model converts a containerd image record into a models.Image, reading
// its config and size for platform (the default platform when empty).
// Images without content for that platform get an empty ID and zero size.
func (s *Service) model(ctx context.Context, img cimages.Image, platform string) (models.Image, error) {
	m := models.Image{
		Name:       img.Name,
		Repository: NoneTag,
		Tag:        NoneTag,
		Digest:     img.Target.Digest.String(),
		Created:    img.CreatedAt,
	}
	if named, err := reference.ParseNormalizedNamed(img.Name); err == nil {
		m.Repository = named.Name()
		if tagged, ok := named.(reference.Tagged); ok {
			m.Tag = tagged.Tag()
		}
	}
	matcher, err := s.matcher(platform)
	if err != nil {
		return models.Image{}, err
	}
	for _, mc := range []platforms.MatchComparer{matcher, platforms.All} {
		ci := containerd.NewImageWithPlatform(s.client, img, mc)
		cfg, err := ci.Config(ctx)
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return models.Image{}, fmt.Errorf("read config of image %s: %w", img.Name, errdefs.FromContainerd(err))
		}
		size, err := ci.Size(ctx)
		if err != nil {
			return models.Image{}, fmt.Errorf("measure image %s: %w", img.Name, errdefs.FromContainerd(err))
		}
		m.ID, m.Size = cfg.Digest.String(), size
		break
	}
	return m, nil
}

// resolve returns the names of the images ref means: the image of that
// exact or normalised name, or else every name of the one image whose ID
// (config digest) starts with ref.
func (s *Service) resolve(ctx context.Context, ref string) ([]string, error) {
	is := s.client.ImageService()
	candidates := []string{ref}
	if name, err := Normalize(ref); err == nil && name != ref {
		candidates = append(candidates, name)
	}
	for _, name := range candidates {
		_, err := is.Get(ctx, name)
		if err == nil {
			return []string{name}, nil
		}
		if !cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("get image %s: %w", name, errdefs.FromContainerd(err))
		}
	}
	return s.resolveID(ctx, ref)
}

// resolveID returns the names of the image whose ID starts with prefix
// (with or without "sha256:").
func (s *Service) resolveID(ctx context.Context, prefix string) ([]string, error) {
	notFound := fmt.Errorf("no such image: %s (list them: budgie images): %w", prefix, errdefs.ErrNotFound)
	hex := strings.TrimPrefix(prefix, "sha256:")
	if hex == "" || strings.Trim(hex, "0123456789abcdef") != "" {
		return nil, notFound
	}
	all, err := s.List(ctx, ListOptions{})
	if err != nil {
		return nil, err
	}
	byID := map[string][]string{}
	for _, img := range all {
		if strings.HasPrefix(strings.TrimPrefix(img.ID, "sha256:"), hex) {
			byID[img.ID] = append(byID[img.ID], img.Name)
		}
	}
	switch len(byID) {
	case 0:
		return nil, notFound
	case 1:
		for _, names := range byID {
			slices.Sort(names)
			return names, nil
		}
	}
	return nil, fmt.Errorf("image ID prefix %s matches %d images (give more characters): %w", prefix, len(byID), errdefs.ErrAmbiguous)
}
