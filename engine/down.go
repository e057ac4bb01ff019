package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
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
	// Kept is called for each network or named volume (kind "network",
	// "volume") left because the compose project or manifest did not
	// create it (it existed before, or another made it); nil means nothing.
	Kept func(kind, name string)
}

// Down takes down what `budgie run` brought up from bundle files: every
// bundle is parsed first (a bad one fails with its file:line, as run
// does, and nothing is touched), then the containers of each bundle
// container — a replicated one's replicas too — are stopped and removed in
// reverse depends_on order (dependents first, independent ones in
// parallel). Containers that do not exist are skipped, so Down is
// idempotent; one made by another compose project, by kube play or by a
// plain run (for a compose file's) fails Down with errdefs.ErrConflict
// before anything is touched. opts.Volumes then removes their named
// volumes: for a compose file only those its runs created. A compose
// file's networks and secrets its runs made go too. A compose file that
// loads but no longer converts (a secret's variable or file missing, say)
// is taken down by its project's name: whatever its runs made. Down goes
// on past a failure and returns every failure joined.
func (e *Engine) Down(ctx context.Context, paths []string, opts DownOptions) error {
	var groups []downGroup
	for _, path := range paths {
		g, err := loadDownGroup(ctx, path)
		if err != nil {
			return err
		}
		groups = append(groups, g)
	}
	return e.downGroups(ctx, groups, opts)
}

// downGroup is one file given to down: its containers' specs, their owner,
// and what else down removes for it.
type downGroup struct {
	owner string
	specs []models.ContainerSpec
	// byOwner: the specs are not known (a compose file that no longer
	// converts); the owner's containers are taken down, whatever their
	// names. err is the conversion's error, returned when the owner has
	// nothing on the node.
	byOwner bool
	err     error
	// project and networks are a compose file's project name and the
	// non-external networks it names; external its external volumes.
	project  string
	networks []string
	external map[string]bool
	// claims are named volumes -v considers beyond the containers' (kube's
	// claims).
	claims []string
}

// loadDownGroup parses one file given to down (see loadBundle).
func loadDownGroup(ctx context.Context, path string) (downGroup, error) {
	b, res, err := loadBundle(ctx, path, "")
	if err == nil && res == nil {
		return downGroup{specs: b.Containers}, nil
	}
	if err == nil {
		g := downGroup{owner: composeOwner(res.Project), specs: b.Containers, project: res.Project, external: externalVolumes([]*compose.Result{res})}
		for _, n := range res.Networks {
			if !n.External {
				g.networks = append(g.networks, n.Name)
			}
		}
		return g, nil
	}
	if !isComposeFile(path) {
		return downGroup{}, err
	}
	src, lerr := compose.Load(ctx, path, compose.LoadOptions{})
	if lerr != nil {
		return downGroup{}, err
	}
	name := src.Project.Name
	return downGroup{owner: composeOwner(name), byOwner: true, err: err, project: name}, nil
}

// isComposeFile reports whether run and down take path for a compose file.
func isComposeFile(path string) bool {
	if strings.EqualFold(filepath.Ext(path), ".bun") {
		return false
	}
	data, err := compose.ReadFile(path)
	return err == nil && compose.IsCompose(data)
}

// ownerSpecs returns the specs of owner's containers, a service of
// replicas once, for a down that does not know them from the file;
// depends_on is kept only between them.
func ownerSpecs(owner string, all []models.Container) []models.ContainerSpec {
	var specs []models.ContainerSpec
	seen := map[string]bool{}
	for _, c := range all {
		if c.Owner != owner {
			continue
		}
		s := c.Spec
		s.Name = c.Name
		if c.Replica > 0 {
			s.Name = c.Service
		}
		if !seen[s.Name] {
			seen[s.Name] = true
			specs = append(specs, s)
		}
	}
	for i := range specs {
		var deps []models.Dependency
		for _, d := range specs[i].DependsOn {
			if seen[d.Name] {
				deps = append(deps, d)
			}
		}
		specs[i].DependsOn = deps
	}
	return specs
}

// downGroups is the one path Down and KubeDown take: the groups'
// containers are found (each once), checked to be their owners' (else
// errdefs.ErrConflict and nothing is touched), stopped and removed,
// dependents first; then, with opts.Volumes, their named volumes (an
// owner's only those marked as its own, a plain bundle's those no owner
// marked), then compose projects' networks and secrets.
func (e *Engine) downGroups(ctx context.Context, groups []downGroup, opts DownOptions) error {
	all, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return err
	}
	var specs []models.ContainerSpec
	ownerOf := map[string]string{}
	for i := range groups {
		g := &groups[i]
		if g.byOwner {
			g.specs = ownerSpecs(g.owner, all)
			if len(g.specs) == 0 && len(e.ownedBy(ctx, ownedNetwork, g.owner)) == 0 && len(e.ownedBy(ctx, ownedVolume, g.owner)) == 0 {
				return g.err
			}
		}
		for _, s := range g.specs {
			specs = append(specs, s)
			ownerOf[s.Name] = g.owner
		}
	}
	levels, err := stack.Levels(specs)
	if err != nil {
		return err
	}
	if err := checkOwners(specs, ownerOf, all, nil); err != nil {
		return err
	}
	mem := members(specs, all)
	var errs []error
	var mu sync.Mutex
	for i := len(levels) - 1; i >= 0; i-- {
		var wg sync.WaitGroup
		for _, name := range levels[i] {
			for _, c := range mem[name] {
				wg.Go(func() {
					removed, err := e.takeDown(ctx, c, opts.Timeout)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					} else if removed && opts.Removed != nil {
						opts.Removed(c)
					}
				})
			}
		}
		wg.Wait()
	}
	if opts.Volumes {
		for _, g := range groups {
			errs = append(errs, e.removeVolumes(ctx, e.downVolumes(ctx, g, mem, opts), opts)...)
		}
	}
	for _, g := range groups {
		if g.project != "" {
			errs = append(errs, e.downCompose(ctx, g.project, g.networks, opts.Kept)...)
		}
	}
	return errors.Join(errs...)
}

// downVolumes are the named volumes down -v removes for g: those of its
// specs, of the containers made from them and its claims (and, for an
// owner, every volume marked as its own) that the group's owner made —
// for a plain bundle, those no owner made. External volumes are kept, as
// docker compose keeps them; one the owner found existing is reported to
// opts.Kept.
func (e *Engine) downVolumes(ctx context.Context, g downGroup, mem map[string][]models.Container, opts DownOptions) []string {
	names := namedVolumes(g.specs, mem)
	names = append(names, g.claims...)
	if g.owner != "" {
		names = append(names, e.ownedBy(ctx, ownedVolume, g.owner)...)
	}
	sort.Strings(names)
	names = slices.Compact(names)
	var out []string
	for _, n := range names {
		if g.external[n] {
			continue
		}
		if e.ownerOf(ctx, ownedVolume, n) != g.owner {
			if _, err := e.Runtime.Volume(ctx, n); err == nil && opts.Kept != nil {
				opts.Kept("volume", n)
			}
			continue
		}
		out = append(out, n)
	}
	return out
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
		e.clearOwner(ownedVolume, name)
		if opts.VolumeRemoved != nil {
			opts.VolumeRemoved(name)
		}
	}
	return errs
}
