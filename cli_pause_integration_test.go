//go:build integration

package main

import (
	"strings"
	"testing"
	"time"
)

// lastLogLine is the last line of a container's output so far.
func lastLogLine(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(must(t, "logs", "--tail", "1", name))
}

// waitLogAdvance waits until the container's last log line differs from old.
func waitLogAdvance(t *testing.T, name, old string) string {
	t.Helper()
	var cur string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cur = lastLogLine(t, name); cur != "" && cur != old {
			return cur
		}
	}
	t.Fatalf("the log of %s stays at %q", name, cur)
	return ""
}

// TestCLIPause: pause freezes the container (its counter stops, ps says
// Paused), the keeper's restart policy leaves a paused container alone,
// unpause lets the counter go on, and stop still stops a paused one.
func TestCLIPause(t *testing.T) {
	stopKeeper(t)
	t.Cleanup(func() { stopKeeper(t) })
	path, name := writeBundle(t, "args: [sh, -c, \"trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done\"]\nrestart_policy: always\n")
	must(t, "run", path)
	waitLogAdvance(t, name, "")

	if out := must(t, "pause", name); out != name+"\n" {
		t.Errorf("pause printed %q", out)
	}
	if out := must(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"); out != "paused\n" {
		t.Errorf("ps state after pause = %q", out)
	}
	if out := must(t, "ps", "--filter", "name="+name); !strings.Contains(out, "(Paused)") {
		t.Errorf("ps table lacks (Paused):\n%s", out)
	}
	frozen := lastLogLine(t, name)
	time.Sleep(2 * time.Second) // the counter would have moved ~20 times; the keeper had time to react
	if cur := lastLogLine(t, name); cur != frozen {
		t.Errorf("paused container still runs: log went from %s to %s", frozen, cur)
	}
	if out := must(t, "inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name); out != "paused 0\n" {
		t.Errorf("after 2 s paused (keeper running): %q, want paused 0", out)
	}
	if r := budgie(t, "pause", name); r.code != 1 || !strings.Contains(r.stderr, "already paused") {
		t.Errorf("pause twice: exit %d %q", r.code, r.stderr)
	}
	if r := budgie(t, "exec", name, "true"); r.code == 0 {
		t.Errorf("exec in a paused container succeeded")
	}

	if out := must(t, "unpause", name); out != name+"\n" {
		t.Errorf("unpause printed %q", out)
	}
	waitLogAdvance(t, name, frozen)
	if out := must(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"); out != "running\n" {
		t.Errorf("ps state after unpause = %q", out)
	}
	if r := budgie(t, "unpause", name); r.code != 1 || !strings.Contains(r.stderr, "not paused") {
		t.Errorf("unpause of a running container: exit %d %q", r.code, r.stderr)
	}

	must(t, "pause", name)
	must(t, "stop", "-t", "5", name)
	if out := must(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.State}}"); out != "exited\n" {
		t.Errorf("stop of a paused container: state %q", out)
	}
	if r := budgie(t, "pause", name); r.code != 1 || !strings.Contains(r.stderr, "budgie start") {
		t.Errorf("pause of a stopped container: exit %d %q", r.code, r.stderr)
	}
}

func TestCLIPauseErrorsAndHelp(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"pause", "no-such-thing"}, 3, "no such container"},
		{[]string{"unpause", "no-such-thing"}, 3, "no such container"},
		{[]string{"pause"}, 2, "expected"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if r := budgie(t, tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.contains) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.contains)
			}
		})
	}
	for _, cmd := range []string{"pause", "unpause"} {
		if out := must(t, cmd, "--help"); !strings.Contains(out, "Example:") {
			t.Errorf("%s --help has no example:\n%s", cmd, out)
		}
	}
}

// TestNestPause: p in the containers view pauses the container under the
// cursor (its row says paused), and p again unpauses it.
func TestNestPause(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"trap 'exit 0' TERM; while :; do sleep 0.2; done\"]\n")
	must(t, "run", path)
	p := startPane(t, t.TempDir(), binary)
	p.waitRow(20*time.Second, name, "running")
	p.keys("/")
	p.typeText(name)
	p.keys("Enter")
	p.waitFor(5*time.Second, "filter: "+name)
	p.keys("p")
	p.waitFor(10*time.Second, "paused: 1 container")
	p.waitRow(10*time.Second, name, "paused")
	if out := must(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"); out != "paused\n" {
		t.Errorf("ps after p in nest: %q", out)
	}
	p.keys("p")
	p.waitFor(10*time.Second, "unpaused: 1 container")
	p.waitRow(10*time.Second, name, "running")
}

// TestCLIPauseHealth: a paused container is not probed (as Docker), so
// its health check does not turn unhealthy and on_unhealthy: restart does
// not stop it; after unpause the probes go on.
func TestCLIPauseHealth(t *testing.T) {
	stopKeeper(t)
	t.Cleanup(func() { stopKeeper(t) })
	path, name := writeBundle(t, "args: [sleep, \"3600\"]\nstop_timeout: 1s\nrestart_policy: always\nhealth:\n  cmd: [\"true\"]\n  interval: 200ms\n  timeout: 1s\n  retries: 1\n  on_unhealthy: restart\n")
	must(t, "run", path) // starts the keeper: the bundle has a health check
	deadline := time.Now().Add(20 * time.Second)
	for strings.TrimSpace(must(t, "inspect", "-f", "{{.State.Health.Status}}", name)) != "healthy" {
		if time.Now().After(deadline) {
			t.Fatal("the health check never reported healthy")
		}
		time.Sleep(200 * time.Millisecond)
	}
	must(t, "pause", name)
	time.Sleep(3 * time.Second) // 15 intervals: one failed probe would make it unhealthy and restart it
	if out := must(t, "inspect", "-f", "{{.State.Status}} {{.State.Health.Status}} {{.RestartCount}}", name); out != "paused healthy 0\n" {
		t.Fatalf("after 3 s paused with a 200ms health check: %q, want paused healthy 0", out)
	}
	must(t, "unpause", name)
	if out := must(t, "inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name); out != "running 0\n" {
		t.Fatalf("after unpause: %q, want running 0", out)
	}
}
