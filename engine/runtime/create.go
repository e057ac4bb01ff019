package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
)

// RunOptions tune Run.
type RunOptions struct {
	// BundlePath is recorded on the container (absolute path of the .bun).
	BundlePath string
	// Owner is recorded on the container (models.Container.Owner): the
	// compose project or kube manifest that made it; empty for none.
	Owner string
	// AutoRemove marks the container for removal when it exits (--rm).
	AutoRemove bool
	// Pull fetches the image when it is not in the store; nil means a
	// missing image is an error.
	Pull func(ctx context.Context, ref string) error
	// Service and Replica mark the container as replica Replica of a
	// bundle's replicas; empty and 0 for a single container.
	Service string
	Replica int
	// Ports are the published ports with the host ports the keeper bound
	// (random ones resolved); nil means the spec's ports as written.
	Ports []models.PortMapping
	// Attach connects the first task of a container whose spec has tty or
	// stdin_open to the caller's streams (see AttachOptions); nil, or a
	// spec with neither, means its output goes to the log driver alone.
	Attach *AttachOptions
	// DeferHosts skips the hosts files' refresh after the start: a caller
	// starting a batch (a service's replicas) runs its last start without
	// it, which writes every running container's file once. Until then
	// this container is in no other's hosts file and its own lists only
	// what was running when the last refresh ran. False: refresh now.
	DeferHosts bool
}

// Run creates a container from spec and starts its task. It returns once
// the task runs. On any failure it leaves nothing behind: no container,
// snapshot, task, log directory or newly created volume.
func (r *Runtime) Run(ctx context.Context, spec models.ContainerSpec, opts RunOptions) (models.Container, error) {
	return r.createAndStart(ctx, spec, opts, true)
}

// Create makes the container without starting it (docker create), with
// Run's guarantee that a failure leaves nothing behind.
func (r *Runtime) Create(ctx context.Context, spec models.ContainerSpec, opts RunOptions) (models.Container, error) {
	return r.createAndStart(ctx, spec, opts, false)
}

func (r *Runtime) createAndStart(ctx context.Context, spec models.ContainerSpec, opts RunOptions, start bool) (c models.Container, err error) {
	var undo undoStack
	defer func() {
		if err != nil {
			undo.run()
		}
	}()
	end := timing.Start(ctx, "run/create")
	cc, err := r.create(ctx, spec, opts, &undo)
	end()
	if err != nil {
		return models.Container{}, err
	}
	if start {
		end := timing.Start(ctx, "run/start")
		err := r.startTask(ctx, cc, opts.Attach, !opts.DeferHosts)
		end()
		if err != nil {
			return models.Container{}, err
		}
	}
	defer timing.Start(ctx, "run/get")()
	return r.Get(ctx, cc.ID())
}

