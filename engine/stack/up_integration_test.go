//go:build integration

package stack_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/stack"
	"github.com/budgie-sh/budgie/models"
)

func healthy(s *models.ContainerSpec, cmd ...string) {
	s.Health = &models.HealthCheck{Cmd: cmd, Interval: 100 * time.Millisecond, Retries: 1}
}

// TestChainHealthy: web needs api healthy, api needs db healthy; db turns
// healthy only after a while. Each starts after the one before is healthy,
// and Down stops them web, api, db.
func TestChainHealthy(t *testing.T) {
	ctx := context.Background()
	db := spec("db", "sh", "-c", "sleep 0.5; touch /tmp/ready; exec sleep 3600")
	healthy(&db, "test", "-f", "/tmp/ready")
	db.Health.StartPeriod = 5 * time.Second // failures before /tmp/ready do not count
	api := spec("api")
	healthy(&api, "true")
	api.DependsOn = []models.Dependency{{Name: db.Name, Condition: models.ConditionHealthy}}
	web := spec("web")
	web.DependsOn = []models.Dependency{{Name: api.Name, Condition: models.ConditionHealthy}}
	cleanup(t, db, api, web)
	var mu sync.Mutex
	var order []string
	started, err := stack.Up(ctx, rt, []models.ContainerSpec{web, api, db}, stack.Options{
		Started: func(c models.Container) { mu.Lock(); order = append(order, c.Name); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, " ") != db.Name+" "+api.Name+" "+web.Name || len(started) != 3 {
		t.Fatalf("start order %v", order)
	}
	get := func(n string) models.Container { c, _ := rt.Get(ctx, n); return c }
	if d, a := get(db.Name), get(api.Name); a.StartedAt.Sub(d.StartedAt) < 500*time.Millisecond {
		t.Errorf("api started %v after db, before db could be healthy", a.StartedAt.Sub(d.StartedAt))
	}
	// Down: reverse order.
	var stopped []string
	err = stack.Down(ctx, started, func(ctx context.Context, c models.Container) error {
		stopped = append(stopped, c.Name)
		_, err := rt.Stop(ctx, c.ID, runtime.StopOptions{})
		return err
	})
	if err != nil || strings.Join(stopped, " ") != web.Name+" "+api.Name+" "+db.Name {
		t.Errorf("down order %v, %v", stopped, err)
	}
}

// TestParallel: independent containers start in parallel, and a
// dependency already running on the node counts.
func TestParallelAndExisting(t *testing.T) {
	ctx := context.Background()
	base := spec("base")
	cleanup(t, base)
	if _, err := rt.Run(ctx, base, runtime.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	a, b := spec("a"), spec("b")
	a.DependsOn = []models.Dependency{{Name: base.Name}}
	b.DependsOn = []models.Dependency{{Name: base.Name}}
	cleanup(t, a, b)
	if _, err := stack.Up(ctx, rt, []models.ContainerSpec{a, b}, stack.Options{}); err != nil {
		t.Fatal(err)
	}
	ca, _ := rt.Get(ctx, a.Name)
	cb, _ := rt.Get(ctx, b.Name)
	if ca.State != models.StateRunning || cb.State != models.StateRunning {
		t.Fatalf("a %s, b %s", ca.State, cb.State)
	}
	// Parallel: neither waited for the other to be created first.
	if d := ca.Created.Sub(cb.Created).Abs(); d > 300*time.Millisecond {
		t.Errorf("independent containers created %v apart", d)
	}
	missing := spec("orphan")
	missing.DependsOn = []models.Dependency{{Name: "no-such-dependency"}}
	_, err := stack.Up(ctx, rt, []models.ContainerSpec{missing}, stack.Options{})
	if !errors.Is(err, errdefs.ErrNotFound) || exists(missing.Name) {
		t.Errorf("missing dependency: %v", err)
	}
}

// TestCycle: a cycle is refused before anything is created, printing it.
func TestCycle(t *testing.T) {
	a, b, c := spec("a"), spec("b"), spec("c")
	a.DependsOn = []models.Dependency{{Name: b.Name}}
	b.DependsOn = []models.Dependency{{Name: c.Name}}
	c.DependsOn = []models.Dependency{{Name: a.Name}}
	cleanup(t, a, b, c)
	_, err := stack.Up(context.Background(), rt, []models.ContainerSpec{a, b, c}, stack.Options{})
	want := a.Name + " -> " + b.Name + " -> " + c.Name + " -> " + a.Name
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Fatalf("cycle error %v, want it to print %s", err, want)
	}
	if exists(a.Name) || exists(b.Name) || exists(c.Name) {
		t.Error("a container of the cycle was created")
	}
}

// TestCompletedSuccessfully: web waits for migrate to exit 0; with exit 3
// web does not start, the error says "migrate exited 3" and what Up
// started is removed.
func TestCompletedSuccessfully(t *testing.T) {
	tests := []struct {
		name string
		code string
		ok   bool
	}{
		{"exit 0", "0", true},
		{"exit 3", "3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migrate := spec("migrate", "sh", "-c", "sleep 0.3; exit "+tt.code)
			web := spec("web")
			web.DependsOn = []models.Dependency{{Name: migrate.Name, Condition: models.ConditionCompletedSuccessfully, Timeout: 10 * time.Second}}
			cleanup(t, migrate, web)
			_, err := stack.Up(context.Background(), rt, []models.ContainerSpec{web, migrate}, stack.Options{})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				c, _ := rt.Get(context.Background(), web.Name)
				if c.State != models.StateRunning {
					t.Errorf("web is %s", c.State)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), migrate.Name+" exited 3") || !errors.Is(err, stack.ErrDependency) {
				t.Fatalf("err = %v, want it to say %s exited 3", err, migrate.Name)
			}
			if exists(web.Name) || exists(migrate.Name) {
				t.Error("Up left containers behind after failing")
			}
		})
	}
}

// TestUnhealthyAndTimeout: a dependency that turns unhealthy fails at once
// naming it; one that never gets healthy fails after the timeout.
func TestUnhealthyAndTimeout(t *testing.T) {
	ctx := context.Background()
	db := spec("db")
	healthy(&db, "false")
	web := spec("web")
	web.DependsOn = []models.Dependency{{Name: db.Name, Condition: models.ConditionHealthy}}
	cleanup(t, db, web)
	_, err := stack.Up(ctx, rt, []models.ContainerSpec{db, web}, stack.Options{})
	if err == nil || !strings.Contains(err.Error(), db.Name+" is unhealthy") {
		t.Fatalf("err = %v, want %s is unhealthy", err, db.Name)
	}
	slow := spec("slow")
	slow.Health = &models.HealthCheck{Cmd: []string{"true"}, Interval: time.Hour}
	app := spec("app")
	app.DependsOn = []models.Dependency{{Name: slow.Name, Condition: models.ConditionHealthy, Timeout: 500 * time.Millisecond}}
	cleanup(t, slow, app)
	_, err = stack.Up(ctx, rt, []models.ContainerSpec{slow, app}, stack.Options{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not become healthy within 500ms") {
		t.Fatalf("err = %v", err)
	}
}
