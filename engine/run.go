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
	"github.com/budgie-sh/budgie/engine/timing"
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
	// Started is called for each container once its task runs; on the
	// reconcile path (see Reconciled) Reconciled is called instead.
	Started func(models.Container)
	// Attach, with Single, connects the container's main process to the
	// caller's streams when its spec has tty or stdin_open (budgie run
	// -it, run --attach): see runtime.AttachOptions. Its output is then
	// also written to the container's log. nil, or a spec with neither
	// field, means the output goes to the log alone (follow it with Logs).
	// It cannot be combined with Reconciled (an unchanged container gets
	// no new task to attach to).
	Attach *runtime.AttachOptions
	// Reconciled, when set, makes a run of bundles whose containers
	// already exist reconcile them as docker compose up does instead of
	// failing on the names (see reconcile): it is then called once per
	// container of the bundles, in dependency order, with what was done.
	// When none of them exists yet the run is a plain one (Started is
	// called, Reconciled is not). nil means an existing name fails the run
	// with errdefs.ErrConflict.
	Reconciled func(ReconcileResult)
}

// RunBundles runs the containers of bundle files the way `budgie run` and
// nest both do: every bundle is parsed and checked first (nothing starts if
// one is bad or asks for what cannot run yet, each problem named with its
// file:line), the node's keeper is started when a container needs it, and
// the containers start in dependency order, independent ones in parallel.
// A compose file's containers, and the networks and volumes its run
// creates, are marked as its project's (models.Container.Owner): a name
// another project, a manifest or a plain run holds fails the run with
// errdefs.ErrConflict before anything changes. On failure, the containers
// it started are removed again, and what it made for a compose file
// (networks, secrets, volumes, directories) too.
func (e *Engine) RunBundles(ctx context.Context, paths []string, opts RunBundleOptions) ([]models.Container, error) {
	defer timing.Start(ctx, "run")()
	end := timing.Start(ctx, "run/load")
	p, err := loadBundles(ctx, paths, opts)
	end()
	if err != nil {
		return nil, err
	}
	return e.runSpecs(ctx, p, opts)
}

// RunBundleText runs the containers of bundle text that is not a file (an
// ad-hoc `budgie run IMAGE`'s, see AdhocBundle) exactly as RunBundles runs
// a file's: name is the file name its problems are reported under, and
// relative paths in it are relative to the working directory.
func (e *Engine) RunBundleText(ctx context.Context, name string, data []byte, opts RunBundleOptions) ([]models.Container, error) {
	b, err := bundle.Parse(name, data, bundle.ParseOptions{NameOverride: opts.NameOverride})
	if err != nil {
		return nil, err
	}
	specs, err := checkBundle(b, opts)
	if err != nil {
		return nil, err
	}
	if err := checkCount(specs, opts); err != nil {
		return nil, err
	}
	return e.runSpecs(ctx, &runPlan{specs: specs}, opts)
}

// runPlan is what a run carries out once its bundles are parsed.
type runPlan struct {
	specs []models.ContainerSpec
	// bundleOf and ownerOf map a container's name to its bundle file's
	// path and its owner (see models.Container.Owner); "" for none.
	bundleOf, ownerOf map[string]string
	// composed are the compose files' conversions, whose networks,
	// secrets and directories are made before the containers.
	composed []composedRun
	// claims are the named volumes, with their owner, that must exist
	// though no container mounts them (kube's claims); they are created
	// before the containers.
	claims map[string]string
}

// runSpecs is the one path every run takes once its bundles are parsed:
// refuse names another owner's containers hold, start the keeper when
// needed, make what compose files need (networks, secrets, directories)
// and kube's claim volumes, then reconcile with what exists (when asked
// and something does) or bind the ports and start the stack. A failure
// undoes what the run made: nothing is left half-done.
func (e *Engine) runSpecs(ctx context.Context, p *runPlan, opts RunBundleOptions) (cs []models.Container, err error) {
	end := timing.Start(ctx, "run/list")
	existing, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	end()
	if err != nil {
		return nil, err
	}
	// A plain reconciling run may find another owner's container
	// unchanged (the bundle `budgie convert` or `kube generate` wrote of
	// it): it is left as it is, still its owner's. Anything else of
	// another owner's, or an owner's run over a plain run's container,
	// is refused before anything changes.
	var unchangedNames map[string]bool
	if opts.Reconciled != nil {
		unchangedNames = map[string]bool{}
		for name, st := range planReconcile(p.specs, existing).steps {
			unchangedNames[name] = st.action == ReconcileUnchanged
		}
	}
	if err := checkOwners(p.specs, p.ownerOf, existing, unchangedNames); err != nil {
		return nil, err
	}
	end = timing.Start(ctx, "run/keeper")
	err = e.ensureKeeper(ctx, p.specs, opts.KeeperArgv)
	end()
	if err != nil {
		return nil, err
	}
	fresh, err := e.freshVolumes(ctx, p)
	if err != nil {
		return nil, err
	}
	undo, err := e.prepareCompose(ctx, p.composed)
	if err != nil {
		return nil, err
	}
	undo = append(undoList{func(ctx context.Context) { e.dropFresh(ctx, fresh) }}, undo...)
	if err := e.createClaims(ctx, p.claims, &undo); err != nil {
		undo.run(ctx)
		return nil, err
	}
	defer func() {
		if err != nil {
			undo.run(ctx)
			return
		}
		for name, owner := range fresh {
			if _, verr := e.Runtime.Volume(ctx, name); verr == nil {
				if merr := e.setOwner(ctx, ownedVolume, name, owner); merr != nil && err == nil {
					err = fmt.Errorf("the containers run, but down -v will keep volume %s: %w", name, merr)
				}
			}
		}
	}()
	return e.startSpecs(ctx, p, existing, opts)
}