func (r *Runtime) create(ctx context.Context, spec models.ContainerSpec, opts RunOptions, undo *undoStack) (containerd.Container, error) {
	ctx = r.ns(ctx)
	end := timing.Start(ctx, "run/create/checks")
	if err := CheckSupported(spec); err != nil {
		return nil, err
	}
	if err := r.checkSecrets(ctx, spec); err != nil {
		return nil, err
	}
	if err := r.checkNetworks(ctx, spec); err != nil {
		return nil, err
	}
	end()
	end = timing.Start(ctx, "run/create/names")
	existing, err := r.snapshot(ctx)
	end()
	if err != nil {
		return nil, err
	}
	for _, c := range existing {
		if c.Name == spec.Name {
			return nil, fmt.Errorf("the name %q is in use by container %s (remove it first: budgie rm %s): %w",
				spec.Name, c.ShortID(), spec.Name, errdefs.ErrConflict)
		}
	}
	end = timing.Start(ctx, "run/create/image")
	image, err := r.image(ctx, spec.Image, opts.Pull)
	end()
	if err != nil {
		return nil, err
	}
	created, err := r.prepareVolumes(spec, undo)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	labels[LabelName] = spec.Name
	labels[LabelNode] = r.opts.NodeName
	if opts.BundlePath != "" {
		labels[LabelBundle] = opts.BundlePath
	}
	if opts.Owner != "" {
		labels[LabelOwner] = opts.Owner
	}
	if opts.AutoRemove {
		labels[LabelAutoRemove] = "true"
	}
	if opts.Service != "" {
		labels[LabelService] = opts.Service
		labels[LabelReplica] = strconv.Itoa(opts.Replica)
	}
	if len(opts.Ports) > 0 {
		b, err := json.Marshal(opts.Ports)
		if err != nil {
			return nil, fmt.Errorf("encode ports: %w", err)
		}
		labels[LabelPorts] = string(b)
	}
	if err := encodeSpec(spec, labels); err != nil {
		return nil, err
	}
	if !r.hostNetwork(spec) {
		if err := r.writeInitialHosts(id, undo); err != nil {
			return nil, err
		}
	}
	end = timing.Start(ctx, "run/create/spec")
	specOpts, err := r.specOpts(ctx, id, spec, image)
	end()
	if err != nil {
		return nil, err
	}
	end = timing.Start(ctx, "run/create/containerd")
	cc, err := r.client.NewContainer(ctx, id,
		containerd.WithImage(image),
		containerd.WithSnapshotter(r.opts.Snapshotter),
		containerd.WithNewSnapshot(id, image),
		containerd.WithRuntime("io.containerd.runc.v2", nil),
		containerd.WithNewSpec(specOpts...),
		containerd.WithContainerLabels(labels),
	)
	if err != nil {
		// containerd removes nothing it half-made: drop a snapshot it may have prepared.
		_ = r.client.SnapshotService(r.opts.Snapshotter).Remove(ctx, id)
		return nil, fmt.Errorf("create container %s: %w", spec.Name, errdefs.FromContainerd(err))
	}
	end()
	undo.push(func() { _ = cc.Delete(r.ns(context.WithoutCancel(ctx)), containerd.WithSnapshotCleanup) })
	defer timing.Start(ctx, "run/create/logs")()
	if err := r.copyUp(ctx, id, spec, created); err != nil {
		return nil, err
	}
	logDir := r.LogDir(id)
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	undo.push(func() { _ = os.RemoveAll(logDir) })
	if err := logs.WriteDriverConfig(logDir, logs.DriverOptions{MaxSize: r.opts.LogMaxSize, MaxFiles: r.opts.LogMaxFiles}); err != nil {
		return nil, err
	}
	return cc, nil
}

// image returns the image, pulling it with pull when it is missing, unpacked.
func (r *Runtime) image(ctx context.Context, ref string, pull func(context.Context, string) error) (containerd.Image, error) {
	image, err := r.client.GetImage(ctx, ref)
	if cerrdefs.IsNotFound(err) && pull != nil {
		if err := pull(ctx, ref); err != nil {
			return nil, err
		}
		image, err = r.client.GetImage(ctx, ref)
	}
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("no such image: %s (pull it: budgie pull %s, or load it: budgie load -i FILE): %w", ref, ref, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("get image %s: %w", ref, errdefs.FromContainerd(err))
	}
	unpacked, err := image.IsUnpacked(ctx, r.opts.Snapshotter)
	if err != nil {
		return nil, fmt.Errorf("check image %s: %w", ref, errdefs.FromContainerd(err))
	}
	if !unpacked {
		if err := image.Unpack(ctx, r.opts.Snapshotter); err != nil {
			return nil, fmt.Errorf("unpack image %s: %w", ref, errdefs.FromContainerd(err))
		}
	}
	return image, nil
}

