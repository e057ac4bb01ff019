//go:build integration

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// stream is a long-running budgie command (events, keeper logs -f) whose
// stdout lines the test reads as they come.
type stream struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	stderr strings.Builder
	done   chan struct{} // closed when stdout is drained and the process waited for
	code   int
}

// startStream starts budgie with args against the test containerd; the
// process is killed at the end of the test.
func startStream(t *testing.T, args ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, binary, append([]string{"--headless"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"BUDGIE_CONTAINERD_ADDRESS=" + ctrEnv.Conn.Address,
		"BUDGIE_CONTAINERD_NAMESPACE=" + testkit.Namespace,
		"BUDGIE_DATA_DIR=" + ctrEnv.DataDir}, testkit.NetworkEnv()...)
	s := &stream{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
		}
		_ = cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		cancel()
	})
	return s
}

// snapshot returns the lines read so far.
func (s *stream) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// waitLine waits until a line satisfies ok and returns its index.
func (s *stream) waitLine(t *testing.T, what string, timeout time.Duration, ok func(string) bool) int {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for i, l := range s.snapshot() {
			if ok(l) {
				return i
			}
		}
	}
	t.Fatalf("no line %s within %s; got:\n%s\nstderr: %s", what, timeout, strings.Join(s.snapshot(), "\n"), s.stderr.String())
	return -1
}

// eventJSON is one line of `budgie events --format json`.
type eventJSON struct {
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"`
	Action     string            `json:"action"`
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes"`
}

func parseEvent(l string) (eventJSON, bool) {
	var e eventJSON
	return e, json.Unmarshal([]byte(l), &e) == nil
}

// jsonEvent matches a JSON event line of type, action and name.
func jsonEvent(typ, action, name string) func(string) bool {
	return func(l string) bool {
		e, ok := parseEvent(l)
		return ok && e.Type == typ && e.Action == action && e.Name == name
	}
}

// eventsReady starts the probe container until the stream shows its start:
// then the events command is subscribed, and what follows is seen.
func eventsReady(t *testing.T, s *stream, probe string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		budgie(t, "start", probe)
		for wait := time.Now().Add(500 * time.Millisecond); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
			for _, l := range s.snapshot() {
				if strings.Contains(l, probe) {
					return
				}
			}
		}
	}
	t.Fatalf("events never showed the probe %s; stderr: %s", probe, s.stderr.String())
}

// newProbe runs a container that exits at once, for eventsReady.
func newProbe(t *testing.T) string {
	t.Helper()
	path, name := writeBundle(t, "args: [sh, -c, \"exit 0\"]\n")
	must(t, "run", path)
	return name
}

