package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// InspectNetwork returns a network with the endpoints of the running
// containers attached to it.
func (e *Engine) InspectNetwork(ctx context.Context, name string) (models.Network, error) {
	n, err := e.Networks.Get(ctx, name)
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
	if _, err := e.Networks.Get(ctx, name); err != nil {
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
	return e.Networks.Remove(ctx, name)
}
