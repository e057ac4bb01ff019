package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
)

// KeeperState supplies the live state containerd does not hold — health,
// a pending restart — to List, Get and Inspect. The engine sets it to a
// client of the node's keeper; the keeper sets it to itself.
type KeeperState interface {
	// Annotate fills Health, NextRestart and the restarting state of cs
	// in place. It must return quickly and leave cs alone when it knows nothing.
	Annotate(ctx context.Context, cs []models.Container)
	// HealthLog returns the health state with its last results, or nil.
	HealthLog(ctx context.Context, id string) *models.Health
}

// SetKeeperState sets where List, Get and Inspect read keeper state from;
// nil means nowhere. Call it before the Runtime is shared.
func (r *Runtime) SetKeeperState(k KeeperState) { r.keeper = k }

// annotate merges keeper state into cs when a source is set.
func (r *Runtime) annotate(ctx context.Context, cs []models.Container) {
	if r.keeper != nil && len(cs) > 0 {
		r.keeper.Annotate(ctx, cs)
	}
}

// healthLog returns the keeper's health record of id, or nil.
func (r *Runtime) healthLog(ctx context.Context, c models.Container) *models.Health {
	if r.keeper == nil || c.Spec.Health == nil {
		return nil
	}
	return r.keeper.HealthLog(ctx, c.ID)
}

// Status is one container as the keeper sees it: containerd's state,
// without keeper annotations, plus the marks the keeper acts on.
type Status struct {
	// Container is the container read straight from containerd.
	Container models.Container
	// StoppedByUser is true after a manual stop, until the next manual start.
	StoppedByUser bool
}

// Status reads one container by full ID with two containerd calls and no
// keeper annotation. A missing container is errdefs.ErrNotFound.
func (r *Runtime) Status(ctx context.Context, id string) (Status, error) {
	ctx = r.ns(ctx)
	rec, err := r.client.ContainerService().Get(ctx, id)
	if err != nil {
		return Status{}, fmt.Errorf("get container %s: %w", models.ShortID(id), errdefs.FromContainerd(err))
	}
	if rec.Labels[LabelName] == "" {
		return Status{}, fmt.Errorf("container %s is not budgie's: %w", models.ShortID(id), errdefs.ErrNotFound)
	}
	resp, err := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: id})
	if err != nil && !taskNotFound(err) {
		return Status{}, fmt.Errorf("get task of %s: %w", rec.Labels[LabelName], errdefs.FromContainerd(err))
	}
	c := r.fromRecord(&rec, nil)
	if resp != nil {
		c = r.fromRecord(&rec, resp.Process)
	}
	return Status{Container: c, StoppedByUser: rec.Labels[LabelStoppedByUser] == "true"}, nil
}

// RestartTaskOptions tune RestartTask.
type RestartTaskOptions struct {
	// Count is recorded as the container's restart count.
	Count int
}

// ErrStoppedByUser is wrapped by RestartTask when a manual stop came first
// or arrived while it started the task; the container is left stopped.
var ErrStoppedByUser = fmt.Errorf("stopped by user: %w", errdefs.ErrConflict)

