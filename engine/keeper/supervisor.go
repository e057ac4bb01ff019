package keeper

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// supervisor applies restart policies and runs health checks. One worker
// goroutine per supervised container handles that container's events in
// order, so one exit never causes two restarts.
type supervisor struct {
	rt     *runtime.Runtime
	log    *slog.Logger
	boot   time.Time
	ensure func(context.Context) error
	root   context.Context // workers live as long as it

	mu      sync.Mutex
	workers map[string]*worker
	ignored map[string]bool // containers without policy or health check
	states  map[string]*Supervision
	subs    map[chan Notice]struct{}
}

func newSupervisor(rt *runtime.Runtime, log *slog.Logger, ensure func(context.Context) error) *supervisor {
	return &supervisor{
		rt: rt, log: log, boot: bootTime(), ensure: ensure,
		workers: map[string]*worker{}, ignored: map[string]bool{},
		states: map[string]*Supervision{}, subs: map[chan Notice]struct{}{},
	}
}

// run follows containerd's events until ctx ends. It subscribes first and
// reconciles second, so that no exit falls between the two; when the stream
// breaks (containerd restarted) it reconnects with backoff and reconciles again.
func (s *supervisor) run(ctx context.Context) {
	s.root = ctx
	wait := time.Duration(0)
	for ctx.Err() == nil {
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			if s.ensure != nil {
				if err := s.ensure(ctx); err != nil {
					s.log.Warn("containerd still unreachable", "err", err)
				}
			}
		}
		sctx, cancel := context.WithCancel(ctx)
		events, errc := s.rt.Events(sctx)
		if err := s.reconcile(sctx); err != nil {
			cancel()
			s.log.Warn("reconcile failed; retrying", "err", err)
			wait = min(max(2*wait, 100*time.Millisecond), 5*time.Second)
			continue
		}
		wait = 0
		err := s.follow(sctx, events, errc)
		cancel()
		if ctx.Err() == nil {
			s.log.Warn("containerd event stream ended; reconnecting", "err", err)
			wait = 100 * time.Millisecond
		}
	}
}

// follow dispatches events until the stream ends.
func (s *supervisor) follow(ctx context.Context, events <-chan models.Event, errc <-chan error) error {
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				select {
				case err := <-errc:
					return err
				default:
					return errors.New("event stream closed")
				}
			}
			s.dispatch(ctx, ev)
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// reconcile brings every supervised container in line with its policy.
func (s *supervisor) reconcile(ctx context.Context) error {
	cs, err := s.rt.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.ID] = true
		if w := s.worker(ctx, c.ID); w != nil {
			w.send(ctx, message{kind: msgReconcile})
		}
	}
	s.mu.Lock()
	for id, w := range s.workers {
		if !seen[id] {
			w.cancel()
			delete(s.workers, id)
			delete(s.states, id)
		}
	}
	s.mu.Unlock()
	return nil
}

func (s *supervisor) dispatch(ctx context.Context, ev models.Event) {
	var m message
	switch ev.Type {
	case models.EventExit:
		m = message{kind: msgExit, code: ev.ExitCode, at: ev.Time}
		go s.releaseNetNS(ctx, ev.ContainerID)
	case models.EventStart:
		m = message{kind: msgStart}
	case models.EventUpdate:
		m = message{kind: msgUpdate}
	case models.EventOOM:
		m = message{kind: msgOOM}
	case models.EventRemove:
		s.forget(ev.ContainerID)
		return
	default:
		return
	}
	if w := s.worker(ctx, ev.ContainerID); w != nil {
		w.send(ctx, m)
	}
}

// releaseNetNS ends the pinned network namespace of a task that exited
// (its interfaces would otherwise outlive it until the next start). It
// waits for a start of the container in progress, so it runs on its own.
func (s *supervisor) releaseNetNS(ctx context.Context, id string) {
	if err := s.rt.ReleaseNetNS(ctx, id); err != nil {
		s.log.Warn("release the network namespace of an exited task", "container", models.ShortID(id), "err", err)
	}
}

// worker returns the worker of container id, starting one when the
// container has a restart policy or a health check; nil otherwise.
func (s *supervisor) worker(ctx context.Context, id string) *worker {
	s.mu.Lock()
	w, ignored := s.workers[id], s.ignored[id]
	s.mu.Unlock()
	if w != nil || ignored {
		return w
	}
	st, err := s.rt.Status(ctx, id)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			s.mu.Lock()
			s.ignored[id] = true
			s.mu.Unlock()
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !runtime.Supervised(st.Container.Spec) {
		s.ignored[id] = true
		return nil
	}
	if w := s.workers[id]; w != nil {
		return w
	}
	w = newWorker(s, st.Container)
	s.workers[id] = w
	s.states[id] = &Supervision{ID: id, Name: st.Container.Name, RestartCount: st.Container.RestartCount}
	go w.run()
	return w
}

func (s *supervisor) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.workers[id]; w != nil {
		w.cancel()
	}
	delete(s.workers, id)
	delete(s.states, id)
	delete(s.ignored, id)
}

// update changes the state of id under the lock.
func (s *supervisor) update(id string, f func(*Supervision)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil {
		f(st)
	}
}

// publish sends ev to every subscriber, dropping it for one that lags.
func (s *supervisor) publish(ev Notice) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if ev.Type != NoticePeer { // peer churn is logged by peerLog, at debug level
		s.log.Info("keeper event", "type", ev.Type, "container", ev.Name, "restarts", ev.RestartCount,
			"exit", ev.ExitCode, "health", ev.Health, "msg", ev.Message)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (s *supervisor) subscribe() (chan Notice, func()) {
	ch := make(chan Notice, 256)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}
}

// snapshot copies the state of every supervised container.
func (s *supervisor) snapshot() []Supervision {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Supervision, 0, len(s.states))
	for _, st := range s.states {
		out = append(out, copyState(st))
	}
	return out
}

func copyState(st *Supervision) Supervision {
	c := *st
	if st.Health != nil {
		h := *st.Health
		h.Log = append([]models.HealthResult(nil), st.Health.Log...)
		c.Health = &h
	}
	return c
}

// Annotate implements runtime.KeeperState for the keeper's own runtime.
func (s *supervisor) Annotate(_ context.Context, cs []models.Container) {
	annotate(cs, s.snapshot())
}

// HealthLog implements runtime.KeeperState for the keeper's own runtime.
func (s *supervisor) HealthLog(_ context.Context, id string) *models.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.states[id]; st != nil && st.Health != nil {
		return copyState(st).Health
	}
	return nil
}

// annotate merges keeper states into cs: a pending restart shows as
// StateRestarting with NextRestart, a health check as Health.
func annotate(cs []models.Container, states []Supervision) {
	byID := make(map[string]Supervision, len(states))
	for _, st := range states {
		byID[st.ID] = st
	}
	for i := range cs {
		running := cs[i].State == models.StateRunning || cs[i].State == models.StatePaused
		st, ok := byID[cs[i].ID]
		if !ok || st.Health == nil {
			// Docker's rule: a running container whose check has no result
			// yet is starting (the keeper may not have seen its start yet).
			if running && cs[i].Spec.Health != nil {
				cs[i].Health = models.HealthStarting
			}
		}
		if !ok {
			continue
		}
		if st.Restarting && !running {
			cs[i].State, cs[i].NextRestart = models.StateRestarting, st.NextRestart
		}
		if st.Health != nil {
			cs[i].Health = st.Health.Status
		}
	}
}

// bootTime returns when the node booted, from /proc/stat; zero if unknown.
func bootTime() time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return time.Unix(n, 0)
			}
		}
	}
	return time.Time{}
}
