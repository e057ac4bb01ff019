package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/models"
)

// Which nodes may replicate with this one: the trust store under the data
// directory. These need no containerd, so they are functions of the
// configuration (`budgie trust` runs them without opening an engine); the
// Engine's methods are the same functions for nest and the dashboard.

// NodeIdentity loads (on first use, makes) this node's identity.
func NodeIdentity(cfg *config.Config) (*identity.Identity, error) {
	id, err := identity.Load(cfg.DataDir, identity.LoadOptions{Name: cfg.NodeName})
	if errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("%w (run budgie as the user that owns %s)", err, cfg.DataDir)
	}
	return id, err
}

// TrustList returns the trusted, pending and denied nodes.
func TrustList(ctx context.Context, cfg *config.Config) (models.TrustList, error) {
	store, err := identity.OpenTrustStore(cfg.DataDir, identity.TrustStoreOptions{})
	if err != nil {
		return models.TrustList{}, err
	}
	return store.List(ctx)
}

// TrustNode trusts the node whose full ID is id (a prefix is refused: the
// ID is what a person compared with `budgie id` on that node), naming it
// name (empty: the name it gave when it asked). This node's own ID is
// refused.
func TrustNode(ctx context.Context, cfg *config.Config, id, name string) (identity.ID, error) {
	nid, err := identity.ParseID(id)
	if err != nil {
		return identity.ID{}, err
	}
	self, err := NodeIdentity(cfg)
	if err != nil {
		return identity.ID{}, err
	}
	if nid == self.ID {
		return identity.ID{}, fmt.Errorf("%s is this node's own ID; run budgie trust add on the other node: %w", nid.Short(), errdefs.ErrInvalid)
	}
	store, err := identity.OpenTrustStore(cfg.DataDir, identity.TrustStoreOptions{})
	if err != nil {
		return identity.ID{}, err
	}
	return nid, store.Trust(ctx, nid, name)
}

// UntrustNode forgets a node (untrusts it, or drops its request or
// denial); ref is its full ID or a unique prefix of one in the store.
func UntrustNode(ctx context.Context, cfg *config.Config, ref string) (identity.ID, error) {
	return storeOp(ctx, cfg, ref, func(s *identity.TrustStore, id identity.ID) error { return s.Untrust(ctx, id) })
}

// DenyNode denies a node's pending request (later attempts are refused
// without being listed); ref is its full ID or a unique prefix.
func DenyNode(ctx context.Context, cfg *config.Config, ref string) (identity.ID, error) {
	return storeOp(ctx, cfg, ref, func(s *identity.TrustStore, id identity.ID) error { return s.Deny(ctx, id) })
}

// storeOp resolves ref in the trust store and applies f to it.
func storeOp(ctx context.Context, cfg *config.Config, ref string, f func(*identity.TrustStore, identity.ID) error) (identity.ID, error) {
	store, err := identity.OpenTrustStore(cfg.DataDir, identity.TrustStoreOptions{})
	if err != nil {
		return identity.ID{}, err
	}
	id, err := store.Find(ctx, ref)
	if err != nil {
		return identity.ID{}, err
	}
	return id, f(store, id)
}

// TrustList returns the trusted, pending and denied nodes (see TrustList).
func (e *Engine) TrustList(ctx context.Context) (models.TrustList, error) {
	return TrustList(ctx, e.Config)
}

// TrustPeer trusts node id, a pending request accepted (see TrustNode).
func (e *Engine) TrustPeer(ctx context.Context, id, name string) error {
	_, err := TrustNode(ctx, e.Config, id, name)
	return err
}

// DenyPeer denies a node's pending request; id is a full ID or a unique
// prefix (see DenyNode).
func (e *Engine) DenyPeer(ctx context.Context, id string) error {
	_, err := DenyNode(ctx, e.Config, id)
	return err
}
