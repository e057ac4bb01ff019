// Package runtime runs Budgie's containers on containerd: create and start
// them from bundle specs, list them (one container-list and one task-list
// call, however many there are), stop, restart and remove them, exec into
// them, inspect them, and resolve names and ID prefixes. Container output is
// captured by Budgie's log driver (see engine/logs); a run attached to the
// caller's streams (budgie run -it, AttachOptions) copies it to the caller
// and writes the same log itself.
package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/containers"
	ctrerrdefs "github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/models"
)

// Options configure a Runtime.
type Options struct {
	// Namespace is the containerd namespace; required.
	Namespace string
	// DataDir holds volumes and logs; required.
	DataDir string
	// NodeName is recorded on every container; empty means the host name.
	NodeName string
	// LogBinary is the executable the shim spawns as log driver with
	// "_log-driver DIR"; empty means this process's executable.
	LogBinary string
	// Snapshotter is the containerd snapshotter; empty means overlayfs.
	Snapshotter string
	// Networks joins containers to CNI networks; nil means every container
	// shares the host's network namespace.
	Networks *network.Manager
	// LogMaxSize and LogMaxFiles rotate container logs; zero means 10 MiB and 3.
	LogMaxSize  int64
	LogMaxFiles int
	// ContainerdAddress is containerd's socket; the runtime asks who answers
	// on it to learn whether containerd shares its mount namespace (see
	// NetNSPath). Empty means it does.
	ContainerdAddress string
}

// Runtime manages Budgie's containers in one containerd namespace.
type Runtime struct {
	client *containerd.Client
	opts   Options
	keeper KeeperState
	// secrets supplies secret values (see SetSecrets).
	secrets SecretSource
	// pinOnce sets pinOK: whether new containers get a pinned network
	// namespace (pinsNetNS).
	pinOnce sync.Once
	pinOK   bool
}

// New returns a Runtime using client. It creates data_dir/volumes mode 0700,
// or sets an existing one to 0700.
func New(client *containerd.Client, opts Options) (*Runtime, error) {
	if opts.Namespace == "" || opts.DataDir == "" {
		return nil, fmt.Errorf("runtime needs a namespace and a data dir: %w", errdefs.ErrInvalid)
	}
	if opts.NodeName == "" {
		opts.NodeName, _ = os.Hostname()
	}
	if opts.Snapshotter == "" {
		opts.Snapshotter = containerd.DefaultSnapshotter
	}
	if opts.LogBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find budgie executable for the log driver: %w", err)
		}
		opts.LogBinary = exe
	}
	if opts.LogMaxSize == 0 {
		opts.LogMaxSize = 10 << 20
	}
	if opts.LogMaxFiles == 0 {
		opts.LogMaxFiles = 3
	}
	r := &Runtime{client: client, opts: opts}
	if err := r.secureVolumesDir(); err != nil {
		return nil, err
	}
	return r, nil
}

// Client returns the containerd client.
func (r *Runtime) Client() *containerd.Client { return r.client }

// Node returns the node name recorded on containers.
func (r *Runtime) Node() string { return r.opts.NodeName }

func (r *Runtime) ns(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.opts.Namespace)
}

// LogDir returns where the logs of container id are kept.
func (r *Runtime) LogDir(id string) string {
	return filepath.Join(r.opts.DataDir, "logs", r.opts.Namespace, id)
}

// VolumeDir returns the directory of named volume name.
func (r *Runtime) VolumeDir(name string) string {
	return filepath.Join(r.opts.DataDir, "volumes", name)
}

// ListOptions filter List.
type ListOptions struct {
	// All includes containers that are not running.
	All bool
	// Filters must all match (see ParseFilters).
	Filters []Filter
}

