package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	containerd "github.com/containerd/containerd"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// PullOptions tune Pull.
type PullOptions struct {
	// Platform is the platform to pull ("linux/arm64"); empty means the
	// service's default.
	Platform string
	// Progress, when set, receives per-layer progress. It is called from
	// one goroutine at a time and must not block for long.
	Progress func(Progress)
}

// Pull fetches ref from its registry (normalised first: "nginx" is
// docker.io/library/nginx:latest), stores it and unpacks it. A tag or
// image the registry does not have is ErrNotFound; a registry that cannot
// be reached is ErrUnavailable.
func (s *Service) Pull(ctx context.Context, ref string, opts PullOptions) (models.Image, error) {
	name, err := Normalize(ref)
	if err != nil {
		return models.Image{}, err
	}
	if _, err := s.matcher(opts.Platform); err != nil {
		return models.Image{}, err
	}
	platform := opts.Platform
	if platform == "" {
		platform = s.opts.Platform
	}
	remoteOpts := []containerd.RemoteOpt{
		containerd.WithResolver(s.resolver()),
		containerd.WithPullUnpack,
		containerd.WithPullSnapshotter(s.opts.Snapshotter),
	}
	if platform != "" {
		remoteOpts = append(remoteOpts, containerd.WithPlatform(platform))
	}
	var track *tracker
	if opts.Progress != nil {
		track = newTracker(s.client.ContentStore(), opts.Progress)
		remoteOpts = append(remoteOpts, containerd.WithImageHandlerWrapper(track.wrap))
		track.start(ctx)
	}
	img, err := s.client.Pull(ctx, name, remoteOpts...)
	if track != nil {
		track.stop(err == nil)
	}
	if err != nil {
		return models.Image{}, pullError(name, err)
	}
	return s.model(ctx, img.Metadata(), platform)
}

// pullError turns a containerd pull error into one that names the
// registry and says what to try.
func pullError(name string, err error) error { return registryError("pull", name, err) }

// pushError is pullError's twin for a push.
func pushError(name string, err error) error { return registryError("push", name, err) }

// registryError turns a containerd pull or push error (verb) into one that
// names the registry and says what to try.
func registryError(verb, name string, err error) error {
	host := "docker.io"
	if named, perr := reference.ParseNormalizedNamed(name); perr == nil {
		host = reference.Domain(named)
	}
	msg := err.Error()
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", verb, name, err)
	case verb == "push" && isAuthError(err):
		return unauthorized("push %s: registry %s refused access: unauthorized (log in: budgie login %s)", name, host, host)
	case verb == "pull" && cerrdefs.IsNotFound(err):
		return fmt.Errorf("pull %s: registry %s has no such image or tag (check the name and tag): %w", name, host, errdefs.ErrNotFound)
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%s %s: registry %s speaks plain HTTP (add it to registries.insecure in budgie.yaml): %w: %w", verb, name, host, errdefs.ErrUnavailable, err)
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return fmt.Errorf("%s %s: TLS with registry %s failed (a plain-HTTP registry belongs in registries.insecure): %w: %w", verb, name, host, errdefs.ErrUnavailable, err)
	case verb == "pull" && isAuthError(err):
		return unauthorized("pull %s: registry %s refused access: unauthorized (log in: budgie login %s; or no such repository): %v", name, host, host, err)
	case verb == "push" && cerrdefs.IsNotFound(err):
		return fmt.Errorf("push %s: part of the image is missing from the store (a multi-platform image pulled for one platform cannot be pushed whole; tag and push a single-platform image): %w: %w", name, err, errdefs.ErrNotFound)
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		return fmt.Errorf("%s %s: cannot reach registry %s (is it running and is the network up? a plain-HTTP registry must be listed in registries.insecure): %w: %w", verb, name, host, errdefs.ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s: %w", verb, name, errdefs.FromContainerd(err))
}
