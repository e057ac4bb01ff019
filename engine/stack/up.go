package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// DefaultTimeout is how long a container waits for a dependency's
// condition when depends_on sets no timeout.
const DefaultTimeout = 60 * time.Second

// ErrDependency is wrapped by Up when a dependency does not reach its condition.
var ErrDependency = errors.New("dependency failed")

// Options tune Up.
type Options struct {
	// Run returns the run options of one spec; nil means the zero options.
	Run func(spec models.ContainerSpec) runtime.RunOptions
	// Timeout replaces DefaultTimeout for dependencies without their own.
	Timeout time.Duration
	// Poll is how often health and state are read while waiting; zero means 100 ms.
	Poll time.Duration
	// Started is called after each container starts; nil means nothing.
	Started func(models.Container)
}

// Up runs specs in dependency order: each starts once every dependency has
// reached its condition, independent ones in parallel. Dependencies outside
// specs must exist on the node. If any container fails, Up stops waiting,
// removes every container it started and returns the first error, which
// names the container ("db is unhealthy", "migrate exited 3"). Health for
// the healthy condition comes from the keeper through rt's KeeperState.
func Up(ctx context.Context, rt *runtime.Runtime, specs []models.ContainerSpec, opts Options) ([]models.Container, error) {
	if _, err := Levels(specs); err != nil {
		return nil, err
	}
	u := &up{rt: rt, opts: opts, done: map[string]chan struct{}{}, byName: map[string]models.ContainerSpec{}}
	for _, s := range specs {
		u.done[s.Name] = make(chan struct{})
		u.byName[s.Name] = s
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(u.done[s.Name])
			if err := u.start(ctx, s); err != nil {
				u.fail(err)
				cancel()
			}
		}()
	}
	wg.Wait()
	if u.err != nil {
		for i := len(u.started) - 1; i >= 0; i-- {
			_, _ = rt.Remove(context.WithoutCancel(ctx), u.started[i].ID, runtime.RemoveOptions{Force: true})
		}
		return nil, u.err
	}
	return u.started, nil
}

type up struct {
	rt     *runtime.Runtime
	opts   Options
	done   map[string]chan struct{} // closed when that container started or failed
	byName map[string]models.ContainerSpec

	mu      sync.Mutex
	started []models.Container
	ok      map[string]bool
	err     error
}

func (u *up) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err == nil || errors.Is(u.err, context.Canceled) {
		u.err = err
	}
}

// start waits for the dependencies of s, then runs it.
func (u *up) start(ctx context.Context, s models.ContainerSpec) error {
	for _, d := range s.DependsOn {
		if err := u.await(ctx, s.Name, d); err != nil {
			return err
		}
	}
	var ro runtime.RunOptions
	if u.opts.Run != nil {
		ro = u.opts.Run(s)
	}
	if s.Replicas == nil {
		return u.run(ctx, s, ro)
	}
	n := runtime.ReplicaCount(s)
	for i := 1; i <= n; i++ {
		ro := ro
		ro.Service, ro.Replica = s.Name, i
		ro.DeferHosts = i < n // the last replica's start writes every hosts file once
		if err := u.run(ctx, runtime.ReplicaSpec(s, i), ro); err != nil {
			if i > 1 {
				_ = u.rt.RefreshHosts(context.WithoutCancel(ctx))
			}
			return err
		}
	}
	return nil
}

// run runs one container and records it as started.
func (u *up) run(ctx context.Context, s models.ContainerSpec, ro runtime.RunOptions) error {
	c, err := u.rt.Run(ctx, s, ro)
	if err != nil {
		return err
	}
	u.mu.Lock()
	u.started = append(u.started, c)
	if u.ok == nil {
		u.ok = map[string]bool{}
	}
	u.ok[c.Service] = true
	u.mu.Unlock()
	if u.opts.Started != nil {
		u.opts.Started(c)
	}
	return nil
}

// target is the container a dependency on name waits for: name itself, or
// the first replica of a replicated container of this stack.
func (u *up) target(name string) string {
	if s, ok := u.byName[name]; ok && s.Replicas != nil {
		return runtime.ReplicaName(name, 1)
	}
	return name
}

// await waits until dependency d of name reaches its condition.
func (u *up) await(ctx context.Context, name string, d models.Dependency) error {
	if ch, in := u.done[d.Name]; in {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		u.mu.Lock()
		ok := u.ok[d.Name]
		u.mu.Unlock()
		if !ok {
			return fmt.Errorf("%s not started: its dependency %s failed: %w", name, d.Name, context.Canceled)
		}
	} else if _, err := u.rt.Get(ctx, d.Name); errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("%s depends on %s, which is neither in this stack nor on the node: %w", name, d.Name, errdefs.ErrNotFound)
	}
	timeout := d.Timeout
	if timeout == 0 {
		timeout = u.opts.Timeout
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	d.Name = u.target(d.Name)
	if err := u.condition(ctx, d, timeout); err != nil {
		return fmt.Errorf("%s not started: %w", name, err)
	}
	return nil
}