// List returns Budgie's containers, sorted by creation time, newest first.
// It makes two containerd calls: one container list, one task list.
func (r *Runtime) List(ctx context.Context, opts ListOptions) ([]models.Container, error) {
	all, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if !opts.All && c.State != models.StateRunning && c.State != models.StatePaused && c.State != models.StateRestarting {
			continue
		}
		if matchAll(opts.Filters, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// snapshot lists every Budgie container with its task state.
func (r *Runtime) snapshot(ctx context.Context) ([]models.Container, error) {
	out, err := r.readAll(ctx)
	if err != nil {
		return nil, err
	}
	r.annotate(r.ns(ctx), out)
	return out, nil
}

// readAll lists every Budgie container with its task's state, straight
// from containerd (newest first), without the keeper's annotations.
func (r *Runtime) readAll(ctx context.Context) ([]models.Container, error) {
	ctx = r.ns(ctx)
	// Both at once: the task listing asks every shim (containerd 1.6), the
	// container listing decodes every record's labels.
	var resp *tasks.ListTasksResponse
	var terr error
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		resp, terr = r.client.TaskService().List(ctx, &tasks.ListTasksRequest{})
	}()
	records, err := r.client.ContainerService().List(ctx, fmt.Sprintf("labels.%q", LabelName))
	<-listed
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", errdefs.FromContainerd(err))
	}
	if terr != nil {
		return nil, fmt.Errorf("list tasks: %w", errdefs.FromContainerd(terr))
	}
	byID := make(map[string]*tasktypes.Process, len(resp.Tasks))
	for _, t := range resp.Tasks {
		byID[t.ID] = t
	}
	out := make([]models.Container, 0, len(records))
	for i := range records {
		out = append(out, r.fromRecord(&records[i], byID[records[i].ID]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// fromRecord turns a container record and its task (nil if none) into a models.Container.
func (r *Runtime) fromRecord(rec *containers.Container, task *tasktypes.Process) models.Container {
	spec, ports, damaged := readLabels(rec.Labels)
	c := models.Container{
		ID:           rec.ID,
		Name:         rec.Labels[LabelName],
		Image:        rec.Image,
		Created:      rec.CreatedAt,
		Labels:       userLabels(rec.Labels),
		Node:         rec.Labels[LabelNode],
		BundlePath:   rec.Labels[LabelBundle],
		Owner:        rec.Labels[LabelOwner],
		RestartCount: labelInt(rec.Labels, LabelRestartCount),
		StartedAt:    labelTime(rec.Labels, LabelStartedAt),
		FinishedAt:   labelTime(rec.Labels, LabelFinishedAt),
		ExitCode:     labelInt(rec.Labels, LabelExitCode),
		Ports:        ports,
		Damaged:      damaged,
		Service:      rec.Labels[LabelService],
		Replica:      labelInt(rec.Labels, LabelReplica),
		Spec:         spec,
		State:        models.StateCreated,
	}
	if c.Service == "" {
		c.Service = c.Name
	}
	if task == nil {
		if !c.FinishedAt.IsZero() {
			c.State = models.StateExited
		}
		return c
	}
	switch task.Status {
	case tasktypes.Status_RUNNING:
		c.State, c.Pid = models.StateRunning, task.Pid
		c.Endpoints = decodeEndpoints(rec.Labels)
	case tasktypes.Status_PAUSED, tasktypes.Status_PAUSING:
		c.State, c.Pid = models.StatePaused, task.Pid
	case tasktypes.Status_STOPPED:
		c.State, c.ExitCode = models.StateExited, int(task.ExitStatus)
		if task.ExitedAt != nil {
			c.FinishedAt = task.ExitedAt.AsTime()
		}
	case tasktypes.Status_CREATED:
		c.State = models.StateCreated
	default:
		c.State = models.StateUnknown
	}
	return c
}

// Get returns one container by full ID, name or unique ID prefix.
func (r *Runtime) Get(ctx context.Context, ref string) (models.Container, error) {
	if c, ok, err := r.getExact(ctx, ref); ok || err != nil {
		return c, err
	}
	all, err := r.snapshot(ctx)
	if err != nil {
		return models.Container{}, err
	}
	return resolve(all, ref)
}

// getExact is Get's fast path for an exact ID or name: one filtered
// container listing and one task lookup, instead of listing every
// container and task (on containerd 1.6 a task listing asks every shim).
// ok is false when ref is no exact ID or name (or could not be put in a
// filter), and the caller resolves it the slow way.
func (r *Runtime) getExact(ctx context.Context, ref string) (models.Container, bool, error) {
	if !filterSafe(ref) {
		return models.Container{}, false, nil
	}
	ctx = r.ns(ctx)
	records, err := r.client.ContainerService().List(ctx, "id=="+ref, fmt.Sprintf("labels.%q==%s", LabelName, ref))
	if err != nil {
		return models.Container{}, false, fmt.Errorf("list containers: %w", errdefs.FromContainerd(err))
	}
	var rec *containers.Container
	for i := range records { // an exact ID wins over a name, as in resolve
		if records[i].Labels[LabelName] == "" {
			continue
		}
		if records[i].ID == ref || rec == nil {
			rec = &records[i]
		}
	}
	if rec == nil {
		return models.Container{}, false, nil
	}
	var task *tasktypes.Process
	resp, err := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: rec.ID})
	switch {
	case err == nil:
		task = resp.Process
	case !taskNotFound(err):
		return models.Container{}, false, fmt.Errorf("get task of %s: %w", rec.Labels[LabelName], errdefs.FromContainerd(err))
	}
	out := []models.Container{r.fromRecord(rec, task)}
	r.annotate(ctx, out)
	return out[0], true, nil
}

// taskNotFound reports whether a task service call failed because the
// container has no task. The raw task service answers with gRPC status
// codes, which containerd's errdefs.FromGRPC turns into its sentinels.
func taskNotFound(err error) bool {
	return cerrdefs.IsNotFound(ctrerrdefs.FromGRPC(err))
}

// filterSafe accepts what a container name or ID may hold (letters,
// digits, '_', '.', '-'), which needs no quoting in a containerd filter.
func filterSafe(ref string) bool {
	if ref == "" || len(ref) > 128 {
		return false
	}
	for _, c := range ref {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// resolve finds ref among cs: an exact ID, then an exact name, then a unique ID prefix.
func resolve(cs []models.Container, ref string) (models.Container, error) {
	if ref == "" {
		return models.Container{}, fmt.Errorf("empty container name or ID: %w", errdefs.ErrInvalid)
	}
	for _, c := range cs {
		if c.ID == ref {
			return c, nil
		}
	}
	for _, c := range cs {
		if c.Name == ref {
			return c, nil
		}
	}
	var matches []models.Container
	for _, c := range cs {
		if strings.HasPrefix(c.ID, ref) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		var replicas []string
		for _, c := range cs {
			if c.Service == ref {
				replicas = append(replicas, c.Name)
			}
		}
		if len(replicas) > 0 {
			sort.Strings(replicas)
			return models.Container{}, fmt.Errorf("%s is a service of %d replicas: %s (name one, or scale it: budgie scale %s N): %w",
				ref, len(replicas), strings.Join(replicas, ", "), ref, errdefs.ErrAmbiguous)
		}
		return models.Container{}, fmt.Errorf("no such container: %s (see: budgie ps -a): %w", ref, errdefs.ErrNotFound)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.ShortID() + " (" + m.Name + ")"
	}
	return models.Container{}, fmt.Errorf("%q matches %d containers: %s (give more of the ID or the name): %w",
		ref, len(matches), strings.Join(names, ", "), errdefs.ErrAmbiguous)
}

// now is the clock, as a variable only so that labels carry one format.
func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }
