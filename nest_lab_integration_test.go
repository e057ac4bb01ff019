//go:build integration

package main

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/internal/testkit"
)

// testNestFirstLaunch opens nest on a lab node whose keeper is stopped,
// as a new user's first launch: nest starts the keeper itself, and the
// Peers tab (6) lists the other nodes without anything started by hand.
func testNestFirstLaunch(ctx context.Context, t *testing.T, n *testkit.LabNode) {
	if err := n.StopKeeper(); err != nil {
		t.Fatal(err)
	}
	if keeperPid(ctx, n) != 0 {
		t.Fatal("the keeper still answers after StopKeeper")
	}
	p := startLabPane(t, n)
	p.waitFor(30*time.Second, "1 Containers")
	p.keys("6")
	screen := p.waitFor(30*time.Second, "node1 ", "node2 ")
	t.Logf("Peers on %s's first launch:\n%s", n.Name, screen)
	pid := keeperPid(ctx, n)
	if pid == 0 {
		t.Fatal("nest did not start the keeper")
	}
	t.Cleanup(func() { stopPid(pid) })
	p.keys("q")
}

// startLabPane runs nest on lab node n in a 120×30 tmux session.
func startLabPane(t *testing.T, n *testkit.LabNode) *pane {
	t.Helper()
	name := fmt.Sprintf("labnest%d", time.Now().UnixNano())
	command := fmt.Sprintf("nsenter --net=/run/netns/%s -- env HOME=%s TERM=xterm-256color %s --config %s", n.NetNS, n.Dir, binary, n.Config)
	out, err := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "30", "-c", n.Dir, command).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return &pane{t: t, name: name}
}

// keeperPid is the pid of n's keeper, or 0 when none answers.
func keeperPid(ctx context.Context, n *testkit.LabNode) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := keeper.Dial(ctx, n.DataDir)
	if err != nil {
		return 0
	}
	info, err := c.Ping(ctx)
	if err != nil {
		return 0
	}
	return info.Pid
}

// stopPid ends a keeper the lab does not track (nest started it).
func stopPid(pid int) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil; {
		time.Sleep(20 * time.Millisecond)
	}
}
