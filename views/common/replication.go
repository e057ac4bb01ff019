package common

import (
	"context"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// ReplicationBackend is a Backend that replicates containers of other
// nodes here and manages which nodes are trusted (the Peers view).
type ReplicationBackend interface {
	// Replicate runs a replica of opts.Ref on this node, reporting
	// progress, or with opts.DryRun only says what would run.
	Replicate(ctx context.Context, opts engine.ReplicateOptions) (replica.Result, error)
	// ReplicaStatus returns the sync status of this node's replicas.
	ReplicaStatus(ctx context.Context) ([]models.ReplicaStatus, error)
	// TrustList returns the trusted, pending and denied nodes.
	TrustList(ctx context.Context) (models.TrustList, error)
	// TrustPeer accepts a node; DenyPeer refuses its pending request.
	TrustPeer(ctx context.Context, id, name string) error
	DenyPeer(ctx context.Context, id string) error
}
