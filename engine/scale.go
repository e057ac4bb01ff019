package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// ScaleOptions tune Scale.
type ScaleOptions struct {
	// KeeperArgv starts a detached keeper when none runs (see RunBundleOptions).
	KeeperArgv []string
	// Started is called for each replica once it runs.
	Started func(models.Container)
	// Removed is called for each replica removed.
	Removed func(models.Container)
}

// Scale sets the number of replicas of service to n (budgie scale web 5):
// it starts the missing replicas, numbered from 1 and filling gaps, from
// the spec the others were made from, and removes the highest-numbered ones
// beyond n. The load balancer in the keeper follows on its own.
func (e *Engine) Scale(ctx context.Context, service string, n int, opts ScaleOptions) ([]models.Container, error) {
	if n < 0 {
		return nil, fmt.Errorf("cannot scale %s to %d: the count is 0 or more: %w", service, n, errdefs.ErrInvalid)
	}
	replicas, err := e.Replicas(ctx, service)
	if err != nil {
		return nil, err
	}
	base := replicas[0]
	if base.Replica == 0 {
		return nil, fmt.Errorf("%s was not run with replicas (add replicas: {count: %d} to its bundle and run it again): %w",
			service, n, errdefs.ErrInvalid)
	}
	spec := base.Spec
	spec.Name, spec.Hostname = service, ""
	if base.Spec.Hostname != base.Name {
		spec.Hostname = base.Spec.Hostname
	}
	if err := e.ensureKeeper(ctx, []models.ContainerSpec{spec}, opts.KeeperArgv); err != nil {
		return nil, err
	}
	have := map[int]models.Container{}
	for _, c := range replicas {
		have[c.Replica] = c
	}
	var missing []int
	for i := 1; i <= n; i++ {
		if _, ok := have[i]; !ok {
			missing = append(missing, i)
		}
	}
	for k, i := range missing {
		c, err := e.Runtime.Run(ctx, runtime.ReplicaSpec(spec, i), runtime.RunOptions{
			BundlePath: base.BundlePath, Owner: base.Owner, Service: service, Replica: i, Ports: base.Ports,
			DeferHosts: k < len(missing)-1, // the last start writes every hosts file once
		})
		if err != nil {
			if k > 0 { // the replicas started so far deferred theirs
				_ = e.Runtime.RefreshHosts(context.WithoutCancel(ctx))
			}
			return nil, fmt.Errorf("scale %s to %d: %w", service, n, err)
		}
		if opts.Started != nil {
			opts.Started(c)
		}
	}
	for _, c := range replicas {
		if c.Replica <= n {
			continue
		}
		if _, err := e.Runtime.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}); err != nil {
			return nil, fmt.Errorf("scale %s to %d: %w", service, n, err)
		}
		if opts.Removed != nil {
			opts.Removed(c)
		}
	}
	if n == 0 {
		return nil, nil
	}
	return e.Replicas(ctx, service)
}

// Replicas lists the containers of service, by replica number; a single
// container (no replicas) is its own service.
func (e *Engine) Replicas(ctx context.Context, service string) ([]models.Container, error) {
	all, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	var out []models.Container
	for _, c := range all {
		if c.Service == service {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no such service: %s (see: budgie ps -a): %w", service, errdefs.ErrNotFound)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Replica < out[j].Replica })
	return out, nil
}