// startSpecs reconciles p's specs with the existing containers (when
// asked and some exist) or binds their ports and starts them as a stack.
func (e *Engine) startSpecs(ctx context.Context, p *runPlan, existing []models.Container, opts RunBundleOptions) ([]models.Container, error) {
	specs := p.specs
	pull := opts.Pull
	if pull == nil {
		pull = func(ctx context.Context, ref string) error {
			_, err := e.ImageService.Pull(ctx, ref, images.PullOptions{})
			return err
		}
	}
	runOpts := func(published map[string][]models.PortMapping) func(models.ContainerSpec) runtime.RunOptions {
		return func(s models.ContainerSpec) runtime.RunOptions {
			return runtime.RunOptions{BundlePath: p.bundleOf[s.Name], Owner: p.ownerOf[s.Name], AutoRemove: opts.AutoRemove, Pull: pull, Ports: published[s.Name],
				Attach: opts.Attach}
		}
	}
	if opts.Reconciled != nil {
		if p := planReconcile(specs, existing); p.anyExists() {
			return e.reconcile(ctx, p, runOpts, opts.Reconciled)
		}
	}
	end := timing.Start(ctx, "run/publish")
	published, err := e.publish(ctx, specs)
	end()
	if err != nil {
		return nil, err
	}
	cs, err := stack.Up(ctx, e.Runtime, specs, stack.Options{Run: runOpts(published), Started: opts.Started})
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

// loadBundles parses and checks every bundle (converting compose files,
// whose conversions it keeps), returning the run's plan: the specs, and
// the bundle path and owner of each container name.
func loadBundles(ctx context.Context, paths []string, opts RunBundleOptions) (*runPlan, error) {
	p := &runPlan{bundleOf: map[string]string{}, ownerOf: map[string]string{}}
	for _, path := range paths {
		b, res, err := loadBundle(ctx, path, opts.NameOverride)
		if err != nil {
			return nil, err
		}
		cs, err := checkBundle(b, opts)
		if err != nil {
			return nil, err
		}
		owner := ""
		if res != nil {
			owner = composeOwner(res.Project)
			p.composed = append(p.composed, composedRun{res: res, specs: cs})
		}
		for _, s := range cs {
			p.specs = append(p.specs, s)
			p.bundleOf[s.Name] = b.Path
			p.ownerOf[s.Name] = owner
		}
	}
	if err := checkCount(p.specs, opts); err != nil {
		return nil, err
	}
	return p, nil
}

// checkBundle returns the containers of b, refusing what the run options
// rule out (--rm with a restart policy, a terminal or stdin for
// replicas).
func checkBundle(b *bundle.Bundle, opts RunBundleOptions) ([]models.ContainerSpec, error) {
	for _, s := range b.Containers {
		if opts.AutoRemove && s.RestartPolicy.Name != "" && s.RestartPolicy.Name != models.RestartNo {
			return nil, fmt.Errorf("--rm conflicts with %s's restart_policy %s (a removed container cannot be restarted): %w",
				s.Name, s.RestartPolicy.Name, errdefs.ErrInvalid)
		}
		if opts.Attach != nil && s.Interactive() && s.Replicas != nil {
			return nil, fmt.Errorf("%s has replicas: one terminal or stdin cannot be attached to several containers "+
				"(run it in the background, then: budgie exec -it %s-1 sh): %w", s.Name, s.Name, errdefs.ErrInvalid)
		}
	}
	return b.Containers, nil
}

// checkCount refuses more than one container where one is needed
// (--attach, --name, Attach), and Attach with Reconciled.
func checkCount(specs []models.ContainerSpec, opts RunBundleOptions) error {
	if (opts.Single || opts.NameOverride != "") && len(specs) != 1 {
		return fmt.Errorf("this needs exactly one container, the bundles hold %d: %w", len(specs), errdefs.ErrInvalid)
	}
	if opts.Attach != nil && !opts.Single {
		return fmt.Errorf("attaching streams needs a run of one container (Single): %w", errdefs.ErrInvalid)
	}
	if opts.Attach != nil && opts.Reconciled != nil {
		// an unchanged container gets no new task: nothing would attach
		return fmt.Errorf("attaching streams conflicts with reconciling (a one-off run is never reconciled): %w", errdefs.ErrInvalid)
	}
	return nil
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
