package app

import (
	"context"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Replicate runs a replica of ref here (engine.Replicate, as `budgie chirp REF`).
func (b *Backend) Replicate(ctx context.Context, ref string, sync bool, progress func(common.ReplicateProgress)) (models.Container, error) {
	res, err := b.eng.Replicate(ctx, engine.ReplicateOptions{Ref: ref, Sync: sync, Progress: func(p replica.Progress) {
		if progress != nil {
			progress(common.ReplicateProgress{What: p.What, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal,
				FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, Rate: p.Rate, ETA: p.ETA})
		}
	}})
	return res.Container, err
}

// Replicas returns the keeper's sync status of this node's replicas.
func (b *Backend) Replicas(ctx context.Context) ([]models.ReplicaStatus, error) {
	return b.eng.Keeper.Replicas(ctx)
}

// TrustList returns the trusted, pending and denied nodes.
func (b *Backend) TrustList(ctx context.Context) (models.TrustList, error) {
	return b.eng.TrustList(ctx)
}

// TrustPeer accepts a node.
func (b *Backend) TrustPeer(ctx context.Context, id, name string) error {
	return b.eng.TrustPeer(ctx, id, name)
}

// DenyPeer refuses a node's pending request.
func (b *Backend) DenyPeer(ctx context.Context, id string) error { return b.eng.DenyPeer(ctx, id) }

var _ common.ReplicationBackend = (*Backend)(nil)
