package app

import (
	"context"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Replicate runs a replica of req.Ref here, or says what would run
// (engine.Replicate, as `budgie chirp REF [--dry-run]`). nest allows the
// replica none of this node's secrets: the ones the primary uses are
// listed as refused.
func (b *Backend) Replicate(ctx context.Context, req common.ReplicateRequest, progress func(common.ReplicateProgress)) (common.Replication, error) {
	res, err := b.eng.Replicate(ctx, engine.ReplicateOptions{Ref: req.Ref, Sync: req.Sync, DryRun: req.DryRun, Progress: func(p replica.Progress) {
		if progress != nil {
			progress(common.ReplicateProgress{What: p.What, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal,
				FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, Rate: p.Rate, ETA: p.ETA})
		}
	}})
	a := res.Admission
	return common.Replication{Spec: a.Spec, ImageDigest: res.Plan.ImageDigest, HaveImage: res.HaveImage,
		Volumes: a.Volumes, Refused: a.Refused, Container: res.Container}, err
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