// TestCLIEvents: `budgie events` follows a container's life as it happens —
// create, start, exit (with its code), remove (still named after the
// container is gone) — in JSON, as docker-style lines and through a
// template, filtered to that container, and ends by itself at --until.
func TestCLIEvents(t *testing.T) {
	probe := newProbe(t)
	path, name := writeBundle(t, "args: [sh, -c, \"trap 'exit 7' TERM; while :; do sleep 0.1; done\"]\n")
	s := startStream(t, "events", "--format", "json", "--filter", "container="+name, "--filter", "container="+probe)
	eventsReady(t, s, probe)

	id := strings.TrimSpace(must(t, "run", path))
	create := s.waitLine(t, "container create "+name, 20*time.Second, jsonEvent("container", "create", name))
	start := s.waitLine(t, "container start "+name, 20*time.Second, jsonEvent("container", "start", name))
	if create > start {
		t.Errorf("create (line %d) came after start (line %d)", create, start)
	}
	ev, _ := parseEvent(s.snapshot()[start])
	if ev.ID != id || ev.Attributes["image"] != cliImage || time.Since(ev.Time) > time.Minute || ev.Time.After(time.Now()) {
		t.Errorf("start event %+v: want ID %s, image %s and a recent time", ev, id, cliImage)
	}
	must(t, "stop", name)
	exit := s.waitLine(t, "container exit "+name, 20*time.Second, jsonEvent("container", "exit", name))
	if ev, _ := parseEvent(s.snapshot()[exit]); ev.Attributes["exit_code"] != "7" {
		t.Errorf("exit event %+v: want exit_code 7", ev)
	}
	must(t, "rm", name)
	s.waitLine(t, "container remove "+name+" (named after it is gone)", 20*time.Second, jsonEvent("container", "remove", name))
	for _, l := range s.snapshot() {
		if e, ok := parseEvent(l); !ok || (e.Name != name && e.Name != probe) {
			t.Errorf("the filter let through %q", l)
		}
	}

	// Lines and templates; --until ends the command by itself.
	path2, name2 := writeBundle(t, "args: [sleep, \"3600\"]\n")
	lines := startStream(t, "events", "--filter", "container="+name2, "--filter", "container="+probe, "--filter", "event=start", "--until", "15s")
	tmpl := startStream(t, "events", "--filter", "container="+name2, "--filter", "container="+probe, "--filter", "type=container",
		"--format", "{{.Type}}/{{.Action}}/{{.Name}}/{{index .Attributes \"image\"}}", "--until", "15s")
	eventsReady(t, lines, probe)
	eventsReady(t, tmpl, probe)
	began := time.Now()
	must(t, "run", path2)
	l := lines.snapshot()[lines.waitLine(t, "start "+name2, 20*time.Second, func(l string) bool { return strings.Contains(l, " "+name2) })]
	if f := strings.Fields(l); len(f) != 5 || f[1] != "container" || f[2] != "start" || f[3] != name2 || f[4] != "(image="+cliImage+")" {
		t.Errorf("events line %q, want \"TIME container start %s (image=%s)\"", l, name2, cliImage)
	} else if at, err := time.Parse(time.RFC3339Nano, f[0]); err != nil || at.Before(began.Add(-time.Second)) || !strings.HasSuffix(f[0], "Z") {
		t.Errorf("events line time %q (%v): want RFC 3339 in UTC, after the run", f[0], err)
	}
	tmpl.waitLine(t, "template line", 20*time.Second, func(l string) bool { return l == "container/start/"+name2+"/"+cliImage })
	select {
	case <-lines.done:
		if lines.code != 0 {
			t.Errorf("events --until exited %d: %s", lines.code, lines.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("events --until 15s still runs after 30s")
	}
	for _, l := range lines.snapshot() {
		if !strings.Contains(l, " start ") {
			t.Errorf("--filter event=start let through %q", l)
		}
	}
}

// TestCLIEventsKeeper: the keeper's notices reach `budgie events` — a
// crashing container's restarts, with their count — and type=keeper
// leaves containerd's events out.
func TestCLIEventsKeeper(t *testing.T) {
	t.Cleanup(func() { stopKeeperClearLog(t) })
	must(t, "keeper", "restart")
	probe := newProbe(t)
	path, name := writeBundle(t, "args: [sh, -c, \"sleep 1; exit 3\"]\nrestart_policy: on-failure:2\n")
	all := startStream(t, "events", "--format", "json", "--filter", "container="+name, "--filter", "container="+probe)
	keeperOnly := startStream(t, "events", "--format", "json", "--filter", "type=keeper", "--filter", "container="+name)
	eventsReady(t, all, probe)
	time.Sleep(500 * time.Millisecond) // the keeper's stream is dialled alongside containerd's
	must(t, "run", path)
	restarted := func(count string) func(string) bool {
		return func(l string) bool {
			e, ok := parseEvent(l)
			return ok && e.Type == "keeper" && e.Action == "restarted" && e.Name == name && e.Attributes["restart_count"] == count
		}
	}
	keeperOnly.waitLine(t, "keeper restarted "+name+" (restart_count=1)", 30*time.Second, restarted("1"))
	keeperOnly.waitLine(t, "keeper restarted "+name+" (restart_count=2)", 30*time.Second, restarted("2"))
	all.waitLine(t, "keeper restarted in the unfiltered stream", 10*time.Second, restarted("2"))
	all.waitLine(t, "container exit in the unfiltered stream", 10*time.Second, jsonEvent("container", "exit", name))
	for _, l := range keeperOnly.snapshot() {
		if e, ok := parseEvent(l); !ok || e.Type != "keeper" || e.Name != name {
			t.Errorf("type=keeper let through %q", l)
		}
	}
}

// TestCLIEventsErrors: bad flags fail at once with exit 2 and say why;
// budgie keeps no history, and says so instead of printing nothing.
func TestCLIEventsErrors(t *testing.T) {
	tests := []struct {
		args     []string
		contains string
	}{
		{[]string{"events", "--since", "10m"}, "--since needs past events (10m ago), and budgie keeps no event history"},
		{[]string{"events", "--since", "2020-01-01T00:00:00Z"}, "--since needs past events"},
		{[]string{"events", "--until", "2020-01-01T00:00:00Z"}, "--until 2020-01-01T00:00:00Z has passed"},
		{[]string{"events", "--filter", "colour=red"}, `unknown key "colour" (keys: container, event, image, type)`},
		{[]string{"events", "--filter", "type=volume"}, `unknown type "volume"`},
		{[]string{"events", "--format", "{{.Nope"}, "bad --format template"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			start := time.Now()
			r := budgie(t, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.contains) {
				t.Errorf("exit %d (want 2), stderr %q (want %q)", r.code, r.stderr, tt.contains)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %s: a bad flag must fail at once", time.Since(start))
			}
		})
	}
	// A future --since is real: nothing before it is shown, and the
	// command ends at --until.
	since := time.Now().Add(30 * time.Second).UTC().Format(time.RFC3339)
	r := budgie(t, "events", "--since", since, "--until", "3s")
	if r.code != 2 || !strings.Contains(r.stderr, "comes before --since") {
		t.Errorf("--until before --since: exit %d, %q", r.code, r.stderr)
	}
	start := time.Now()
	if r := budgie(t, "events", "--filter", "container=nothing-"+fmt.Sprint(start.UnixNano()), "--until", "2s"); r.code != 0 || r.stdout != "" {
		t.Errorf("events --until 2s: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if d := time.Since(start); d < 2*time.Second || d > 15*time.Second {
		t.Errorf("events --until 2s took %s", d)
	}
}
