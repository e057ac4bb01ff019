package common

import (
	"context"

	"github.com/budgie-sh/budgie/models"
)

// PeerBackend is a Backend that knows the containers on the LAN (from the
// node's keeper, which browses over mDNS). The Peers view uses it when the
// Backend implements it; it is separate from Backend so that views' own
// test backends need not implement it.
type PeerBackend interface {
	// Peers returns the nodes seen on the LAN with their containers, this
	// node first: the keeper's table, or one browse of the LAN when no
	// keeper runs.
	Peers(ctx context.Context) ([]models.PeerNode, error)
}

// KeeperStarter is a Backend that can start the node's keeper, which nest
// does on launch when none runs (discovery, restarts and replication live
// in it). Views' test backends need not implement it.
type KeeperStarter interface {
	// KeeperRunning reports whether the node's keeper answers.
	KeeperRunning(ctx context.Context) bool
	// StartKeeper starts the keeper detached and waits until it answers.
	StartKeeper(ctx context.Context) error
}
