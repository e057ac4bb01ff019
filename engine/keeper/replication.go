package keeper

import (
	"context"
	"log/slog"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// runReplication starts replication when opts asks for it and returns a
// function that waits for it to stop after ctx ends. Replication that
// cannot start (the port is taken, no identity) is logged and left off.
func (k *keeper) runReplication(ctx context.Context, opts Options, log *slog.Logger) func() {
	if opts.Replication == nil {
		return func() {}
	}
	o := *opts.Replication
	o.Runtime, o.DataDir = opts.Runtime, opts.DataDir
	if o.Logger == nil {
		o.Logger = log.With("component", "replica")
	}
	if o.NodeName == "" {
		o.NodeName = opts.Runtime.Node()
	}
	if k.disc != nil {
		o.NodeID, o.Peers = k.disc.NodeID(), k.disc.Nodes
	} else if id, err := discovery.LoadNodeID(opts.DataDir); err == nil {
		o.NodeID = id
	}
	svc, err := replica.Start(ctx, o)
	if err != nil {
		log.Warn("replication off", "err", err)
		return func() {}
	}
	k.repl = svc
	return svc.Wait
}

// replicas answers GET /v1/replicas; without replication it lists none.
func (k *keeper) replicas() []models.ReplicaStatus {
	if k.repl == nil {
		return []models.ReplicaStatus{}
	}
	return k.repl.Status()
}
