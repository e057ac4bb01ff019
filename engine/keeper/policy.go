package keeper

import (
	"time"

	"github.com/budgie-sh/budgie/models"
)

// Backoff bounds, Docker's: the first restart waits MinBackoff, each quick
// failure doubles the wait up to MaxBackoff, and a run of at least
// ResetUptime starts over.
const (
	MinBackoff  = 100 * time.Millisecond
	MaxBackoff  = time.Minute
	ResetUptime = 10 * time.Second
)

// NextBackoff returns the wait before the next restart, given the previous
// wait (zero when there was none) and how long the task ran.
func NextBackoff(prev, uptime time.Duration) time.Duration {
	if prev == 0 || uptime >= ResetUptime {
		return MinBackoff
	}
	return min(prev*2, MaxBackoff)
}

// Exit describes why a task is not running, for Decide.
type Exit struct {
	// Code is the exit code.
	Code int
	// StoppedByUser is true when a manual stop ended it.
	StoppedByUser bool
	// Restarts is how many times the keeper restarted it since the last manual start.
	Restarts int
	// AfterBoot is true when the task ended because the node went down (it
	// ran before the node's current boot), not because it exited.
	AfterBoot bool
}

// Decide applies a restart policy, with Docker's semantics. While the node
// is up: always and unless-stopped restart any exit, on-failure restarts a
// non-zero exit until it has restarted max_retries times (0: no limit), and a
// manual stop is never undone. After a node restart, always comes back
// (even after a manual stop, as Docker's daemon restart does), unless-stopped
// only if it was not stopped by hand, and on-failure does not. (After a
// keeper restart the worker's reconcile likewise leaves on-failure
// containers that exited unwatched alone.)
func Decide(policy models.RestartPolicy, e Exit) bool {
	if e.AfterBoot {
		switch policy.Name {
		case models.RestartAlways:
			return true
		case models.RestartUnlessStopped:
			return !e.StoppedByUser
		}
		return false
	}
	if e.StoppedByUser {
		return false
	}
	switch policy.Name {
	case models.RestartAlways, models.RestartUnlessStopped:
		return true
	case models.RestartOnFailure:
		return e.Code != 0 && (policy.MaxRetries == 0 || e.Restarts < policy.MaxRetries)
	}
	return false
}
