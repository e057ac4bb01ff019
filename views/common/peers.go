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
	// node first. It fails with errdefs.ErrUnavailable when no keeper runs.
	Peers(ctx context.Context) ([]models.PeerNode, error)
}
