//go:build integration

package keeper_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// TestHealthHTTP serves a page with busybox httpd, then removes it: the
// health goes starting → healthy → unhealthy, visible in List and in
// Inspect's State.Health with at most 5 results.
func TestHealthHTTP(t *testing.T) {
	p := startKeeper(t, "")
	ev := watchKeeper(t, p.client)
	ctx := context.Background()
	port := strconv.Itoa(20000 + int(time.Now().UnixNano()%10000))
	s := spec("sh", "-c", "mkdir -p /www && echo ok > /www/ok.html && exec httpd -f -p 127.0.0.1:"+port+" -h /www")
	s.Health = &models.HealthCheck{HTTP: "http://127.0.0.1:" + port + "/ok.html", Interval: 150 * time.Millisecond, Timeout: time.Second, Retries: 2}
	c := run(t, s)
	if st := healthOf(t, c.ID); st != models.HealthStarting && st != models.HealthHealthy {
		t.Errorf("health right after start: %q", st)
	}
	waitFor(t, 10*time.Second, "healthy", func() bool { return healthOf(t, c.ID) == models.HealthHealthy })
	if _, err := rt.Exec(ctx, c.ID, runtime.ExecOptions{Cmd: []string{"rm", "/www/ok.html"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "unhealthy", func() bool { return healthOf(t, c.ID) == models.HealthUnhealthy })
	// The event stream may trail the state query by a moment.
	waitFor(t, 5*time.Second, "the unhealthy event", func() bool { return len(ev.of(c.ID, keeper.NoticeHealth)) >= 2 })
	var got []models.HealthStatus
	for _, e := range ev.of(c.ID, keeper.NoticeHealth) {
		got = append(got, e.Health)
	}
	if len(got) != 2 || got[0] != models.HealthHealthy || got[1] != models.HealthUnhealthy {
		t.Errorf("health events %v, want [healthy unhealthy]", got)
	}
	time.Sleep(time.Second) // more probes than the log keeps
	in, err := rt.Inspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := in.State.Health
	if h == nil || h.Status != models.HealthUnhealthy || h.FailingStreak < 2 || len(h.Log) != keeper.MaxHealthLog {
		t.Fatalf("inspect health: %+v", h)
	}
	last := h.Log[len(h.Log)-1]
	if last.ExitCode != 1 || last.Output == "" || last.End.Before(last.Start) {
		t.Errorf("last result: %+v", last)
	}
}

// TestHealthCmdAndTCP checks the cmd probe (its output is kept, capped) and
// the tcp probe ("PORT" means 127.0.0.1:PORT).
func TestHealthCmdAndTCP(t *testing.T) {
	startKeeper(t, "")
	ctx := context.Background()
	s := spec("sleep", "3600")
	s.Health = &models.HealthCheck{Cmd: []string{"sh", "-c", "yes x | head -c 10000; exit 1"}, Interval: 100 * time.Millisecond, Retries: 1}
	a := run(t, s)
	port := strconv.Itoa(30000 + int(time.Now().UnixNano()%10000))
	s2 := spec("httpd", "-f", "-p", "127.0.0.1:"+port)
	s2.Health = &models.HealthCheck{TCP: port, Interval: 100 * time.Millisecond}
	b := run(t, s2)
	waitFor(t, 10*time.Second, "cmd probe unhealthy", func() bool { return healthOf(t, a.ID) == models.HealthUnhealthy })
	waitFor(t, 10*time.Second, "tcp probe healthy", func() bool { return healthOf(t, b.ID) == models.HealthHealthy })
	in, err := rt.Inspect(ctx, a.ID)
	if err != nil || in.State.Health == nil || len(in.State.Health.Log) == 0 {
		t.Fatalf("inspect: %v %+v", err, in.State.Health)
	}
	if out := in.State.Health.Log[0].Output; len(out) != keeper.MaxHealthOutput {
		t.Errorf("probe output is %d bytes, want capped at %d", len(out), keeper.MaxHealthOutput)
	}
}

// TestOnUnhealthyRestart: an always container whose check fails is
// stopped by the keeper and restarted through its policy.
func TestOnUnhealthyRestart(t *testing.T) {
	p := startKeeper(t, "")
	ev := watchKeeper(t, p.client)
	rec := record(t)
	s := spec("sleep", "3600")
	s.RestartPolicy = models.RestartPolicy{Name: models.RestartAlways}
	s.StopTimeout = 300 * time.Millisecond
	s.Health = &models.HealthCheck{Cmd: []string{"false"}, Interval: 100 * time.Millisecond, Retries: 2, OnUnhealthy: "restart"}
	c := run(t, s)
	waitFor(t, 15*time.Second, "a restart", func() bool { return len(ev.of(c.ID, keeper.NoticeRestarted)) >= 1 })
	if n := len(ev.of(c.ID, keeper.NoticeUnhealthyRestart)); n < 1 {
		t.Errorf("%d unhealthy-restart events", n)
	}
	if n := len(rec.times(c.ID, models.EventExit)); n < 1 {
		t.Errorf("no exit before the restart")
	}
	got, _ := rt.Get(context.Background(), c.ID)
	if got.RestartCount < 1 {
		t.Errorf("restart count %d", got.RestartCount)
	}
	// The check starts over after the restart.
	if got.State == models.StateRunning && got.Health == models.HealthUnhealthy && len(ev.of(c.ID, keeper.NoticeRestarted)) == 1 {
		h := p.client.HealthLog(context.Background(), c.ID)
		if h != nil && len(h.Log) > 2 {
			t.Errorf("health log not reset after restart: %+v", h)
		}
	}
}

// TestOnUnhealthyNeedsPolicy: on_unhealthy: restart without a policy is
// refused at run with a clear error.
func TestOnUnhealthyNeedsPolicy(t *testing.T) {
	s := spec("sleep", "3600")
	s.Health = &models.HealthCheck{Cmd: []string{"true"}, OnUnhealthy: "restart"}
	if _, err := rt.Run(context.Background(), s, runtime.RunOptions{}); err == nil {
		t.Fatal("run accepted on_unhealthy: restart without a restart policy")
	}
	s.Health = &models.HealthCheck{HTTP: "/healthz"}
	_, err := rt.Run(context.Background(), s, runtime.RunOptions{})
	if err == nil {
		t.Fatal("run accepted an http probe without a port")
	}
	t.Log(err)
}

func healthOf(t *testing.T, id string) models.HealthStatus {
	t.Helper()
	c, err := rt.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Health
}
