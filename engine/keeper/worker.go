package keeper

import (
	"context"
	"errors"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

type msgKind int

const (
	msgExit      msgKind = iota // the task exited
	msgStart                    // a task started
	msgUpdate                   // the container's labels changed (a manual stop marks it)
	msgOOM                      // the task hit its memory limit
	msgReconcile                // the keeper (re)connected: compare with containerd
	msgUnhealthy                // the health check turned unhealthy
)

type message struct {
	kind msgKind
	code int
	at   time.Time
}

// worker is the state machine of one supervised container. Only its own
// goroutine touches its fields; what others read goes through supervisor.update.
type worker struct {
	s      *supervisor
	id     string
	name   string
	spec   models.ContainerSpec
	msgs   chan message
	ctx    context.Context
	cancel context.CancelFunc

	delay      time.Duration // the last backoff; zero before the first restart
	timer      *time.Timer   // the pending restart; nil when none
	ours       bool          // the next start event is our own restart
	healthStop context.CancelFunc
}

func newWorker(s *supervisor, c models.Container) *worker {
	ctx, cancel := context.WithCancel(s.root)
	return &worker{s: s, id: c.ID, name: c.Name, spec: c.Spec, msgs: make(chan message, 64), ctx: ctx, cancel: cancel}
}

func (w *worker) send(ctx context.Context, m message) {
	select {
	case w.msgs <- m:
	case <-w.ctx.Done():
	case <-ctx.Done():
	}
}

func (w *worker) run() {
	defer w.stopHealth()
	for {
		var fire <-chan time.Time
		if w.timer != nil {
			fire = w.timer.C
		}
		select {
		case <-w.ctx.Done():
			if w.timer != nil {
				w.timer.Stop()
			}
			return
		case m := <-w.msgs:
			w.handle(m)
		case <-fire:
			w.timer = nil
			w.restart()
		}
	}
}

func (w *worker) handle(m message) {
	switch m.kind {
	case msgExit:
		w.stopHealth()
		w.onExit(m.code, m.at)
	case msgStart:
		w.onStart()
	case msgUpdate:
		w.onUpdate()
	case msgOOM:
		w.s.update(w.id, func(st *Supervision) { st.OOMKilled = true })
	case msgReconcile:
		w.reconcile()
	case msgUnhealthy:
		w.onUnhealthy()
	}
}

// onExit decides what an exit means: a restart after the backoff, or nothing.
func (w *worker) onExit(code int, at time.Time) {
	if w.timer != nil {
		return // this exit is already answered
	}
	st, err := w.s.rt.Status(w.ctx, w.id)
	if err != nil {
		w.s.log.Warn("read container after exit", "container", w.name, "err", err)
		return
	}
	c := st.Container
	if c.State == models.StateRunning || c.State == models.StatePaused {
		return // started again already (a stale or repeated exit)
	}
	if at.IsZero() {
		at = time.Now()
	}
	w.s.update(w.id, func(s *Supervision) { s.ExitCode, s.RestartCount = code, c.RestartCount })
	exit := Exit{Code: code, StoppedByUser: st.StoppedByUser, Restarts: c.RestartCount}
	if !Decide(w.spec.RestartPolicy, exit) {
		w.s.publish(Notice{Type: NoticeExited, ContainerID: w.id, Name: w.name, ExitCode: code, RestartCount: c.RestartCount})
		return
	}
	uptime := time.Duration(0)
	if !c.StartedAt.IsZero() && at.After(c.StartedAt) {
		uptime = at.Sub(c.StartedAt)
	}
	w.delay = NextBackoff(w.delay, uptime)
	w.schedule(code, c.RestartCount)
}

// schedule arms the restart timer for w.delay.
func (w *worker) schedule(code, restarts int) {
	next := time.Now().Add(w.delay)
	w.timer = time.NewTimer(w.delay)
	w.s.update(w.id, func(s *Supervision) { s.Restarting, s.NextRestart, s.Backoff = true, next, w.delay })
	w.s.publish(Notice{Type: NoticeRestartScheduled, ContainerID: w.id, Name: w.name, ExitCode: code,
		RestartCount: restarts, NextRestart: next})
}

// cancelRestart drops a pending restart.
func (w *worker) cancelRestart(reason string) {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.s.update(w.id, func(s *Supervision) { s.Restarting, s.NextRestart = false, time.Time{} })
	w.s.publish(Notice{Type: NoticeRestartCancelled, ContainerID: w.id, Name: w.name, Message: reason})
}

// restart runs when the backoff is over: it checks again that nobody
// stopped or started the container meanwhile, then starts a new task.
func (w *worker) restart() {
	st, err := w.s.rt.Status(w.ctx, w.id)
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return
	case err != nil:
		w.s.log.Warn("read container before restart; retrying", "container", w.name, "err", err)
		w.delay = NextBackoff(w.delay, 0)
		w.schedule(0, 0)
		return
	case st.StoppedByUser:
		w.cancelRestart("stopped by user")
		return
	case st.Container.State == models.StateRunning || st.Container.State == models.StatePaused:
		w.s.update(w.id, func(s *Supervision) { s.Restarting, s.NextRestart = false, time.Time{} })
		return
	}
	n := st.Container.RestartCount + 1
	w.ours = true
	_, err = w.s.rt.RestartTask(w.ctx, w.id, runtime.RestartTaskOptions{Count: n})
	w.s.update(w.id, func(s *Supervision) {
		s.Restarting, s.NextRestart, s.RestartCount, s.OOMKilled = false, time.Time{}, n, false
	})
	switch {
	case errors.Is(err, runtime.ErrStoppedByUser):
		w.ours = false
		w.cancelRestart("stopped by user")
	case err != nil:
		// A task that cannot start counts as a failed run (Docker: exit 127 or 126).
		w.ours = false
		w.s.publish(Notice{Type: NoticeRestartFailed, ContainerID: w.id, Name: w.name, RestartCount: n, Message: err.Error()})
		code := 127
		var ee *runtime.ExitError
		if errors.As(err, &ee) {
			code = ee.Code
		}
		w.onExit(code, time.Now())
	default:
		w.s.publish(Notice{Type: NoticeRestarted, ContainerID: w.id, Name: w.name, RestartCount: n})
		w.startHealth()
	}
}

