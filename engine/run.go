package engine

import (
	"context"
	"fmt"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/stack"
	"github.com/budgie-sh/budgie/models"
)

// RunBundleOptions tune RunBundles.
type RunBundleOptions struct {
	// NameOverride renames the one container of the bundles (--name).
	NameOverride string
	// Single requires the bundles to hold exactly one container (--attach).
	Single bool
	// AutoRemove marks the containers for removal when they exit (--rm).
	AutoRemove bool
	// Pull fetches a missing image; nil means a pull without progress.
	Pull func(ctx context.Context, ref string) error
	// KeeperArgv is the command that starts a detached keeper when a
	// container needs one (restart policy, health check): front ends pass
	// Engine.KeeperCommand(); nil means a keeper must already run for such
	// containers.
	KeeperArgv []string
	// Started is called for each container once its task runs.
	Started func(models.Container)
}

// RunBundles runs the containers of bundle files the way `budgie run` and
// nest both do: every bundle is parsed and checked first (nothing starts if
// one is bad or asks for what cannot run yet, each problem named with its
// file:line), the node's keeper is started when a container needs it, and
// the containers start in dependency order, independent ones in parallel.
// On failure, the containers it started are removed again.
func (e *Engine) RunBundles(ctx context.Context, paths []string, opts RunBundleOptions) ([]models.Container, error) {
	specs, bundleOf, err := loadBundles(paths, opts)
	if err != nil {
		return nil, err
	}
	if err := e.ensureKeeper(ctx, specs, opts.KeeperArgv); err != nil {
		return nil, err
	}
	pull := opts.Pull
	if pull == nil {
		pull = func(ctx context.Context, ref string) error {
			_, err := e.ImageService.Pull(ctx, ref, images.PullOptions{})
			return err
		}
	}
	published, err := e.publish(ctx, specs)
	if err != nil {
		return nil, err
	}
	cs, err := stack.Up(ctx, e.Runtime, specs, stack.Options{
		Run: func(s models.ContainerSpec) runtime.RunOptions {
			return runtime.RunOptions{BundlePath: bundleOf[s.Name], AutoRemove: opts.AutoRemove, Pull: pull, Ports: published[s.Name]}
		},
		Started: opts.Started,
	})
	if err != nil {
		e.unpublish(ctx, published)
	}
	return cs, err
}

// publish has the keeper's proxy bind the host ports of every spec that
// publishes some, before any container exists, so that a taken port fails
// the run with nothing made. It returns the ports by service, random host
// ports resolved.
func (e *Engine) publish(ctx context.Context, specs []models.ContainerSpec) (map[string][]models.PortMapping, error) {
	out := map[string][]models.PortMapping{}
	for _, s := range specs {
		if len(s.Ports) == 0 {
			continue
		}
		req := keeper.PublishRequest{Service: s.Name, Ports: s.Ports}
		if s.Replicas != nil {
			req.Strategy = s.Replicas.Strategy
		}
		ports, err := e.Keeper.Publish(ctx, req)
		if err != nil {
			e.unpublish(ctx, out)
			return nil, fmt.Errorf("publish ports of %s: %w", s.Name, err)
		}
		out[s.Name] = ports
	}
	return out, nil
}

// unpublish releases the ports publish bound; the keeper keeps those of a
// service that still has containers.
func (e *Engine) unpublish(ctx context.Context, published map[string][]models.PortMapping) {
	for service := range published {
		_ = e.Keeper.Unpublish(context.WithoutCancel(ctx), service)
	}
}

// loadBundles parses and checks every bundle, returning the specs and the
// bundle path of each container name.
func loadBundles(paths []string, opts RunBundleOptions) ([]models.ContainerSpec, map[string]string, error) {
	var specs []models.ContainerSpec
	bundleOf := map[string]string{}
	for _, path := range paths {
		b, err := bundle.ParseFile(path, bundle.ParseOptions{NameOverride: opts.NameOverride})
		if err != nil {
			return nil, nil, err
		}
		for _, s := range b.Containers {
			if opts.AutoRemove && s.RestartPolicy.Name != "" && s.RestartPolicy.Name != models.RestartNo {
				return nil, nil, fmt.Errorf("--rm conflicts with %s's restart_policy %s (a removed container cannot be restarted): %w",
					s.Name, s.RestartPolicy.Name, errdefs.ErrInvalid)
			}
			specs = append(specs, s)
			bundleOf[s.Name] = b.Path
		}
	}
	if (opts.Single || opts.NameOverride != "") && len(specs) != 1 {
		return nil, nil, fmt.Errorf("this needs exactly one container, the bundles hold %d: %w", len(specs), errdefs.ErrInvalid)
	}
	return specs, bundleOf, nil
}

// ensureKeeper starts the node's keeper, detached, when a container needs
// one and none answers.
func (e *Engine) ensureKeeper(ctx context.Context, specs []models.ContainerSpec, argv []string) error {
	need := false
	for _, s := range specs {
		need = need || runtime.NeedsKeeper(s)
	}
	if !need {
		return nil
	}
	if len(argv) == 0 {
		if _, err := e.Keeper.Ping(ctx); err != nil {
			return fmt.Errorf("a restart policy, health check, published port or replicas need the node keeper, and none runs (start it: budgie --headless serve): %w", errdefs.ErrUnavailable)
		}
		return nil
	}
	return e.startKeeper(ctx, argv)
}
