package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// InspectNetwork returns a network with the endpoints of the running
// containers attached to it.
func (e *Engine) InspectNetwork(ctx context.Context, name string) (models.Network, error) {
	n, err := e.NetworkManager.Get(ctx, name)
	if err != nil {
		return n, err
	}
	cs, err := e.Runtime.List(ctx, runtime.ListOptions{})
	if err != nil {
		return n, err
	}
	n.Endpoints = nil
	for _, c := range cs {
		for _, ep := range c.Endpoints {
			if ep.Network == name {
				ep.ContainerName = c.Name
				n.Endpoints = append(n.Endpoints, ep)
			}
		}
	}
	slices.SortFunc(n.Endpoints, func(a, b models.Endpoint) int { return strings.Compare(a.ContainerName, b.ContainerName) })
	return n, nil
}

// NetworkUsers lists the containers, in any state, whose spec joins network
// name (the default network for those that name none).
func (e *Engine) NetworkUsers(ctx context.Context, name string) ([]models.Container, error) {
	cs, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	var out []models.Container
	for _, c := range cs {
		if runtime.UsesHostNetwork(c.Spec) {
			continue
		}
		nets := c.Spec.Networks
		if len(nets) == 0 {
			nets = []string{models.DefaultNetwork}
		}
		if slices.Contains(nets, name) {
			out = append(out, c)
		}
	}
	return out, nil
}

// RemoveNetwork removes a network no container uses (docker network rm):
// a container that names it, running or not, keeps it.
func (e *Engine) RemoveNetwork(ctx context.Context, name string) error {
	if _, err := e.NetworkManager.Get(ctx, name); err != nil {
		return err
	}
	users, err := e.NetworkUsers(ctx, name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		names := make([]string, len(users))
		for i, c := range users {
			names[i] = c.Name
		}
		return fmt.Errorf("network %s is in use by %s (remove them, or disconnect them: budgie network disconnect %s CONTAINER): %w",
			name, strings.Join(names, ", "), name, errdefs.ErrConflict)
	}
	if err := e.Runtime.CollectLeases(ctx); err != nil {
		return err
	}
	return e.NetworkManager.Remove(ctx, name)
}

// Networks lists the node's networks, budgie0 first, each with the
// endpoints of its running containers (as InspectNetwork).
func (e *Engine) Networks(ctx context.Context) ([]models.Network, error) {
	nets, err := e.NetworkManager.List(ctx)
	if err != nil {
		return nil, err
	}
	out := nets[:0]
	for _, n := range nets {
		full, err := e.InspectNetwork(ctx, n.Name)
		if errors.Is(err, errdefs.ErrNotFound) {
			continue // removed since the listing (by nest, another CLI): not an error of ls
		}
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// CreateNetwork makes a network; an empty opts.Subnet or Gateway is chosen.
func (e *Engine) CreateNetwork(ctx context.Context, name string, opts network.CreateOptions) (models.Network, error) {
	return e.NetworkManager.Create(ctx, name, opts)
}

// Connect joins a running container to opts.Network, live, and keeps it
// in the container's spec.
func (e *Engine) Connect(ctx context.Context, ref string, opts runtime.NetworkOptions) (models.Endpoint, error) {
	return e.Runtime.Connect(ctx, ref, opts)
}

// Disconnect takes a container off opts.Network.
func (e *Engine) Disconnect(ctx context.Context, ref string, opts runtime.NetworkOptions) error {
	return e.Runtime.Disconnect(ctx, ref, opts)
}

// Services returns every published port with its backends and counters,
// from the keeper's load balancer.
func (e *Engine) Services(ctx context.Context) ([]models.ServiceStats, error) {
	return e.Keeper.Services(ctx)
}
