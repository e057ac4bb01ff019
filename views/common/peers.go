package common

import (
	"context"

	"github.com/budgie-sh/budgie/engine"
)

// PeerBackend is a Backend that lists the LAN's nodes (the Peers view).
type PeerBackend interface {
	// Peers returns the nodes seen on the LAN with their containers, this
	// node first: the keeper's table, or one browse of the LAN for
	// opts.Timeout when no keeper runs.
	Peers(ctx context.Context, opts engine.PeersOptions) (engine.PeersResult, error)
}

// KeeperStarter is a Backend that can start the node's keeper (nest does
// at launch when none runs).
type KeeperStarter interface {
	// KeeperRunning reports whether the node's keeper answers.
	KeeperRunning(ctx context.Context) bool
	// StartKeeper starts the keeper detached and waits until it answers.
	StartKeeper(ctx context.Context) error
}
