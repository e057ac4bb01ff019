package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/kube"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// KubeGenerateOptions tune KubeGenerate. The zero value is the default.
type KubeGenerateOptions struct{}

// KubeGenerate writes the Kubernetes manifests (budgie kube generate) of
// refs: each is a container (name, ID or unique ID prefix: the spec
// stored in its labels, as it was created), a service of replicas (its
// name: one workload with that many replicas; a replica's name stands for
// its service too), or a bundle file (a path: a .bun name, or a name
// with a /, or an existing file that names no container), parsed as run
// parses it. A container named twice is written once. Secrets are
// written as references: their values are never read.
func (e *Engine) KubeGenerate(ctx context.Context, refs []string, opts KubeGenerateOptions) (*kube.Manifest, error) {
	specs, err := e.kubeSpecs(ctx, refs)
	if err != nil {
		return nil, err
	}
	return kube.Generate(specs)
}

// kubeSpecs resolves generate's arguments into specs, in order, each name once.
func (e *Engine) kubeSpecs(ctx context.Context, refs []string) ([]models.ContainerSpec, error) {
	var specs []models.ContainerSpec
	seen := map[string]bool{}
	add := func(s models.ContainerSpec) {
		if !seen[s.Name] {
			seen[s.Name] = true
			specs = append(specs, s)
		}
	}
	var all []models.Container
	listed := false
	for _, ref := range refs {
		if isBundleRef(ref) {
			b, err := bundle.ParseFile(ref, bundle.ParseOptions{})
			if err != nil {
				return nil, err
			}
			for _, s := range b.Containers {
				add(s)
			}
			continue
		}
		if !listed {
			var err error
			if all, err = e.Runtime.List(ctx, runtime.ListOptions{All: true}); err != nil {
				return nil, err
			}
			listed = true
		}
		s, err := containerSpec(all, ref)
		if errors.Is(err, errdefs.ErrNotFound) && isRegularFile(ref) {
			b, berr := bundle.ParseFile(ref, bundle.ParseOptions{})
			if berr != nil {
				return nil, berr
			}
			for _, s := range b.Containers {
				add(s)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		add(s)
	}
	return specs, nil
}

// isBundleRef reports whether a generate argument is plainly a file: a
// name ending in .bun, or holding a / (no container name does).
func isBundleRef(ref string) bool {
	return strings.HasSuffix(ref, ".bun") || strings.Contains(ref, "/")
}

func isRegularFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// containerSpec returns the spec ref's container was created from: a
// service's (its replicas share one spec, bar their names), or one
// container's found by ID, name or unique ID prefix.
func containerSpec(all []models.Container, ref string) (models.ContainerSpec, error) {
	var found *models.Container
	for i, c := range all {
		if c.Replica > 0 && c.Service == ref {
			found = &all[i]
			break
		}
	}
	if found == nil {
		for i, c := range all {
			if c.ID == ref || c.Name == ref {
				found = &all[i]
				break
			}
		}
	}
	if found == nil {
		var matches []int
		for i, c := range all {
			if strings.HasPrefix(c.ID, ref) {
				matches = append(matches, i)
			}
		}
		switch len(matches) {
		case 0:
			return models.ContainerSpec{}, fmt.Errorf("no such container, service or bundle file: %s (see: budgie ps -a): %w", ref, errdefs.ErrNotFound)
		case 1:
			found = &all[matches[0]]
		default:
			return models.ContainerSpec{}, fmt.Errorf("%s matches %d containers (give more of the ID, or the name): %w", ref, len(matches), errdefs.ErrAmbiguous)
		}
	}
	c := *found
	if len(c.Damaged) > 0 {
		return models.ContainerSpec{}, fmt.Errorf("container %s: its spec cannot be read back (%s is damaged; see budgie inspect %s): %w",
			c.Name, c.DamagedLabels(), c.Name, errdefs.ErrInvalid)
	}
	s := c.Spec
	if c.Replica > 0 {
		s.Name = c.Service
		if s.Hostname == c.Name {
			s.Hostname = ""
		}
	}
	return s, nil
}

// KubePlayOptions tune KubePlay.
type KubePlayOptions struct {
	// Plan is what KubePlan made of the manifest, for a front end that
	// read it already (so that it is read once); nil means KubePlay reads
	// it.
	Plan *kube.Plan
	// Pull fetches a missing image; nil means a pull without progress.
	Pull func(ctx context.Context, ref string) error
	// KeeperArgv starts the node's keeper when a container needs it (see
	// RunBundleOptions.KeeperArgv).
	KeeperArgv []string
	// Started is called for each container once its task runs.
	Started func(models.Container)
	// Reconciled, when set, makes a play of a manifest whose containers
	// exist already reconcile them, as a run of a bundle does (see
	// RunBundleOptions.Reconciled); nil means an existing name fails.
	Reconciled func(ReconcileResult)
	// Warning is called for each warning the manifest gives (a hostPath
	// mount, a storage size Budgie does not enforce…); nil drops them.
	Warning func(string)
}

// KubePlay runs the containers a Kubernetes manifest describes (budgie
// kube play), for the subset Budgie can honour: the manifest is read
// (KubePlan), its secrets must exist on the node, and its bundle text
// runs as RunBundleText runs any bundle, so that what is stored in the
// containers' labels is an ordinary bundle. Its containers, and the named
// volumes it creates, are marked as the manifest's (kube:ABSOLUTE-PATH):
// a container of the same name made otherwise fails the play with
// errdefs.ErrConflict. The named volumes of claims no container mounts
// are created first; a failed play removes what it created.
func (e *Engine) KubePlay(ctx context.Context, path string, opts KubePlayOptions) ([]models.Container, error) {
	plan := opts.Plan
	if plan == nil {
		var err error
		if plan, err = KubePlan(path); err != nil {
			return nil, err
		}
	}
	owner, err := kubeOwner(path)
	if err != nil {
		return nil, err
	}
	if opts.Warning != nil {
		for _, w := range plan.Warnings {
			opts.Warning(w)
		}
	}
	if err := e.checkKubeSecrets(ctx, plan); err != nil {
		return nil, err
	}
	runOpts := RunBundleOptions{Pull: opts.Pull, KeeperArgv: opts.KeeperArgv, Started: opts.Started, Reconciled: opts.Reconciled}
	b, err := bundle.Parse(path, plan.Bundle, bundle.ParseOptions{})
	if err != nil {
		return nil, err
	}
	specs, err := checkBundle(b, runOpts)
	if err != nil {
		return nil, err
	}
	p := &runPlan{specs: specs, ownerOf: map[string]string{}, claims: map[string]string{}}
	for _, s := range specs {
		p.ownerOf[s.Name] = owner
	}
	mounted := namedVolumes(specs, nil)
	for _, v := range plan.Volumes {
		if !slices.Contains(mounted, v) {
			p.claims[v] = owner
		}
	}
	return e.runSpecs(ctx, p, runOpts)
}

// checkKubeSecrets refuses a plan whose containers mount a secret the
// node's store does not hold, at the manifest's line.
func (e *Engine) checkKubeSecrets(ctx context.Context, plan *kube.Plan) error {
	need := false
	for _, s := range plan.Specs {
		need = need || len(s.Secrets) > 0
	}
	if !need {
		return nil
	}
	list, err := e.Secrets(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, s := range list {
		have[s.Name] = true
	}
	return plan.CheckSecrets(func(name string) bool { return have[name] })
}

// KubePlan reads a Kubernetes manifest (at most 4 MiB, a regular file)
// and returns what budgie kube play makes of it: the bundle text, its
// containers and its warnings. Problems come back as a *kube.Error
// (errdefs.ErrInvalid), each naming the file, line, document and field.
// It needs no containerd.
func KubePlan(path string) (*kube.Plan, error) {
	data, err := readManifest(path)
	if err != nil {
		return nil, err
	}
	return kube.Play(path, data)
}

// readManifest reads a regular file of at most 4 MiB; the open does not
// block on a FIFO (O_NONBLOCK), and a symlink is followed to what it
// names, which must be a regular file.
func readManifest(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("manifest %s does not exist (check the path): %w", path, errdefs.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	defer f.Close()
	const limit = 4 << 20
	data, regular, err := readRegularBounded(f, limit)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	case !regular:
		return nil, fmt.Errorf("manifest %s is not a regular file: %w", path, errdefs.ErrInvalid)
	case len(data) > limit:
		return nil, fmt.Errorf("manifest %s is larger than 4 MiB (split it): %w", path, errdefs.ErrInvalid)
	}
	return data, nil
}

// KubeDown takes down what KubePlay made of a manifest (budgie kube down),
// as Down takes down a bundle's containers: the manifest is read first (a
// bad one fails with its file:line and nothing is touched), then every
// container (with its replicas) is stopped and removed, dependents first.
// Containers that are not there are skipped; one the manifest's plays did
// not make fails it with errdefs.ErrConflict before anything is touched.
// opts.Volumes also removes the named volumes of the manifest's claims
// and containers that its plays created, except those containers use.
func (e *Engine) KubeDown(ctx context.Context, path string, opts DownOptions) error {
	plan, err := KubePlan(path)
	if err != nil {
		return err
	}
	owner, err := kubeOwner(path)
	if err != nil {
		return err
	}
	return e.downGroups(ctx, []downGroup{{owner: owner, specs: plan.Specs, claims: plan.Volumes}}, opts)
}
