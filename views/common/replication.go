package common

import (
	"context"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// ReplicateProgress is one step of a replication's transfer.
type ReplicateProgress struct {
	// What is being copied: "image" or "volume NAME".
	What string
	// BytesDone of BytesTotal and FilesDone of FilesTotal are copied.
	BytesDone, BytesTotal int64
	FilesDone, FilesTotal int
	// Rate is bytes per second so far; ETA the time left at that rate.
	Rate float64
	ETA  time.Duration
}

// ReplicationBackend is a Backend that replicates containers of other
// nodes here and manages which nodes are trusted. The Peers view uses it
// when the Backend implements it.
type ReplicationBackend interface {
	// Replicate runs a replica of ref (ID or NAME@NODE) on this node,
	// reporting progress; sync keeps it in sync afterwards.
	Replicate(ctx context.Context, ref string, sync bool, progress func(ReplicateProgress)) (models.Container, error)
	// Replicas returns the sync status of this node's replicas.
	Replicas(ctx context.Context) ([]models.ReplicaStatus, error)
	// TrustList returns the trusted, pending and denied nodes.
	TrustList(ctx context.Context) (models.TrustList, error)
	// TrustPeer accepts a node; DenyPeer refuses its pending request.
	TrustPeer(ctx context.Context, id, name string) error
	DenyPeer(ctx context.Context, id string) error
}
