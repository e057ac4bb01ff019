package engine

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// PauseOptions tune Pause and Unpause; the zero value is the default (there
// is nothing to tune yet).
type PauseOptions struct{}

// Pause freezes every process of a running container (containerd's task
// Pause: the freezer cgroup, v1 or v2). The container stays listed, as
// paused; its processes get no CPU until Unpause. Pausing a container that
// is not running is a conflict.
func (e *Engine) Pause(ctx context.Context, ref string, _ PauseOptions) (models.Container, error) {
	c, task, tctx, err := e.task(ctx, ref)
	if err != nil {
		return c, err
	}
	if c.State == models.StatePaused {
		return c, fmt.Errorf("container %s is already paused (budgie unpause %s): %w", c.Name, c.Name, errdefs.ErrConflict)
	}
	if c.State != models.StateRunning {
		return c, fmt.Errorf("container %s is %s, not running (start it: budgie start %s): %w", c.Name, c.State, c.Name, errdefs.ErrConflict)
	}
	if err := task.Pause(tctx); err != nil {
		return c, fmt.Errorf("pause %s (needs the freezer cgroup): %w", c.Name, errdefs.FromContainerd(err))
	}
	return e.Runtime.Get(ctx, c.ID)
}

// Unpause thaws a paused container's processes (containerd's task
// Resume). Unpausing a container that is not paused is a conflict.
func (e *Engine) Unpause(ctx context.Context, ref string, _ PauseOptions) (models.Container, error) {
	c, task, tctx, err := e.task(ctx, ref)
	if err != nil {
		return c, err
	}
	if c.State != models.StatePaused {
		return c, fmt.Errorf("container %s is %s, not paused: %w", c.Name, c.State, errdefs.ErrConflict)
	}
	if err := task.Resume(tctx); err != nil {
		return c, fmt.Errorf("unpause %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	return e.Runtime.Get(ctx, c.ID)
}

// task resolves ref and loads its containerd task, with the context in
// Budgie's namespace that the task's calls need. A container without a
// task (created, exited) is a conflict that says how to start it.
func (e *Engine) task(ctx context.Context, ref string) (models.Container, containerd.Task, context.Context, error) {
	c, err := e.Runtime.Get(ctx, ref)
	if err != nil {
		return c, nil, nil, err
	}
	tctx := namespaces.WithNamespace(ctx, e.Config.Containerd.Namespace)
	cc, err := e.Client().LoadContainer(tctx, c.ID)
	if err != nil {
		return c, nil, nil, fmt.Errorf("load container %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	task, err := cc.Task(tctx, nil)
	if err != nil || (c.State != models.StateRunning && c.State != models.StatePaused) {
		return c, nil, nil, fmt.Errorf("container %s is %s, not running (start it: budgie start %s): %w",
			c.Name, c.State, c.Name, errdefs.ErrConflict)
	}
	return c, task, tctx, nil
}
