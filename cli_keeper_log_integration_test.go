//go:build integration

package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
)

// TestCLIKeeperLog: the keeper that `run` starts detached writes its log
// through the rotating writer (its stdout and stderr follow the current
// keeper.log) and logs its start once, not a line per event at rest.
func TestCLIKeeperLog(t *testing.T) {
	// The test reads one keeper's lifetime: earlier tests' keepers of the
	// shared data dir appended theirs to the same log.
	stopKeeperClearLog(t)
	t.Cleanup(func() { stopKeeper(t) })
	path, _ := writeBundle(t, "args: [sleep, \"3600\"]\nrestart_policy: always\n")
	must(t, "run", path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := keeper.Dial(ctx, ctrEnv.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(info.Pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Split(string(b), "\x00"); !strings.Contains(strings.Join(args, " "), "serve --log-file "+keeper.LogPath(ctrEnv.DataDir)) {
		t.Errorf("keeper runs as %q, want serve --log-file", args)
	}
	for _, fd := range []string{"1", "2"} {
		target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(info.Pid), "fd", fd))
		if err != nil || target != keeper.LogPath(ctrEnv.DataDir) {
			t.Errorf("keeper fd %s is %q (%v), want the keeper log", fd, target, err)
		}
	}
	time.Sleep(2 * time.Second) // at rest
	log, _ := os.ReadFile(keeper.LogPath(ctrEnv.DataDir))
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	seen := map[string]int{}
	for _, l := range lines {
		if i := strings.Index(l, " level="); i >= 0 {
			seen[l[i:]]++
		}
	}
	for l, n := range seen {
		if n > 1 && !strings.Contains(l, "keeper running") && !strings.Contains(l, "keeper stopped") {
			t.Errorf("line logged %d times: %s", n, l)
		}
	}
	t.Logf("keeper.log:\n%s", log)
}