// prepareVolumes checks bind sources and creates missing named volumes
// (undone on failure), returning the names of those it created.
func (r *Runtime) prepareVolumes(spec models.ContainerSpec, undo *undoStack) (map[string]bool, error) {
	for _, v := range spec.Volumes {
		if v.Kind == models.VolumeBind {
			if _, err := os.Stat(v.Source); err != nil {
				return nil, fmt.Errorf("bind mount source %s for %s: %w (create it first): %w", v.Source, v.Target, err, errdefs.ErrInvalid)
			}
		}
	}
	created := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.Kind != models.VolumeNamed || created[v.Source] {
			continue
		}
		dir := r.VolumeDir(v.Source)
		if _, err := os.Stat(dir); err == nil {
			continue
		}
		// The parent again, in case it went away since New: a volume must
		// never land in a parent that MkdirAll would make 0755.
		if err := r.secureVolumesDir(); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create volume %s: %w", v.Source, err)
		}
		created[v.Source] = true
		undo.push(func() { _ = os.RemoveAll(dir) })
	}
	return created, nil
}

// startTask deletes a stopped task (recording its exit), creates a new one
// with Budgie's log driver (or attached to attach's streams) and starts it,
// then, with hosts, rewrites the hosts files (see RunOptions.DeferHosts).
func (r *Runtime) startTask(ctx context.Context, cc containerd.Container, attach *AttachOptions, hosts bool) error {
	ctx = r.ns(ctx)
	if old, err := cc.Task(ctx, nil); err == nil {
		st, err := old.Status(ctx)
		if err == nil && (st.Status == containerd.Running || st.Status == containerd.Paused) {
			return nil
		}
		if err := r.deleteTask(ctx, cc, old); err != nil {
			return err
		}
	}
	if _, err := r.newTask(ctx, cc, attach); err != nil {
		if hosts { // the old task's addresses are gone
			err = errors.Join(err, r.RefreshHosts(ctx))
		}
		return err
	}
	if hosts {
		end := timing.Start(ctx, "run/start/hosts")
		err := r.RefreshHosts(ctx)
		end()
		if err != nil {
			return err
		}
	}
	defer timing.Start(ctx, "run/start/labels")()
	_, err := cc.SetLabels(ctx, map[string]string{LabelStoppedByUser: ""})
	return errdefs.FromContainerd(err)
}

// explainStartError adds Docker's hints to runc's start failures.
func explainStartError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory") && strings.Contains(msg, "exec:"):
		return &ExitError{Code: 127, Err: fmt.Errorf("%w (is the command in the image? check command/args in the bundle)", err)}
	case strings.Contains(msg, "permission denied") && strings.Contains(msg, "exec:"):
		return &ExitError{Code: 126, Err: err}
	}
	return err
}

// ExitError carries a process's exit code (a container's or an exec's).
type ExitError struct {
	// Code is the exit code.
	Code int
	// Err is the cause; nil when the process simply exited non-zero.
	Err error
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

// Unwrap returns the cause.
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the exit code.
func (e *ExitError) ExitCode() int { return e.Code }

// Start starts the task of an existing container; a running one is left alone.
func (r *Runtime) Start(ctx context.Context, ref string) (models.Container, error) {
	c, err := r.Get(ctx, ref)
	if err != nil {
		return c, err
	}
	cc, err := r.client.LoadContainer(r.ns(ctx), c.ID)
	if err != nil {
		return c, fmt.Errorf("load container %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	if err := r.startTask(ctx, cc, nil, true); err != nil {
		return c, fmt.Errorf("start %s: %w", c.Name, err)
	}
	return r.Get(ctx, c.ID)
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate container id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// undoStack runs cleanup steps in reverse order when an operation fails.
type undoStack []func()

func (u *undoStack) push(f func()) { *u = append(*u, f) }

func (u *undoStack) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
}

// CheckSupported refuses what the runtime cannot carry out as written: the
// keeper fields' forms (probe addresses, on_unhealthy without a restart
// policy). Every bundle field is carried out; none is silently ignored.
func CheckSupported(spec models.ContainerSpec) error {
	return CheckKeeperFields(spec)
}
