//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/internal/testkit"
)

func TestCLIEnvFilePrecedence(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.env"), []byte("# comment\nFROM_FILE=file\nBOTH=file\n"), 0o644)
	path, name := writeBundle(t, "args: [sleep, '3600']\nenv_file: "+filepath.Join(dir, "app.env")+"\nenv: {BOTH: bundle}\n")
	must(t, "run", path)
	out := must(t, "exec", name, "sh", "-c", "echo $FROM_FILE $BOTH")
	if out != "file bundle\n" {
		t.Errorf("env_file precedence: %q, want the bundle's env to win", out)
	}
}

func TestCLILogsFollowEndsWhenContainerStops(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"echo one; sleep 1; echo two\"]\n")
	must(t, "run", path)
	start := time.Now()
	r := budgie(t, "logs", "-f", name)
	if r.code != 0 || r.stdout != "one\ntwo\n" {
		t.Errorf("logs -f: exit %d, %q (stderr %q)", r.code, r.stdout, r.stderr)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("logs -f did not end with the container")
	}
}

func TestCLIRunUnreachableRegistryLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.bun")
	os.WriteFile(path, []byte("name: unreachable\nimage: 127.0.0.1:1/nope:1\n"), 0o644)
	r := budgie(t, "run", path)
	if r.code == 0 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("run with an unreachable registry: exit %d stderr %q", r.code, r.stderr)
	}
	if r := budgie(t, "inspect", "unreachable"); r.code != 3 {
		t.Errorf("a container was left behind: %d", r.code)
	}
}

// TestCLIExecTTY runs `exec -it` in a real terminal (tmux): the shell sees
// a TTY of the window's size, and a resize reaches it.
func TestCLIExecTTY(t *testing.T) {
	path, name := writeBundle(t, "args: [sleep, '3600']\n")
	must(t, "run", path)
	session := "budgie-exec-" + name
	script := filepath.Join(t.TempDir(), "exec.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nexport BUDGIE_CONTAINERD_ADDRESS="+ctrEnv.Conn.Address+
		" BUDGIE_CONTAINERD_NAMESPACE=budgie-test BUDGIE_DATA_DIR="+ctrEnv.DataDir+" "+strings.Join(testkit.NetworkEnv(), " ")+"\n"+
		binary+" --headless exec -it "+name+" sh\necho EXIT=$?\nsleep 60\n"), 0o755)
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", script).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", session).Run() })
	keys := func(s string) { exec.Command("tmux", "send-keys", "-t", session, s, "Enter").Run() }
	screen := func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", session).Output()
		return string(out)
	}
	waitScreen := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if strings.Contains(screen(), want) {
				return
			}
		}
		t.Fatalf("screen never showed %q:\n%s", want, screen())
	}
	waitScreen("#")
	keys("test -t 0 && echo TTY-YES; stty size | sed 's/^/SIZE=/'")
	waitScreen("TTY-YES")
	waitScreen("SIZE=30 100")
	exec.Command("tmux", "resize-window", "-t", session, "-x", "90", "-y", "25").Run()
	time.Sleep(300 * time.Millisecond)
	keys("stty size | sed 's/^/NEW=/'")
	waitScreen("NEW=25 90")
	keys("exit 4")
	waitScreen("EXIT=4")
}

// stopKeeper ends a keeper that a CLI command started detached for the
// test containerd's data dir.
func stopKeeper(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := keeper.Dial(ctx, ctrEnv.DataDir)
	if err != nil {
		return
	}
	if info, err := c.Ping(ctx); err == nil && info.Pid > 0 {
		syscall.Kill(info.Pid, syscall.SIGTERM)
		for ctx.Err() == nil && syscall.Kill(info.Pid, 0) == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestCLIStackWithKeeper runs a stack whose app waits for a healthy db:
// `run` starts the keeper, orders the start, and `ps` shows health.
func TestCLIStackWithKeeper(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	suffix := fmt.Sprint(time.Now().UnixNano())
	db, app := "db"+suffix, "app"+suffix
	path := filepath.Join(t.TempDir(), "stack.bun")
	os.WriteFile(path, []byte(`containers:
  - name: `+db+`
    image: `+cliImage+`
    args: [sh, -c, "sleep 1; touch /tmp/ready; exec sleep 3600"]
    health: {cmd: "test -f /tmp/ready", interval: 200ms, retries: 1, start_period: 10s}
  - name: `+app+`
    image: `+cliImage+`
    args: [sleep, "3600"]
    depends_on: {`+db+`: {condition: healthy}}
`), 0o644)
	t.Cleanup(func() { budgie(t, "rm", "-f", app, db) })
	start := time.Now()
	out := must(t, "run", path)
	if ids := strings.Fields(out); len(ids) != 2 {
		t.Fatalf("run printed %q, want two IDs", out)
	}
	if time.Since(start) < time.Second {
		t.Errorf("app started before db could be healthy (%s)", time.Since(start))
	}
	if got := must(t, "ps", "--filter", "name="+db, "--format", "{{.Health}}"); got != "healthy\n" {
		t.Errorf("db health in ps: %q", got)
	}
	if got := must(t, "ps", "--filter", "name="+db); !strings.Contains(got, "(healthy)") {
		t.Errorf("ps STATUS lacks (healthy):\n%s", got)
	}
	var in []struct {
		State struct{ Health struct{ Status string } }
	}
	json.Unmarshal([]byte(must(t, "inspect", db)), &in)
	if len(in) != 1 || in[0].State.Health.Status != "healthy" {
		t.Errorf("inspect State.Health: %+v", in)
	}
	// stop of the stack goes in reverse order: app first.
	if got := must(t, "stop", db, app); got != app+"\n"+db+"\n" {
		t.Errorf("stop order: %q, want app before db", got)
	}
}

// TestCLIRestartPolicyThroughKeeper: a crashing on-failure:2 container is
// restarted twice by the keeper that `run` started, and ps shows the count.
func TestCLIRestartPolicyThroughKeeper(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	path, name := writeBundle(t, "args: [sh, -c, \"exit 3\"]\nrestart_policy: on-failure:2\n")
	must(t, "run", path)
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = must(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.RestartCount}} {{.State}} {{.ExitCode}}")
		if got == "2 exited 3\n" {
			return
		}
	}
	t.Fatalf("after the retries: %q, want \"2 exited 3\"", got)
}

// TestCLIRmForceNotRestarted: `rm -f` of a container with restart_policy
// always, while the keeper supervises it, removes it every time: the
// keeper does not start a new task under the removal (it did, 100 ms after
// the kill, and the removal failed on the new task: the container stayed,
// restarted once).
func TestCLIRmForceNotRestarted(t *testing.T) {
	stopKeeper(t)
	t.Cleanup(func() { stopKeeper(t) })
	for i := 0; i < 8; i++ {
		path, name := writeBundle(t, "args: [sleep, \"3600\"]\nrestart_policy: always\nhealth:\n  cmd: [\"true\"]\n  interval: 1s\n")
		must(t, "run", path) // starts the keeper: the bundle has a health check
		time.Sleep(300 * time.Millisecond)
		if r := budgie(t, "rm", "-f", name); r.code != 0 {
			t.Fatalf("round %d: rm -f: exit %d: %s", i+1, r.code, r.stderr)
		}
		time.Sleep(300 * time.Millisecond) // past the keeper's 100-ms restart backoff
		if out := must(t, "ps", "-a", "-q", "--filter", "name="+name); out != "" {
			t.Fatalf("round %d: %s is still there after rm -f: %q", i+1, name, out)
		}
	}
}
