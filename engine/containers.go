package engine

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// The container actions every front end calls: `budgie ps`, nest's
// containers view and the dashboard reach containerd through these, never
// through a forwarding layer of their own.

// Containers lists containers (opts.All: stopped ones too; opts.Filters).
func (e *Engine) Containers(ctx context.Context, opts runtime.ListOptions) ([]models.Container, error) {
	return e.Runtime.List(ctx, opts)
}

// Container returns one container by name, ID or unique ID prefix.
func (e *Engine) Container(ctx context.Context, ref string) (models.Container, error) {
	return e.Runtime.Get(ctx, ref)
}

// Start starts a created or stopped container.
func (e *Engine) Start(ctx context.Context, ref string) (models.Container, error) {
	return e.Runtime.Start(ctx, ref)
}

// Stop stops a container (opts.Timeout zero: its own stop timeout).
func (e *Engine) Stop(ctx context.Context, ref string, opts runtime.StopOptions) (models.Container, error) {
	return e.Runtime.Stop(ctx, ref, opts)
}

// Restart stops (as Stop) and starts a container.
func (e *Engine) Restart(ctx context.Context, ref string, opts runtime.StopOptions) (models.Container, error) {
	return e.Runtime.Restart(ctx, ref, opts)
}

// Remove removes a container (opts.Force: a running one too).
func (e *Engine) Remove(ctx context.Context, ref string, opts runtime.RemoveOptions) (models.Container, error) {
	return e.Runtime.Remove(ctx, ref, opts)
}

// Stats samples the running containers opts names (every one by default).
func (e *Engine) Stats(ctx context.Context, opts runtime.StatsOptions) (map[string]models.Stats, error) {
	return e.Runtime.Stats(ctx, opts)
}

// Events streams container events until ctx ends: containerd's, merged
// with the keeper's (health changes and restarts are not containerd
// events), each keeper event becoming an EventUpdate of its container so
// that a front end re-reads that one container. The keeper's stream is
// re-dialled while ctx lives, since the keeper may start later.
func (e *Engine) Events(ctx context.Context) (<-chan models.Event, <-chan error) {
	events, errc := e.Runtime.Events(ctx)
	out := make(chan models.Event, 256)
	fctx, stop := context.WithCancel(ctx)
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		e.forwardKeeperEvents(fctx, out)
	}()
	go func() {
		// out closes once both streams are done: the keeper's forwarder
		// must not send on a closed channel when containerd's stream
		// breaks first.
		defer close(out)
		defer func() { stop(); <-forwarded }()
		for ev := range events {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errc
}

// forwardKeeperEvents turns keeper events into container updates until
// ctx ends.
func (e *Engine) forwardKeeperEvents(ctx context.Context, out chan<- models.Event) {
	for ctx.Err() == nil {
		kev, kerr := e.Keeper.Events(ctx)
		for ev := range kev {
			if ev.ContainerID == "" {
				continue
			}
			select {
			case out <- models.Event{Type: models.EventUpdate, ContainerID: ev.ContainerID, Time: time.Now()}:
			case <-ctx.Done():
				return
			}
		}
		<-kerr
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// LogsOptions tune Logs.
type LogsOptions struct {
	// Stdout and Stderr receive the container's two streams; nil discards.
	Stdout, Stderr io.Writer
	// Tail is how many last lines to start with; negative means all.
	Tail int
	// Since skips lines older than it; zero means none.
	Since time.Time
	// Timestamps prefixes each line with its time.
	Timestamps bool
	// Follow keeps reading new lines until the container stops or ctx ends.
	Follow bool
}

// Logs writes a container's log lines, following them (opts.Follow) until
// the container is neither running nor paused. A cancelled ctx ends a
// follow without an error.
func (e *Engine) Logs(ctx context.Context, ref string, opts LogsOptions) error {
	c, err := e.Runtime.Get(ctx, ref)
	if err != nil {
		return err
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	err = logs.Read(ctx, e.Runtime.LogDir(c.ID), logs.ReadOptions{
		Stdout: stdout, Stderr: stderr, Tail: opts.Tail, Since: opts.Since,
		Timestamps: opts.Timestamps, Follow: opts.Follow,
		Done: func() bool {
			cur, err := e.Runtime.Get(ctx, c.ID)
			return err != nil || (cur.State != models.StateRunning && cur.State != models.StatePaused)
		},
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
