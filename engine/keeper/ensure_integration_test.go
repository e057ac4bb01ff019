//go:build integration

package keeper_test

import (
	"context"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
)

// TestEnsureConcurrent: several commands that need a keeper at once each
// spawn one; one wins the lock, the others exit, and every Ensure returns a
// client of the winner.
func TestEnsureConcurrent(t *testing.T) {
	dir, err := os.MkdirTemp("", "bge")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, _ := os.Executable()
	// The spawned test binary becomes a keeper through this variable.
	t.Setenv(keeperEnv, env.DataDir+":"+dir)
	var wg sync.WaitGroup
	pids := make([]int, 4)
	errs := make([]error, 4)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := keeper.Ensure(context.Background(), dir, []string{exe}, keeper.EnsureOptions{Timeout: 20 * time.Second})
			if err != nil {
				errs[i] = err
				return
			}
			info, err := c.Ping(context.Background())
			pids[i], errs[i] = info.Pid, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Ensure %d: %v", i, err)
		}
	}
	for _, pid := range pids[1:] {
		if pid != pids[0] {
			t.Fatalf("Ensure calls reached different keepers: %v", pids)
		}
	}
	t.Cleanup(func() { syscall.Kill(pids[0], syscall.SIGTERM) })
	// A keeper that is shutting down still holds the lock for a moment; an
	// Ensure right then must wait for the lock and start a new keeper.
	syscall.Kill(pids[0], syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := keeper.Dial(context.Background(), dir); err != nil {
			break // its socket is gone; its lock may not be yet
		}
	}
	c, err := keeper.Ensure(context.Background(), dir, []string{exe}, keeper.EnsureOptions{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Ensure while the old keeper stops: %v", err)
	}
	info, err := c.Ping(context.Background())
	if err != nil || info.Pid == pids[0] {
		t.Fatalf("after the old keeper stopped: pid %d (old %d), %v", info.Pid, pids[0], err)
	}
	t.Cleanup(func() { syscall.Kill(info.Pid, syscall.SIGTERM) })
}
