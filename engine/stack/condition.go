package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// condition waits up to timeout for d's condition.
func (u *up) condition(ctx context.Context, d models.Dependency, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cond := d.Condition
	if cond == "" {
		cond = models.ConditionStarted
	}
	if cond == models.ConditionCompletedSuccessfully {
		return u.completed(ctx, d.Name, timeout)
	}
	poll := u.opts.Poll
	if poll == 0 {
		poll = 100 * time.Millisecond
	}
	var last models.Container
	for {
		c, err := u.rt.Get(ctx, d.Name)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			last = c
			done, err := reached(c, cond)
			if done || err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return timedOut(ctx, last, cond, timeout)
		case <-time.After(poll):
		}
	}
}

// reached says whether c meets cond, or why it never will.
func reached(c models.Container, cond string) (bool, error) {
	running := c.State == models.StateRunning || c.State == models.StatePaused
	switch {
	case cond == models.ConditionStarted && running:
		return true, nil
	case cond == models.ConditionStarted && c.State == models.StateExited:
		return false, fmt.Errorf("%s is not running, it exited %d (start it: budgie start %s): %w", c.Name, c.ExitCode, c.Name, ErrDependency)
	case cond != models.ConditionHealthy:
		return false, nil
	case c.Spec.Health == nil:
		return false, fmt.Errorf("%s has no health check, so condition healthy can never hold (add health: to its bundle): %w", c.Name, ErrDependency)
	case c.Health == models.HealthUnhealthy:
		return false, fmt.Errorf("%s is unhealthy: %w", c.Name, ErrDependency)
	case c.Health == models.HealthHealthy && running:
		return true, nil
	case c.State == models.StateExited:
		return false, fmt.Errorf("%s exited %d before it became healthy: %w", c.Name, c.ExitCode, ErrDependency)
	}
	return false, nil
}

func timedOut(ctx context.Context, c models.Container, cond string, timeout time.Duration) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	msg := fmt.Sprintf("%s did not become %s within %s (it is %s", c.Name, cond, timeout, c.State)
	if cond == models.ConditionHealthy {
		if c.Health == models.HealthNone {
			msg += ", health unknown: is the keeper running? budgie --headless serve"
		} else {
			msg += ", " + string(c.Health)
		}
	}
	return fmt.Errorf("%s): %w: %w", msg, ErrDependency, context.DeadlineExceeded)
}

// completed waits for name to exit and wants exit code 0.
func (u *up) completed(ctx context.Context, name string, timeout time.Duration) error {
	code, err := u.rt.Wait(ctx, name)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not complete within %s: %w: %w", name, timeout, ErrDependency, err)
		}
		return err
	}
	if code != 0 {
		return fmt.Errorf("%s exited %d: %w", name, code, ErrDependency)
	}
	return nil
}
