package replica

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/models"
)

// KeeperOptions configures Start, replication inside the keeper.
type KeeperOptions struct {
	// Runtime is the node's runtime; DataDir its data directory. Required.
	Runtime *runtime.Runtime
	DataDir string
	// NodeID and NodeName are the node's discovery ID and name.
	NodeID, NodeName string
	// Addr is the replication listen address; empty means ":18733".
	Addr string
	// Peers returns discovery's live table of nodes; nil means replicas
	// cannot find their primaries (continuous sync waits).
	Peers func() []models.PeerNode
	// Changes reports volume changes to subscribed replicas; nil means
	// WatchSource (fsnotify).
	Changes volsync.ChangeSource
	// Logger receives what replication does; nil discards it.
	Logger *slog.Logger
	// Rescan is how often local replicas are listed; 0 means 2s.
	Rescan time.Duration
}

// Service is replication running in the keeper: the primary's server and
// the followers that keep local replicas in volsync.
type Service struct {
	opts KeeperOptions
	node Node
	log  *slog.Logger
	wg   sync.WaitGroup

	mu       sync.Mutex
	replicas map[string]*follower // by local container ID
}

// Start loads the node's identity and trust store, listens on the
// replication port and serves, and keeps every local container labelled
// replica-sync=on in sync with its primary until ctx ends. Wait waits for
// it all to stop.
func Start(ctx context.Context, opts KeeperOptions) (*Service, error) {
	if opts.Runtime == nil || opts.DataDir == "" {
		return nil, fmt.Errorf("replication needs a runtime and a data dir: %w", errdefs.ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rescan <= 0 {
		opts.Rescan = 2 * time.Second
	}
	id, err := identity.Load(opts.DataDir, identity.LoadOptions{Name: opts.NodeName})
	if err != nil {
		return nil, err
	}
	trust, err := identity.OpenTrustStore(opts.DataDir, identity.TrustStoreOptions{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	srv, err := NewServer(ServerOptions{Runtime: opts.Runtime, Identity: id, Trust: trust, NodeID: opts.NodeID,
		NodeName: opts.NodeName, DataDir: opts.DataDir, Changes: opts.Changes, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	ln, err := srv.Listen(opts.Addr)
	if err != nil {
		return nil, err
	}
	s := &Service{opts: opts, node: Node{Identity: id, Trust: trust, Runtime: opts.Runtime}, log: opts.Logger, replicas: map[string]*follower{}}
	s.log.Info("replication listening", "addr", ln.Addr().String(), "id", id.ID.String())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ctx, ln); err != nil {
			s.log.Error("replication server stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.follow(ctx)
	}()
	return s, nil
}

// Wait returns once the server and every follower stopped.
func (s *Service) Wait() { s.wg.Wait() }

// Status lists the local replicas and how their sync goes, by name.
func (s *Service) Status() []models.ReplicaStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]models.ReplicaStatus, 0, len(s.replicas))
	for _, f := range s.replicas {
		out = append(out, f.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// follow lists local replicas every Rescan and starts or stops followers.
func (s *Service) follow(ctx context.Context) {
	t := time.NewTicker(s.opts.Rescan)
	defer t.Stop()
	for {
		if err := s.rescan(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("list replicas", "err", err)
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for _, f := range s.replicas {
				f.cancel()
			}
			s.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

// rescan brings the followers in line with the containers' labels.
func (s *Service) rescan(ctx context.Context) error {
	reps, err := labelled(ctx, s.opts.Runtime, LabelReplicaOf)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, f := range s.replicas {
		if l, ok := reps[id]; !ok || l[LabelReplicaSync] != f.syncLabel || l[LabelReplicaOf] != f.primary {
			f.cancel()
			delete(s.replicas, id)
		}
	}
	for id, labels := range reps {
		if _, ok := s.replicas[id]; ok {
			continue
		}
		c, err := s.opts.Runtime.Get(ctx, id)
		if err != nil {
			continue
		}
		f := newFollower(c, labels)
		s.replicas[id] = f
		if f.syncLabel != "on" {
			f.setAll(models.ReplicaOff, "")
			continue
		}
		fctx, cancel := context.WithCancel(ctx)
		f.cancel = cancel
		for _, vol := range f.volumes {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.keepVolume(fctx, f, vol)
			}()
		}
	}
	return nil
}

// keepVolume subscribes to one volume of f's primary, reconnecting with
// backoff until ctx ends.
func (s *Service) keepVolume(ctx context.Context, f *follower, vol string) {
	backoff := time.Second
	log := s.log.With("replica", f.name, "volume", vol, "primary", f.primary)
	for ctx.Err() == nil {
		err := s.subscribeOnce(ctx, f, vol, func() { backoff = time.Second })
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = fmt.Errorf("the primary closed the connection: %w", errdefs.ErrUnavailable)
		}
		f.set(vol, models.ReplicaError, err.Error())
		log.Warn("replica sync interrupted; retrying", "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// subscribeOnce finds the primary, connects and follows its changes until
// the connection breaks.
func (s *Service) subscribeOnce(ctx context.Context, f *follower, vol string, synced func()) error {
	f.set(vol, models.ReplicaConnecting, "")
	node, err := s.primaryNode(f)
	if err != nil {
		return err
	}
	f.setNode(node.Name)
	c, _, err := Dial(ctx, s.node, node)
	if err != nil {
		return err
	}
	defer c.Close()
	f.set(vol, models.ReplicaSyncing, "")
	err = c.Subscribe(ctx, f.primaryCID+"/"+vol, s.opts.Runtime.VolumeDir(vol), volsync.SubscribeOptions{
		OnSync: func(st volsync.Stats, err error) {
			f.synced(vol, st, err)
			if err == nil {
				synced()
			}
		},
	})
	return err
}

// primaryNode finds the replica's primary in discovery, with the identity
// pinned when the replica was made.
func (s *Service) primaryNode(f *follower) (models.PeerNode, error) {
	if s.opts.Peers == nil {
		return models.PeerNode{}, fmt.Errorf("discovery is off; cannot find node %s: %w", f.primaryNode, errdefs.ErrUnavailable)
	}
	for _, n := range s.opts.Peers() {
		if n.ID != f.primaryNode || n.Local {
			continue
		}
		if f.identity != "" && n.Fingerprint != f.identity {
			return n, fmt.Errorf("node %s now announces identity %q, not %s as when the replica was made (re-replicate if its key really changed): %w",
				n.Name, n.Fingerprint, f.identity, identity.ErrPeerMismatch)
		}
		return n, nil
	}
	return models.PeerNode{}, fmt.Errorf("primary node %s is not on the LAN (waiting for it to come back): %w", f.primaryNode, errdefs.ErrUnavailable)
}

// cacheDir is where replicas' images in transit are kept.
func cacheDir(dataDir string) string { return filepath.Join(dataDir, "replica", "incoming") }

// CacheDir returns the directory Replicate keeps images in transit in,
// for a node with data directory dataDir.
func CacheDir(dataDir string) string { return cacheDir(dataDir) }
