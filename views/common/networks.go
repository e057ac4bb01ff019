package common

import (
	"context"

	"github.com/budgie-sh/budgie/models"
)

// NetworkBackend is a Backend that manages the node's networks. The
// Networks view uses it when the Backend implements it; it is separate from
// Backend so that views' own test backends need not implement it.
type NetworkBackend interface {
	// Networks lists the networks, budgie0 first, each with the endpoints
	// of its running containers.
	Networks(ctx context.Context) ([]models.Network, error)
	// CreateNetwork makes a network; empty subnet and gateway are chosen.
	CreateNetwork(ctx context.Context, name, subnet, gateway string, internal bool) error
	// RemoveNetwork removes a network no container uses.
	RemoveNetwork(ctx context.Context, name string) error
	// Connect joins a running container to a network.
	Connect(ctx context.Context, network, container string) error
	// Disconnect takes a container off a network.
	Disconnect(ctx context.Context, network, container string) error
}

// ServiceBackend is a Backend that knows the load balancer's services and
// their per-backend counters (from the node's keeper).
type ServiceBackend interface {
	// Services returns every published port with its backends.
	Services(ctx context.Context) ([]models.ServiceStats, error)
}
