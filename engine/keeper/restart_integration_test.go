//go:build integration

package keeper_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/daemon"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// TestCrashLoopBackoff: an on-failure:5 container that exits 3 at once is
// restarted after 100, 200, 400, 800 and 1600 ms (measured from each exit
// event to the next start event), then left alone.
func TestCrashLoopBackoff(t *testing.T) {
	startKeeper(t, "")
	rec := record(t)
	s := spec("sh", "-c", "exit 3")
	s.RestartPolicy = models.RestartPolicy{Name: models.RestartOnFailure, MaxRetries: 5}
	c := run(t, s)
	waitFor(t, 30*time.Second, "6 exits", func() bool { return len(rec.times(c.ID, models.EventExit)) >= 6 })
	time.Sleep(2 * time.Second) // a 6th restart would come after 3.2 s; make sure none comes early
	starts, exits := rec.times(c.ID, models.EventStart), rec.times(c.ID, models.EventExit)
	if len(starts) != 6 || len(exits) != 6 {
		t.Fatalf("%d starts and %d exits, want 6 and 6 (1 run + 5 restarts)", len(starts), len(exits))
	}
	want := []time.Duration{100, 200, 400, 800, 1600}
	for i, w := range want {
		w *= time.Millisecond
		gap := starts[i+1].Sub(exits[i])
		t.Logf("restart %d: %v after the exit (backoff %v)", i+1, gap.Round(time.Millisecond), w)
		// Never early; and sooner than the next step's backoff, so the
		// doubling is this one (a loaded machine adds to the gap: the bound
		// is not a speed goal, that lives in make bench).
		if gap < w-20*time.Millisecond || gap >= 2*w+300*time.Millisecond {
			t.Errorf("restart %d came %v after the exit, want at least %v and less than %v", i+1, gap, w, 2*w+300*time.Millisecond)
		}
	}
	got, err := rt.Get(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RestartCount != 5 || got.State != models.StateExited || got.ExitCode != 3 {
		t.Errorf("after max_retries: restart count %d, state %s, exit %d; want 5, exited, 3", got.RestartCount, got.State, got.ExitCode)
	}
	in, err := rt.Inspect(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.RestartCount != 5 || in.State.Restarting {
		t.Errorf("inspect: RestartCount %d, Restarting %v", in.RestartCount, in.State.Restarting)
	}
}

// TestRestartingVisible: during the backoff ps shows the container as
// restarting with its next retry time, and inspect as Restarting.
func TestRestartingVisible(t *testing.T) {
	startKeeper(t, "")
	s := spec("sh", "-c", "exit 1")
	s.RestartPolicy = models.RestartPolicy{Name: models.RestartAlways}
	c := run(t, s)
	var seen models.Container
	waitFor(t, 20*time.Second, "a restarting state with a backoff of at least 800ms", func() bool {
		cs, err := rt.List(context.Background(), runtime.ListOptions{})
		for _, x := range cs {
			if err == nil && x.ID == c.ID && x.State == models.StateRestarting && time.Until(x.NextRestart) > 300*time.Millisecond {
				seen = x
				return true
			}
		}
		return false
	})
	// A wait over 300 ms is the 3rd backoff (400 ms) or later: 2 restarts done at least.
	if seen.RestartCount < 2 || seen.NextRestart.IsZero() {
		t.Errorf("restarting container: count %d, next %v", seen.RestartCount, seen.NextRestart)
	}
	in, err := rt.Inspect(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !in.State.Restarting && in.State.Status != "running" {
		t.Errorf("inspect during backoff: %+v", in.State)
	}
}

// TestManualStopWins: a manual stop of an always container is never undone,
// whether it comes while the task runs or during a backoff (nerdctl #2991).
func TestManualStopWins(t *testing.T) {
	p := startKeeper(t, "")
	ev := watchKeeper(t, p.client)
	rec := record(t)
	ctx := context.Background()

	running := spec("sleep", "3600")
	running.RestartPolicy = models.RestartPolicy{Name: models.RestartAlways}
	a := run(t, running)

	looping := spec("sh", "-c", "exit 1")
	looping.RestartPolicy = models.RestartPolicy{Name: models.RestartAlways}
	b := run(t, looping)
	// Stop b during a long enough backoff (the 4th is 800 ms).
	waitFor(t, 20*time.Second, "a backoff of 800ms", func() bool {
		for _, e := range ev.of(b.ID, keeper.NoticeRestartScheduled) {
			if time.Until(e.NextRestart) > 300*time.Millisecond {
				return true
			}
		}
		return false
	})
	if _, err := rt.Stop(ctx, b.ID, runtime.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Stop(ctx, a.ID, runtime.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	startsA, startsB := len(rec.times(a.ID, models.EventStart)), len(rec.times(b.ID, models.EventStart))
	waitFor(t, 5*time.Second, "the pending restart to be cancelled", func() bool {
		return len(ev.of(b.ID, keeper.NoticeRestartCancelled)) > 0
	})
	time.Sleep(3 * time.Second) // longer than any pending backoff
	if n := len(rec.times(a.ID, models.EventStart)); n != startsA {
		t.Errorf("always container stopped while running was started again (%d starts, had %d)", n, startsA)
	}
	if n := len(rec.times(b.ID, models.EventStart)); n != startsB {
		t.Errorf("always container stopped during backoff was started again (%d starts, had %d)", n, startsB)
	}
	for _, id := range []string{a.ID, b.ID} {
		got, _ := rt.Get(ctx, id)
		if got.State != models.StateExited {
			t.Errorf("%s is %s after a manual stop", got.Name, got.State)
		}
	}
}

// TestKeeperKill9 kills the keeper with SIGKILL; while it is down an
// always container dies. The next keeper restarts it exactly once and
// leaves a running one and a manually stopped one alone.
func TestKeeperKill9(t *testing.T) {
	p := startKeeper(t, "")
	rec := record(t)
	ctx := context.Background()
	mk := func(args ...string) models.Container {
		s := spec(args...)
		s.RestartPolicy = models.RestartPolicy{Name: models.RestartAlways}
		return run(t, s)
	}
	dies, stays, stopped := mk("sleep", "3600"), mk("sleep", "3600"), mk("sleep", "3600")
	of := spec("sleep", "3600")
	of.RestartPolicy = models.RestartPolicy{Name: models.RestartOnFailure}
	onFailure := run(t, of)
	waitFor(t, 5*time.Second, "the start events", func() bool {
		return len(rec.times(dies.ID, models.EventStart))+len(rec.times(stays.ID, models.EventStart))+
			len(rec.times(stopped.ID, models.EventStart))+len(rec.times(onFailure.ID, models.EventStart)) == 4
	})
	if _, err := rt.Stop(ctx, stopped.ID, runtime.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	p.kill(syscall.SIGKILL)
	for _, c := range []models.Container{dies, onFailure} {
		if _, err := rt.Kill(ctx, c.ID, "SIGKILL"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "the exits", func() bool {
		return len(rec.times(dies.ID, models.EventExit)) == 1 && len(rec.times(onFailure.ID, models.EventExit)) == 1
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(rec.times(dies.ID, models.EventStart)); n != 1 {
		t.Fatalf("restarted with no keeper running: %d starts", n)
	}
	startKeeper(t, p.dir) // same data dir: the lock of the killed keeper is gone with it
	waitFor(t, 10*time.Second, "the restart", func() bool { return len(rec.times(dies.ID, models.EventStart)) >= 2 })
	time.Sleep(2 * time.Second)
	if n := len(rec.times(dies.ID, models.EventStart)) - 1; n != 1 {
		t.Errorf("container restarted %d times after the keeper came back, want 1", n)
	}
	if n := len(rec.times(stays.ID, models.EventStart)) - 1; n != 0 {
		t.Errorf("running container restarted %d times", n)
	}
	if n := len(rec.times(stopped.ID, models.EventStart)) - 1; n != 0 {
		t.Errorf("manually stopped container restarted %d times", n)
	}
	// on-failure does not come back after a keeper restart (the and
	// Docker's daemon-restart rule), though it exited with 137.
	if n := len(rec.times(onFailure.ID, models.EventStart)) - 1; n != 0 {
		t.Errorf("on-failure container restarted %d times after the keeper restart, want 0", n)
	}
	got, _ := rt.Get(ctx, dies.ID)
	if got.State != models.StateRunning || got.RestartCount != 1 {
		t.Errorf("after reconcile: %s, restart count %d", got.State, got.RestartCount)
	}
}

// TestSecondKeeperRefused: the lock makes the keeper one per data dir and
// the error names the pid holding it; the socket is mode 0600.
func TestSecondKeeperRefused(t *testing.T) {
	p := startKeeper(t, "")
	err := keeper.Run(context.Background(), keeper.Options{DataDir: p.dir, Runtime: rt})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "pid "+itoa(p.cmd.Process.Pid)) {
		t.Errorf("second keeper: %v", err)
	}
	fi, err := os.Stat(filepath.Join(p.dir, keeper.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v, want socket 0600", fi.Mode())
	}
	info, err := p.client.Ping(context.Background())
	if err != nil || info.Pid != p.cmd.Process.Pid {
		t.Errorf("ping: %+v, %v", info, err)
	}
}

// TestContainerdRestart stops the containerd, kills an always container's
// process while it is down and starts containerd again: the keeper
// reconnects, reconciles and brings the container back.
func TestContainerdRestart(t *testing.T) {
	p := startKeeper(t, "")
	ctx := context.Background()
	s := spec("sleep", "3600")
	s.RestartPolicy = models.RestartPolicy{Name: models.RestartAlways}
	c := run(t, s)
	if err := daemon.Stop(env.DataDir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(int(c.Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := daemon.Start(sctx, daemon.Options{DataDir: env.DataDir, Namespace: testkit.Namespace}); err != nil {
		t.Fatal(err)
	}
	var got models.Container
	waitFor(t, 30*time.Second, "the container to run again", func() bool {
		x, err := rt.Get(ctx, c.ID)
		got = x
		return err == nil && x.State == models.StateRunning && x.Pid != c.Pid
	})
	if got.RestartCount != 1 {
		t.Errorf("restart count %d, want 1", got.RestartCount)
	}
	if _, err := p.client.Ping(ctx); err != nil {
		t.Errorf("keeper did not survive containerd's restart: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
