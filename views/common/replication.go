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

// ReplicateRequest says what Replicate does.
type ReplicateRequest struct {
	// Ref is the container: an ID, a unique ID prefix or NAME@NODE.
	Ref string
	// Sync keeps the replica in sync after it starts.
	Sync bool
	// DryRun changes nothing: the Replication says what would run.
	DryRun bool
}

// Replication is what a replication ran here or, on a dry run, would
// run: the primary's plan as this node admitted it (the engine's
// replica.Admission), never the plan as the primary sent it.
type Replication struct {
	// Spec is the container spec that runs here.
	Spec models.ContainerSpec
	// ImageDigest is the image's digest; HaveImage is true when this node
	// has it already (it is not copied).
	ImageDigest string
	HaveImage   bool
	// Volumes are the named volumes synced, with their sizes on a dry run.
	Volumes []models.ReplicaVolume
	// Refused lists, for people, each part of the primary's plan left out.
	// Like every string in Spec, it is input from another node: show it
	// through models.Printable.
	Refused []string
	// Container is the replica; zero on a dry run.
	Container models.Container
}

// ReplicationBackend is a Backend that replicates containers of other
// nodes here and manages which nodes are trusted. The Peers view uses it
// when the Backend implements it.
type ReplicationBackend interface {
	// Replicate runs a replica of req.Ref on this node, reporting progress
	// (nil: none), or with req.DryRun only says what would run.
	Replicate(ctx context.Context, req ReplicateRequest, progress func(ReplicateProgress)) (Replication, error)
	// Replicas returns the sync status of this node's replicas.
	Replicas(ctx context.Context) ([]models.ReplicaStatus, error)
	// TrustList returns the trusted, pending and denied nodes.
	TrustList(ctx context.Context) (models.TrustList, error)
	// TrustPeer accepts a node; DenyPeer refuses its pending request.
	TrustPeer(ctx context.Context, id, name string) error
	DenyPeer(ctx context.Context, id string) error
}
