package images

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	containerd "github.com/containerd/containerd"
	cimages "github.com/containerd/containerd/images"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// StatusUploading is a push's layer being sent to the registry (Offset
// stays 0: containerd reports no upload offsets).
const StatusUploading ProgressStatus = "uploading"

// PushOptions tune Push.
type PushOptions struct {
	// Progress, when set, receives per-layer progress: waiting, uploading,
	// then done. It is called from one goroutine at a time.
	Progress func(Progress)
}

// Push sends the image named ref (normalised first; an image ID is not
// enough, as with docker push) to the registry its name points at, with
// the stored credentials of that registry (see Login). A local image that
// does not exist is ErrNotFound; a registry that wants credentials it
// did not get, or refuses them, is ErrUnauthorized; one that cannot be
// reached is ErrUnavailable.
func (s *Service) Push(ctx context.Context, ref string, opts PushOptions) (models.Image, error) {
	name, err := Normalize(ref)
	if err != nil {
		return models.Image{}, err
	}
	if _, err := reference.ParseDockerRef(name); err != nil || strings.Contains(name, "@") {
		return models.Image{}, fmt.Errorf("push %s: give a name with a tag, not a digest: %w", ref, errdefs.ErrInvalid)
	}
	rec, err := s.client.ImageService().Get(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return models.Image{}, fmt.Errorf("push: no such image: %s (name it first: budgie tag IMAGE %s): %w", name, Familiar(name), errdefs.ErrNotFound)
	}
	if err != nil {
		return models.Image{}, fmt.Errorf("push %s: %w", name, errdefs.FromContainerd(err))
	}
	remoteOpts := []containerd.RemoteOpt{containerd.WithResolver(s.resolver())}
	if opts.Progress != nil {
		remoteOpts = append(remoteOpts, containerd.WithImageHandlerWrapper(newPushTracker(opts.Progress).wrap))
	}
	if err := s.client.Push(ctx, name, rec.Target, remoteOpts...); err != nil {
		return models.Image{}, pushError(name, err)
	}
	return s.model(ctx, rec, "")
}

// pushTracker reports a push's layers: waiting when their manifest is
// walked, uploading while the push handler runs, done after.
type pushTracker struct {
	mu     sync.Mutex
	report func(Progress)
	seen   map[string]ProgressStatus
}

func newPushTracker(report func(Progress)) *pushTracker {
	return &pushTracker{report: report, seen: map[string]ProgressStatus{}}
}

func (t *pushTracker) set(desc ocispec.Descriptor, status ProgressStatus, offset int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := desc.Digest.String()
	if prev, ok := t.seen[d]; ok && (prev == status || prev == StatusDone || status == StatusWaiting) {
		return
	}
	t.seen[d] = status
	t.report(Progress{Digest: d, Status: status, Offset: offset, Total: desc.Size})
}

// wrap is a containerd image handler wrapper.
func (t *pushTracker) wrap(h cimages.Handler) cimages.Handler {
	return cimages.HandlerFunc(func(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		if !cimages.IsLayerType(desc.MediaType) {
			children, err := h.Handle(ctx, desc)
			if err == nil && cimages.IsManifestType(desc.MediaType) {
				for _, c := range children {
					if cimages.IsLayerType(c.MediaType) {
						t.set(c, StatusWaiting, 0)
					}
				}
			}
			return children, err
		}
		t.set(desc, StatusUploading, 0)
		children, err := h.Handle(ctx, desc)
		if err == nil {
			t.set(desc, StatusDone, desc.Size)
		}
		return children, err
	})
}

// isAuthError says whether a registry error means missing or refused
// credentials.
func isAuthError(err error) bool {
	if cerrdefs.IsUnauthorized(err) || cerrdefs.IsPermissionDenied(err) || errors.Is(err, ErrUnauthorized) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"401 Unauthorized", "403 Forbidden", "no basic auth credentials", "failed to find supported auth scheme", "authorization failed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
