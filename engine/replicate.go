package engine

import (
	"context"
	"fmt"

	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// ReplicateOptions tune Replicate.
type ReplicateOptions struct {
	// Ref names the container: an ID, a unique ID prefix or NAME@NODE.
	Ref string
	// Name renames the local replica; empty keeps the primary's name.
	Name string
	// Sync keeps the replica in sync after it starts (through the keeper).
	Sync bool
	// DryRun only returns the plan and its admission (what would run here
	// and what is refused).
	DryRun bool
	// Secrets are this node's secrets the replica may read (chirp
	// --secret); nil allows none.
	Secrets []string
	// Peers returns the LAN's nodes; nil means the keeper's table.
	Peers func(ctx context.Context) ([]models.PeerNode, error)
	// Progress receives the transfer's progress; nil means none.
	Progress func(replica.Progress)
}

// Replicate runs a replica of a container of another node here: the way
// `budgie chirp REF` and nest's Peers view (R) both do it. It loads this
// node's identity and trust store, pins the primary's announced identity,
// copies the image and the volumes over the replication link, and runs the
// replica (its ports published by the keeper first).
func (e *Engine) Replicate(ctx context.Context, opts ReplicateOptions) (replica.Result, error) {
	id, err := identity.Load(e.Config.DataDir, identity.LoadOptions{Name: e.Config.NodeName})
	if err != nil {
		return replica.Result{}, err
	}
	store, err := identity.OpenTrustStore(e.Config.DataDir, identity.TrustStoreOptions{})
	if err != nil {
		return replica.Result{}, err
	}
	peers := opts.Peers
	if peers == nil {
		peers = func(ctx context.Context) ([]models.PeerNode, error) {
			resp, err := e.Keeper.Peers(ctx)
			return resp.Nodes, err
		}
	}
	return replica.Replicate(ctx, replica.Node{Identity: id, Trust: store, Runtime: e.Runtime}, replica.ReplicateOptions{
		Ref: opts.Ref, Name: opts.Name, Sync: opts.Sync, DryRun: opts.DryRun, Secrets: opts.Secrets, Images: e.ImageService,
		Peers: peers, Run: e.runReplica, CacheDir: replica.CacheDir(e.Config.DataDir), Progress: opts.Progress,
	})
}

// runReplica runs a replica's spec, having the keeper publish its ports
// first when it has some.
func (e *Engine) runReplica(ctx context.Context, spec models.ContainerSpec) (models.Container, error) {
	var ports []models.PortMapping
	if len(spec.Ports) > 0 {
		p, err := e.Keeper.Publish(ctx, keeper.PublishRequest{Service: spec.Name, Ports: spec.Ports})
		if err != nil {
			return models.Container{}, fmt.Errorf("publish ports of %s: %w", spec.Name, err)
		}
		ports = p
	}
	ctr, err := e.Runtime.Run(ctx, spec, runtime.RunOptions{Ports: ports})
	if err != nil && len(ports) > 0 {
		_ = e.Keeper.Unpublish(context.WithoutCancel(ctx), spec.Name)
	}
	return ctr, err
}

// ReplicaStatus returns the keeper's sync status of this node's replicas.
func (e *Engine) ReplicaStatus(ctx context.Context) ([]models.ReplicaStatus, error) {
	return e.Keeper.Replicas(ctx)
}