// RestartTask is the keeper's restart: it deletes the exited task, records
// the restart count and starts a new task. Unlike Start it never clears
// LabelStoppedByUser, and it checks that label before and after starting,
// killing the new task again if a manual stop raced with it (the bug of
// nerdctl #2991). A running task is left alone.
func (r *Runtime) RestartTask(ctx context.Context, id string, opts RestartTaskOptions) (models.Container, error) {
	ctx = r.ns(ctx)
	st, err := r.Status(ctx, id)
	if err != nil {
		return models.Container{}, err
	}
	c := st.Container
	if st.StoppedByUser {
		return c, fmt.Errorf("restart %s: %w", c.Name, ErrStoppedByUser)
	}
	if c.State == models.StateRunning || c.State == models.StatePaused {
		return c, nil
	}
	cc, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return c, fmt.Errorf("load container %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	if old, err := cc.Task(ctx, nil); err == nil {
		if err := r.deleteTask(ctx, cc, old); err != nil {
			return c, fmt.Errorf("restart %s: %w", c.Name, err)
		}
	}
	if _, err := cc.SetLabels(ctx, map[string]string{LabelRestartCount: strconv.Itoa(opts.Count)}); err != nil {
		return c, fmt.Errorf("restart %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	task, err := r.newTask(ctx, cc, nil)
	err = errors.Join(err, r.RefreshHosts(ctx)) // after a failed start too: the old task's addresses are gone
	if err != nil {
		return c, fmt.Errorf("restart %s: %w", c.Name, err)
	}
	if after, err := r.Status(ctx, id); err == nil && after.StoppedByUser {
		_ = stopTask(ctx, task, syscall.SIGKILL, 5*time.Second)
		_ = r.deleteTask(ctx, cc, task)
		_ = r.RefreshHosts(ctx)
		return c, fmt.Errorf("restart %s: %w", c.Name, ErrStoppedByUser)
	}
	st, err = r.Status(ctx, id)
	return st.Container, err
}

// newTask creates a task with Budgie's log driver (or, with attach, IO to
// the caller's streams: see taskIO), joins it to the container's
// networks, starts it and records the start time, leaving
// LabelStoppedByUser as it is; the caller refreshes the hosts files. On
// failure it leaves no task, mount, lease or pinned namespace.
func (r *Runtime) newTask(ctx context.Context, cc containerd.Container, attach *AttachOptions) (containerd.Task, error) {
	info, err := cc.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read container: %w", errdefs.FromContainerd(err))
	}
	spec, err := decodeSpec(info.Labels)
	if err != nil {
		// Its networks and secrets are in the spec: starting without them
		// would run something else than what was asked for.
		return nil, fmt.Errorf("its %s label is damaged (remove it and run its bundle again): %w: %w", LabelSpec, err, errdefs.ErrInvalid)
	}
	pinned, err := r.pinnedPath(ctx, cc, info)
	if err != nil {
		return nil, err
	}
	if pinned != "" {
		unlock, err := r.lockStart(cc.ID())
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := pinNetNS(pinned); err != nil {
			return nil, err
		}
	}
	task, tio, err := r.createTask(ctx, cc, spec, pinned, attach)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (containerd.Task, error) {
		_, _ = task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
		_ = r.detachNetworks(context.WithoutCancel(ctx), cc)
		_ = unpinNetNS(pinned)
		tio.abort()
		_ = r.unmountSecrets(cc.ID())
		return nil, err
	}
	if pinned == "" {
		end := timing.Start(ctx, "run/start/network")
		err = r.attachNetworks(ctx, cc, fmt.Sprintf("/proc/%d/ns/net", task.Pid()), spec)
		end()
		if err != nil {
			return fail(err)
		}
	}
	end := timing.Start(ctx, "run/start/task-start")
	err = tio.start(ctx, task)
	end()
	if err != nil {
		return fail(fmt.Errorf("start task: %w", explainStartError(errdefs.FromContainerd(err))))
	}
	end = timing.Start(ctx, "run/start/started-label")
	_, err = cc.SetLabels(ctx, map[string]string{LabelStartedAt: now()})
	end()
	return task, errdefs.FromContainerd(err)
}

// createTask mounts the container's secrets and creates its task. Network
// work that needs no task runs meanwhile: the firewall check and lease
// collection, and, with a pinned namespace, joining the networks. On
// failure it leaves no task, mount, lease or pinned namespace.
func (r *Runtime) createTask(ctx context.Context, cc containerd.Container, spec models.ContainerSpec, pinned string, attach *AttachOptions) (containerd.Task, *taskIO, error) {
	undo := func() {
		_ = unpinNetNS(pinned)
		_ = r.unmountSecrets(cc.ID())
	}
	logDir := r.LogDir(cc.ID())
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		undo()
		return nil, nil, fmt.Errorf("create log directory: %w", err)
	}
	if err := r.mountSecrets(ctx, cc); err != nil {
		undo()
		return nil, nil, err
	}
	tio, err := r.taskIO(spec, logDir, attach)
	if err != nil {
		undo()
		return nil, nil, err
	}
	joined := r.beginNetworks(ctx, cc, spec, pinned) // meanwhile: nothing in it needs the task
	end := timing.Start(ctx, "run/start/task-create")
	task, err := cc.NewTask(ctx, tio.creator)
	end()
	jerr := joined()
	if err == nil && jerr == nil {
		return task, tio, nil
	}
	if err == nil {
		_, _ = task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
		err = fmt.Errorf("join networks: %w", jerr)
	} else {
		err = fmt.Errorf("create task: %w", explainStartError(errdefs.FromContainerd(err)))
	}
	if pinned != "" && jerr == nil {
		_ = r.detachNetworks(context.WithoutCancel(ctx), cc)
	}
	tio.abort()
	undo()
	return nil, nil, err
}

// SetRestartCount records n as the container's restart count.
func (r *Runtime) SetRestartCount(ctx context.Context, id string, n int) error {
	cc, err := r.client.LoadContainer(r.ns(ctx), id)
	if err != nil {
		return fmt.Errorf("load container %s: %w", models.ShortID(id), errdefs.FromContainerd(err))
	}
	_, err = cc.SetLabels(r.ns(ctx), map[string]string{LabelRestartCount: strconv.Itoa(n)})
	return errdefs.FromContainerd(err)
}

// StopTask sends the container's stop signal and SIGKILL after its stop
// timeout, without marking it stopped by the user: the exit then goes
// through the restart policy. The keeper uses it for on_unhealthy: restart.
func (r *Runtime) StopTask(ctx context.Context, id string) error {
	ctx = r.ns(ctx)
	st, err := r.Status(ctx, id)
	if err != nil {
		return err
	}
	cc, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return fmt.Errorf("load container %s: %w", st.Container.Name, errdefs.FromContainerd(err))
	}
	task, err := cc.Task(ctx, nil)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", st.Container.Name, errdefs.FromContainerd(err))
	}
	timeout := DefaultStopTimeout
	if st.Container.Spec.StopTimeout > 0 {
		timeout = st.Container.Spec.StopTimeout
	}
	sig, err := ParseSignal(st.Container.Spec.StopSignal)
	if err != nil {
		return err
	}
	return stopTask(ctx, task, sig, timeout)
}
