package replica

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/models"
)

// Metadata keys and volume names the primary serves.
const (
	// MetaContainer + REF answers the ReplicaPlan of container REF (full
	// ID, unique ID prefix or name).
	MetaContainer = "container/"
	// MetaImage + DIGEST exports the image with that manifest digest and
	// answers an ImageExport naming the sync volume that holds it.
	MetaImage = "image/"
	// ImageVolumePrefix + hex digest is the sync volume of an exported image.
	ImageVolumePrefix = "@image/"
	// imageFile is the OCI archive in an image volume.
	imageFile = "image.tar"
)

// ImageExport is the answer to MetaImage.
type ImageExport struct {
	// Volume is the sync volume holding File.
	Volume string `json:"volume"`
	// File is the OCI archive's name in Volume.
	File string `json:"file"`
	// Size is its size in bytes.
	Size int64 `json:"size"`
}

// ServerOptions configures a Server.
type ServerOptions struct {
	// Runtime is the node's runtime; required.
	Runtime *runtime.Runtime
	// Identity is the node's identity and Trust its trust store; required.
	Identity *identity.Identity
	Trust    *identity.TrustStore
	// NodeID and NodeName are the node's discovery ID and name, written
	// into plans.
	NodeID, NodeName string
	// DataDir is where exported images are kept (DataDir/replica/images);
	// required.
	DataDir string
	// Changes reports volume changes to subscribed replicas; nil means
	// WatchSource (fsnotify).
	Changes volsync.ChangeSource
	// Logger receives refusals and errors; nil discards them.
	Logger *slog.Logger
}

// Server is the primary side: it serves replicable containers' plans,
// images and named volumes to trusted nodes.
type Server struct {
	opts   ServerOptions
	log    *slog.Logger
	ctx    context.Context // set by Serve; bounds containerd calls
	expMu  sync.Mutex      // one image export at a time
	syncer *volsync.Server
}

// NewServer checks opts and returns a Server.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Runtime == nil || opts.Identity == nil || opts.Trust == nil || opts.DataDir == "" {
		return nil, fmt.Errorf("replication server needs a runtime, an identity, a trust store and a data dir: %w", errdefs.ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Changes == nil {
		opts.Changes = WatchSource(opts.Logger)
	}
	s := &Server{opts: opts, log: opts.Logger, ctx: context.Background()}
	s.syncer = volsync.NewServer(volsync.ServerOptions{
		Volumes: s.volumeDir, Authorize: s.authorize, Meta: s.meta,
		Changes: opts.Changes, Logger: opts.Logger,
	})
	return s, nil
}

// Listen opens the TLS listener at addr (":18733" when empty) that only
// completes handshakes with trusted nodes.
func (s *Server) Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = fmt.Sprintf(":%d", volsync.DefaultPort)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for replication on %s (another keeper, or set discovery.sync_port): %w", addr, err)
	}
	return tls.NewListener(ln, identity.ServerConfig(s.opts.Identity, s.opts.Trust)), nil
}

// Serve serves ln until ctx ends, then closes it and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.ctx = ctx
	return s.syncer.Serve(ctx, ln)
}

// trusted re-checks the peer against the trust store.
func (s *Server) trusted(peer volsync.PeerInfo) bool {
	id, err := identity.ParseFingerprint(peer.Fingerprint)
	return err == nil && s.opts.Trust.IsTrusted(id)
}

// authorize allows a trusted peer to read a replicable container's named
// volume or an exported image of one.
func (s *Server) authorize(peer volsync.PeerInfo, volume string) bool {
	if !s.trusted(peer) {
		return false
	}
	_, err := s.resolveVolume(volume)
	if err != nil {
		s.log.Warn("replication refused", "peer", peer.Addr, "volume", volume, "err", err)
	}
	return err == nil
}

// volumeDir maps a sync volume name to its directory.
func (s *Server) volumeDir(volume string) (string, bool) {
	dir, err := s.resolveVolume(volume)
	return dir, err == nil
}

// resolveVolume checks that volume is served and returns its directory.
func (s *Server) resolveVolume(volume string) (string, error) {
	if hex, ok := strings.CutPrefix(volume, ImageVolumePrefix); ok {
		if err := s.imageShared("sha256:" + hex); err != nil {
			return "", err
		}
		return s.imageDir("sha256:" + hex), nil
	}
	cid, vol, ok := strings.Cut(volume, "/")
	if !ok {
		return "", fmt.Errorf("volume %q is not CONTAINER/VOLUME: %w", volume, errdefs.ErrNotFound)
	}
	c, err := s.replicable(cid)
	if err != nil {
		return "", err
	}
	if !slices.Contains(namedVolumes(c.Spec), vol) || c.ID != cid {
		return "", fmt.Errorf("container %s has no named volume %q: %w", c.Name, vol, errdefs.ErrNotFound)
	}
	return s.opts.Runtime.VolumeDir(vol), nil
}

// replicable returns container ref when its owner shared it.
func (s *Server) replicable(ref string) (models.Container, error) {
	c, err := s.opts.Runtime.Get(s.ctx, ref)
	if err != nil {
		return c, err
	}
	labels, err := containerLabels(s.ctx, s.opts.Runtime, c.ID)
	if err != nil {
		return c, err
	}
	if labels[LabelReplicable] != "true" {
		return c, fmt.Errorf("container %s is not shared (on its node: budgie share %s): %w", c.Name, c.Name, volsync.ErrDenied)
	}
	return c, nil
}

// namedVolumes lists the spec's named volumes once each.
func namedVolumes(spec models.ContainerSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.Kind == models.VolumeNamed && !slices.Contains(out, v.Source) {
			out = append(out, v.Source)
		}
	}
	return out
}

// meta answers the metadata keys; only trusted peers get answers.
func (s *Server) meta(peer volsync.PeerInfo, key string) ([]byte, error) {
	if !s.trusted(peer) {
		return nil, fmt.Errorf("this node does not trust %s: %w", peer.Addr, volsync.ErrDenied)
	}
	var v any
	var err error
	switch {
	case strings.HasPrefix(key, MetaContainer):
		v, err = s.plan(strings.TrimPrefix(key, MetaContainer))
	case strings.HasPrefix(key, MetaImage):
		v, err = s.exportImage(strings.TrimPrefix(key, MetaImage))
	default:
		err = fmt.Errorf("no metadata %q: %w", key, errdefs.ErrNotFound)
	}
	if err != nil {
		if !errors.Is(err, errdefs.ErrNotFound) {
			s.log.Warn("replication metadata refused", "peer", peer.Addr, "key", key, "err", err)
		}
		return nil, err
	}
	return json.Marshal(v)
}

// plan describes a replicable container.
func (s *Server) plan(ref string) (models.ReplicaPlan, error) {
	c, err := s.replicable(ref)
	if err != nil {
		return models.ReplicaPlan{}, err
	}
	img, err := s.opts.Runtime.Client().GetImage(s.ctx, c.Spec.Image)
	if err != nil {
		return models.ReplicaPlan{}, fmt.Errorf("image %s of container %s: %w", c.Spec.Image, c.Name, errdefs.FromContainerd(err))
	}
	p := models.ReplicaPlan{
		NodeID: s.opts.NodeID, NodeName: s.opts.NodeName, Identity: s.opts.Identity.ID.String(),
		ContainerID: c.ID, Name: c.Name, Spec: c.Spec, Image: c.Spec.Image,
		ImageDigest: img.Target().Digest.String(), Ports: c.Spec.Ports, Secrets: c.Spec.Secrets,
	}
	for _, v := range c.Spec.Volumes {
		if v.Kind == models.VolumeNamed {
			p.Volumes = append(p.Volumes, models.ReplicaVolume{Name: v.Source, Target: v.Target})
		}
	}
	return p, nil
}

// imageDir is where the image with manifest digest dgst is exported.
func (s *Server) imageDir(dgst string) string {
	return filepath.Join(s.opts.DataDir, "replica", "images", strings.TrimPrefix(dgst, "sha256:"))
}
