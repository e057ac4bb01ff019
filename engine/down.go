package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/compose"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/stack"
	"github.com/budgie-sh/budgie/models"
)

// DownOptions tune Down.
type DownOptions struct {
	// Timeout is how long each container has to stop before SIGKILL; nil
	// means its own stop_timeout (else 10 s).
	Timeout *time.Duration
	// Volumes also removes the named volumes the bundles' containers mount,
	// except those a container outside them still uses (see VolumeKept).
	Volumes bool
	// Removed is called for each container removed, one call at a time;
	// nil means nothing.
	Removed func(models.Container)
	// VolumeRemoved is called for each named volume removed; nil means nothing.
	VolumeRemoved func(name string)
	// VolumeKept is called for each named volume left because other
	// containers use it (their names); nil means nothing.
	VolumeKept func(name string, usedBy []string)
}

// Down takes down what `budgie run` brought up from bundle files: every
// bundle is parsed first (a bad one fails with its file:line, as run
// does, and nothing is touched), then the containers of each bundle
// container — a replicated one's replicas too — are stopped and removed in
// reverse depends_on order (dependents first, independent ones in
// parallel). Containers that do not exist are skipped, so Down is
// idempotent. opts.Volumes then removes their named volumes. Down goes on
// past a failure and returns every failure joined.
func (e *Engine) Down(ctx context.Context, paths []string, opts DownOptions) error {
	specs, composed, err := downSpecs(ctx, paths)
	if err != nil {
		return err
	}
	levels, err := stack.Levels(specs)
	if err != nil {
		return err
	}
	all, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return err
	}
	members, taken := map[string][]models.Container{}, map[string]bool{}
	for _, s := range specs {
		for _, c := range all {
			if (c.Name == s.Name || c.Service == s.Name) && !taken[c.ID] {
				members[s.Name], taken[c.ID] = append(members[s.Name], c), true
			}
		}
	}
	var errs []error
	var mu sync.Mutex
	for i := len(levels) - 1; i >= 0; i-- {
		var wg sync.WaitGroup
		for _, name := range levels[i] {
			for _, c := range members[name] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					removed, err := e.takeDown(ctx, c, opts.Timeout)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					} else if removed && opts.Removed != nil {
						opts.Removed(c)
					}
				}()
			}
		}
		wg.Wait()
	}
	if opts.Volumes {
		errs = append(errs, e.removeVolumes(ctx, withoutExternal(namedVolumes(specs, members), composed), opts)...)
	}
	errs = append(errs, e.downCompose(ctx, composed)...)
	return errors.Join(errs...)
}

// downSpecs parses every bundle (converting compose files, whose
// conversions it returns) and returns their containers' specs.
func downSpecs(ctx context.Context, paths []string) ([]models.ContainerSpec, []*compose.Result, error) {
	var specs []models.ContainerSpec
	var composed []*compose.Result
	for _, path := range paths {
		b, res, err := loadBundle(ctx, path, "")
		if err != nil {
			return nil, nil, err
		}
		if res != nil {
			composed = append(composed, res)
		}
		specs = append(specs, b.Containers...)
	}
	return specs, composed, nil
}

// takeDown stops c (marked as stopped by the user, so that the keeper
// leaves it be) and removes it; a container already gone is no error
// (removed false).
func (e *Engine) takeDown(ctx context.Context, c models.Container, timeout *time.Duration) (removed bool, err error) {
	if _, err := e.Runtime.Stop(ctx, c.ID, runtime.StopOptions{Timeout: timeout}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return false, err
	}
	if _, err := e.Runtime.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}); err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// namedVolumes are the named volumes of specs and of the containers made
// from them (which may have been run from an older bundle), sorted.
func namedVolumes(specs []models.ContainerSpec, members map[string][]models.Container) []string {
	seen := map[string]bool{}
	add := func(vs []models.VolumeMount) {
		for _, v := range vs {
			if v.Kind == models.VolumeNamed {
				seen[v.Source] = true
			}
		}
	}
	for _, s := range specs {
		add(s.Volumes)
		for _, c := range members[s.Name] {
			add(c.Spec.Volumes)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// removeVolumes removes each named volume that exists and no container
// uses; one still in use is reported to opts.VolumeKept.
func (e *Engine) removeVolumes(ctx context.Context, names []string, opts DownOptions) []error {
	var errs []error
	for _, name := range names {
		v, err := e.Runtime.Volume(ctx, name)
		if errors.Is(err, errdefs.ErrNotFound) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(v.UsedBy) > 0 {
			if opts.VolumeKept != nil {
				opts.VolumeKept(name, v.UsedBy)
			}
			continue
		}
		if err := e.Runtime.RemoveVolume(ctx, name, false); err != nil {
			errs = append(errs, fmt.Errorf("down: %w", err))
			continue
		}
		if opts.VolumeRemoved != nil {
			opts.VolumeRemoved(name)
		}
	}
	return errs
}
