package common

import (
	"context"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// NetworkBackend is a Backend that manages networks (the Networks view).
type NetworkBackend interface {
	// Networks lists the networks, budgie0 first, each with the endpoints
	// of its running containers.
	Networks(ctx context.Context) ([]models.Network, error)
	// CreateNetwork makes a network; an empty subnet or gateway is chosen.
	CreateNetwork(ctx context.Context, name string, opts network.CreateOptions) (models.Network, error)
	// RemoveNetwork removes a network no container uses.
	RemoveNetwork(ctx context.Context, name string) error
	// Connect joins a running container to a network.
	Connect(ctx context.Context, ref string, opts runtime.NetworkOptions) (models.Endpoint, error)
	// Disconnect takes a container off a network.
	Disconnect(ctx context.Context, ref string, opts runtime.NetworkOptions) error
}

// ServiceBackend is a Backend that reports the load balancer's services.
type ServiceBackend interface {
	// Services returns every published port with its backends.
	Services(ctx context.Context) ([]models.ServiceStats, error)
}
