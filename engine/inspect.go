package engine

import (
	"context"

	"github.com/budgie-sh/budgie/models"
)

// InspectOptions tune Inspect.
type InspectOptions struct {
	// Services are the keeper's load-balancer services, when the caller
	// already has them (inspecting many containers); nil means ask.
	Services []models.ServiceStats
}

// Inspect returns a container in docker inspect's shape plus, when it
// publishes ports, the load balancer's per-backend counters of its service
// (none when no keeper answers). The CLI and nest both call it.
func (e *Engine) Inspect(ctx context.Context, ref string, opts InspectOptions) (models.Inspect, error) {
	in, err := e.Runtime.Inspect(ctx, ref)
	if err != nil || len(in.NetworkSettings.Ports) == 0 {
		return in, err
	}
	services := opts.Services
	if services == nil {
		services, _ = e.Keeper.Services(ctx)
	}
	for _, s := range services {
		if s.Name == in.Budgie.Service {
			in.Budgie.LoadBalancer = append(in.Budgie.LoadBalancer, s)
		}
	}
	return in, nil
}
