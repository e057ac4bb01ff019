package runtime

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	cerrdefs "github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
)

// DefaultStopTimeout is how long stop waits for the stop signal to work.
const DefaultStopTimeout = 10 * time.Second

// StopOptions tune Stop.
type StopOptions struct {
	// Timeout overrides the bundle's stop_timeout when non-nil.
	Timeout *time.Duration
}

// Stop sends the container's stop signal, waits for its timeout, then
// SIGKILL. It records that a user stopped it, so that restart policies leave
// it stopped. Stopping a stopped container is not an error.
func (r *Runtime) Stop(ctx context.Context, ref string, opts StopOptions) (models.Container, error) {
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return c, err
	}
	ctx = r.ns(ctx)
	if _, err := cc.SetLabels(ctx, map[string]string{LabelStoppedByUser: "true"}); err != nil {
		return c, fmt.Errorf("stop %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	task, err := cc.Task(ctx, nil)
	if cerrdefs.IsNotFound(err) {
		return r.Get(ctx, c.ID)
	}
	if err != nil {
		return c, fmt.Errorf("stop %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	timeout := DefaultStopTimeout
	if c.Spec.StopTimeout > 0 {
		timeout = c.Spec.StopTimeout
	}
	if opts.Timeout != nil {
		timeout = *opts.Timeout
	}
	sig, err := ParseSignal(c.Spec.StopSignal)
	if err != nil {
		return c, err
	}
	end := timing.Start(ctx, "stop/signal")
	err = stopTask(ctx, task, sig, timeout)
	end()
	if err != nil {
		return c, fmt.Errorf("stop %s: %w", c.Name, err)
	}
	if err := r.deleteTask(ctx, cc, task); err != nil {
		return c, fmt.Errorf("stop %s: %w", c.Name, err)
	}
	if err := r.RefreshHosts(ctx); err != nil {
		return c, fmt.Errorf("stop %s: %w", c.Name, err)
	}
	if err := r.unmountSecrets(c.ID); err != nil {
		return c, fmt.Errorf("stop %s: %w", c.Name, err)
	}
	return r.Get(ctx, c.ID)
}

// stopTask signals task with sig and, if it has not exited after timeout, SIGKILLs it.
func stopTask(ctx context.Context, task containerd.Task, sig syscall.Signal, timeout time.Duration) error {
	st, err := task.Status(ctx)
	if err != nil {
		return errdefs.FromContainerd(err)
	}
	if st.Status == containerd.Stopped || st.Status == containerd.Created {
		return nil
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return errdefs.FromContainerd(err)
	}
	if st.Status == containerd.Paused {
		_ = task.Resume(ctx)
	}
	if err := task.Kill(ctx, sig); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("send %s: %w", unix.SignalName(sig), errdefs.FromContainerd(err))
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("send SIGKILL: %w", errdefs.FromContainerd(err))
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deleteTask deletes an exited task, keeping its exit code and time in the
// container's labels; the caller refreshes the hosts files (a start
// that follows writes them once).
func (r *Runtime) deleteTask(ctx context.Context, cc containerd.Container, task containerd.Task) error {
	end := timing.Start(ctx, "stop/delete-task")
	st, err := task.Delete(ctx)
	end()
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("delete task: %w", errdefs.FromContainerd(err))
	}
	end = timing.Start(ctx, "stop/network")
	err = r.detachNetworks(ctx, cc)
	end()
	if err != nil {
		return err
	}
	end = timing.Start(ctx, "stop/netns")
	err = r.releaseNetNS(cc.ID())
	end()
	if err != nil {
		return err
	}
	labels := map[string]string{LabelExitCode: "0", LabelFinishedAt: now()}
	if st != nil {
		labels[LabelExitCode] = strconv.Itoa(int(st.ExitCode()))
		if t := st.ExitTime(); !t.IsZero() && t.Year() > 1970 {
			labels[LabelFinishedAt] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	_, err = cc.SetLabels(ctx, labels)
	return errdefs.FromContainerd(err)
}

// Restart stops the container (as Stop) and starts it again.
func (r *Runtime) Restart(ctx context.Context, ref string, opts StopOptions) (models.Container, error) {
	c, err := r.Stop(ctx, ref, opts)
	if err != nil {
		return c, err
	}
	return r.Start(ctx, c.ID)
}

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Force kills a running container first.
	Force bool
	// Volumes also removes the named volumes it mounts that no other container uses.
	Volumes bool
}

// Remove deletes a container, its task, its snapshot and its logs.
func (r *Runtime) Remove(ctx context.Context, ref string, opts RemoveOptions) (models.Container, error) {
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return c, err
	}
	ctx = r.ns(ctx)
	if (c.State == models.StateRunning || c.State == models.StatePaused) && !opts.Force {
		return c, fmt.Errorf("container %s is %s: stop it first (budgie stop %s) or force it (budgie rm -f %s): %w",
			c.Name, c.State, c.Name, c.Name, errdefs.ErrConflict)
	}
	// As for stop: the keeper must not answer the kill, or an exit before
	// it, with a restart (it did, under the removal, which then failed on
	// the new task and left the container).
	if _, err := cc.SetLabels(ctx, map[string]string{LabelStoppedByUser: "true"}); err != nil {
		return c, fmt.Errorf("remove %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	if err := killAndDelete(ctx, cc); err != nil {
		return c, fmt.Errorf("remove %s: %w", c.Name, err)
	}
	if err := r.detachNetworks(ctx, cc); err != nil {
		return c, fmt.Errorf("remove %s: %w", c.Name, err)
	}
	if err := r.releaseNetNS(c.ID); err != nil {
		return c, fmt.Errorf("remove %s: %w", c.Name, err)
	}
	_ = os.Remove(r.HostsPath(c.ID))
	if err := r.unmountSecrets(c.ID); err != nil {
		return c, fmt.Errorf("remove %s: %w", c.Name, err)
	}
	for attempt := 1; ; attempt++ {
		err := cc.Delete(ctx, containerd.WithSnapshotCleanup)
		if err == nil || cerrdefs.IsNotFound(err) {
			break
		}
		if attempt == 3 || !cerrdefs.IsFailedPrecondition(err) {
			return c, fmt.Errorf("remove %s: %w", c.Name, errdefs.FromContainerd(err))
		}
		// A task started after ours was deleted (a restart that began
		// before the label above was read): delete it too, with what its
		// start joined.
		if err := killAndDelete(ctx, cc); err != nil {
			return c, fmt.Errorf("remove %s: %w", c.Name, err)
		}
		_ = r.detachNetworks(ctx, cc)
		_ = r.releaseNetNS(c.ID)
	}
	_ = os.Remove(r.startLockPath(c.ID))
	if err := logs.Remove(r.LogDir(c.ID)); err != nil {
		return c, fmt.Errorf("remove logs of %s: %w", c.Name, err)
	}
	if opts.Volumes {
		if err := r.removeUnusedVolumes(ctx, c.Spec); err != nil {
			return c, err
		}
	}
	return c, nil
}

// killAndDelete kills and deletes cc's task, if it has one. A task seen
// as created may be started meanwhile (the keeper restarting it), which
// makes containerd refuse the delete: it is killed again, up to 3 times.
func killAndDelete(ctx context.Context, cc containerd.Container) error {
	var err error
	for range 3 {
		task, terr := cc.Task(ctx, nil)
		if terr != nil {
			return nil
		}
		if err = stopTask(ctx, task, syscall.SIGKILL, 5*time.Second); err != nil {
			return err
		}
		_, err = task.Delete(ctx, containerd.WithProcessKill)
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		if !cerrdefs.IsFailedPrecondition(err) {
			break
		}
	}
	return fmt.Errorf("delete task: %w", errdefs.FromContainerd(err))
}

func (r *Runtime) removeUnusedVolumes(ctx context.Context, spec models.ContainerSpec) error {
	users, err := r.volumeUsers(ctx)
	if err != nil {
		return err
	}
	for _, v := range spec.Volumes {
		if v.Kind == models.VolumeNamed && len(users[v.Source]) == 0 {
			if err := os.RemoveAll(r.VolumeDir(v.Source)); err != nil {
				return fmt.Errorf("remove volume %s: %w", v.Source, err)
			}
		}
	}
	return nil
}

// Kill sends sig (a name like "SIGHUP"/"HUP" or a number; empty means SIGKILL) to the task.
func (r *Runtime) Kill(ctx context.Context, ref, signal string) (models.Container, error) {
	if signal == "" {
		signal = "SIGKILL"
	}
	sig, err := ParseSignal(signal)
	if err != nil {
		return models.Container{}, err
	}
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return c, err
	}
	task, err := cc.Task(r.ns(ctx), nil)
	if err != nil || c.State != models.StateRunning {
		return c, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	if err := task.Kill(r.ns(ctx), sig); err != nil {
		return c, fmt.Errorf("kill %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	return c, nil
}

// Wait blocks until the container's task exits and returns its exit code.
// A container with no running task returns its last exit code at once.
func (r *Runtime) Wait(ctx context.Context, ref string) (int, error) {
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return 0, err
	}
	task, err := cc.Task(r.ns(ctx), nil)
	if err != nil {
		return c.ExitCode, nil
	}
	ch, err := task.Wait(r.ns(ctx))
	if err != nil {
		return 0, fmt.Errorf("wait for %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	select {
	case st := <-ch:
		code, _, err := st.Result()
		return int(code), errdefs.FromContainerd(err)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// load resolves ref and loads its containerd container.
func (r *Runtime) load(ctx context.Context, ref string) (models.Container, containerd.Container, error) {
	c, err := r.Get(ctx, ref)
	if err != nil {
		return c, nil, err
	}
	cc, err := r.client.LoadContainer(r.ns(ctx), c.ID)
	if err != nil {
		return c, nil, fmt.Errorf("load container %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	return c, cc, nil
}

// ParseSignal parses "SIGTERM", "TERM" or "15"; empty means SIGTERM.
func ParseSignal(s string) (syscall.Signal, error) {
	if s == "" {
		return syscall.SIGTERM, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q (use a name like SIGTERM or a number): %w", s, errdefs.ErrInvalid)
}
