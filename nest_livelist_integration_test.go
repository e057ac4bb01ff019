//go:build integration

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/models"
)

// TestKeeperLiveListAndNest: the real keeper serves its live container
// list (GET /v1/containers) from the real containerd — a container run
// after the list started following appears running, and its stop shows as
// exited, through events alone — and nest, beside that keeper, draws the
// table and then no longer marks it as the keeper's copy once containerd's
// own listing is in.
func TestKeeperLiveListAndNest(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	path, name := writeBundle(t, "args: [sh, -c, \"trap 'exit 0' TERM; while :; do sleep 0.1; done\"]\n")
	must(t, "keeper", "restart")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := keeper.NewClient(ctrEnv.DataDir)
	before, err := c.Containers(ctx, 0)
	if err != nil {
		t.Fatalf("GET /v1/containers: %v", err)
	}
	for _, ct := range before.Containers {
		if ct.Name == name {
			t.Fatalf("%s is in the live list before it was run", name)
		}
	}
	must(t, "run", path)
	waitLive := func(state models.ContainerState) keeper.ContainersResponse {
		t.Helper()
		var last keeper.ContainersResponse
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if last, err = c.Containers(ctx, 0); err != nil {
				t.Fatalf("GET /v1/containers: %v", err)
			}
			for _, ct := range last.Containers {
				if ct.Name == name && ct.State == state {
					return last
				}
			}
		}
		t.Fatalf("the live list never showed %s %s (version %d, %d containers)", name, state, last.Version, last.Total)
		return last
	}
	running := waitLive(models.StateRunning)
	if running.Version <= before.Version {
		t.Errorf("version %d after a run, want above %d", running.Version, before.Version)
	}
	must(t, "stop", name)
	waitLive(models.StateExited)

	p := startPane(t, t.TempDir(), binary)
	p.waitRow(20*time.Second, name, "exited")
	deadline := time.Now().Add(20 * time.Second)
	for s := p.screen(false); strings.Contains(s, "(keeper's list)"); s = p.screen(false) {
		if time.Now().After(deadline) {
			t.Fatalf("nest still marks its table as the keeper's list after 20 s:\n%s", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
