package app

import (
	"context"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Networks lists the node's networks with their running containers.
func (b *Backend) Networks(ctx context.Context) ([]models.Network, error) {
	nets, err := b.eng.Networks.List(b.ns(ctx))
	if err != nil {
		return nil, err
	}
	for i := range nets {
		if nets[i], err = b.eng.InspectNetwork(b.ns(ctx), nets[i].Name); err != nil {
			return nil, err
		}
	}
	return nets, nil
}

// CreateNetwork makes a network.
func (b *Backend) CreateNetwork(ctx context.Context, name, subnet, gateway string, internal bool) error {
	_, err := b.eng.Networks.Create(b.ns(ctx), name, network.CreateOptions{Subnet: subnet, Gateway: gateway, Internal: internal})
	return err
}

// RemoveNetwork removes a network no container uses.
func (b *Backend) RemoveNetwork(ctx context.Context, name string) error {
	return b.eng.RemoveNetwork(b.ns(ctx), name)
}

// Connect joins a running container to a network.
func (b *Backend) Connect(ctx context.Context, network, container string) error {
	_, err := b.eng.Runtime.Connect(b.ns(ctx), container, runtime.NetworkOptions{Network: network})
	return err
}

// Disconnect takes a container off a network.
func (b *Backend) Disconnect(ctx context.Context, network, container string) error {
	return b.eng.Runtime.Disconnect(b.ns(ctx), container, runtime.NetworkOptions{Network: network})
}

// Services returns the keeper's load-balancer counters.
func (b *Backend) Services(ctx context.Context) ([]models.ServiceStats, error) {
	return b.eng.Keeper.Services(ctx)
}

var (
	_ common.NetworkBackend = (*Backend)(nil)
	_ common.ServiceBackend = (*Backend)(nil)
)