// onStart handles a task start: our own restart, or a manual start, which
// cancels a pending restart and starts the count and the backoff over.
func (w *worker) onStart() {
	if w.ours {
		w.ours = false
	} else {
		if w.timer != nil {
			w.timer.Stop()
			w.timer = nil
		}
		w.delay = 0
		if err := w.s.rt.SetRestartCount(w.ctx, w.id, 0); err != nil {
			w.s.log.Warn("reset restart count", "container", w.name, "err", err)
		}
		w.s.update(w.id, func(s *Supervision) {
			s.Restarting, s.NextRestart, s.RestartCount, s.OOMKilled, s.Backoff = false, time.Time{}, 0, false, 0
		})
	}
	w.startHealth()
}

// onUpdate cancels a pending restart as soon as a manual stop marks the container.
func (w *worker) onUpdate() {
	if w.timer == nil {
		return
	}
	if st, err := w.s.rt.Status(w.ctx, w.id); err == nil && st.StoppedByUser {
		w.cancelRestart("stopped by user")
	}
}

// reconcile compares the container with its policy after the keeper
// (re)connected to containerd.
func (w *worker) reconcile() {
	if w.timer != nil {
		return
	}
	st, err := w.s.rt.Status(w.ctx, w.id)
	if err != nil {
		return
	}
	c := st.Container
	switch {
	case c.State == models.StateRunning || c.State == models.StatePaused:
		w.s.update(w.id, func(s *Supervision) { s.RestartCount = c.RestartCount })
		w.startHealth()
	case c.StartedAt.IsZero():
		// never started: nothing to bring back
	case !w.s.boot.IsZero() && c.StartedAt.Before(w.s.boot):
		w.afterBoot(st)
	case w.spec.RestartPolicy.Name == models.RestartOnFailure:
		// It exited while nobody watched (keeper down, containerd
		// restarted): as after Docker's daemon restart, on-failure does
		// not bring it back; always and unless-stopped do (below).
		w.s.publish(Notice{Type: NoticeExited, ContainerID: w.id, Name: w.name,
			Message: "exited while no keeper watched; on-failure does not restart it after a keeper restart"})
	default:
		w.onExit(c.ExitCode, c.FinishedAt)
	}
}

// afterBoot starts a container whose last run ended with the node, if its
// policy says so. It is a start, as Docker's daemon start: it clears a
// manual stop (only always gets here with one).
func (w *worker) afterBoot(st runtime.Status) {
	if !Decide(w.spec.RestartPolicy, Exit{AfterBoot: true, StoppedByUser: st.StoppedByUser}) {
		return
	}
	w.ours = true
	if _, err := w.s.rt.Start(w.ctx, w.id); err != nil {
		w.ours = false
		w.s.publish(Notice{Type: NoticeRestartFailed, ContainerID: w.id, Name: w.name, Message: err.Error()})
		return
	}
	w.s.publish(Notice{Type: NoticeRestarted, ContainerID: w.id, Name: w.name, RestartCount: st.Container.RestartCount,
		Message: "node restarted"})
	w.startHealth()
}

// onUnhealthy stops the task for on_unhealthy: restart; its exit then goes
// through the restart policy like any other.
func (w *worker) onUnhealthy() {
	if w.spec.Health == nil || w.spec.Health.OnUnhealthy != "restart" {
		return
	}
	w.s.publish(Notice{Type: NoticeUnhealthyRestart, ContainerID: w.id, Name: w.name, Health: models.HealthUnhealthy})
	if err := w.s.rt.StopTask(w.ctx, w.id); err != nil {
		w.s.log.Warn("stop unhealthy container", "container", w.name, "err", err)
	}
}
