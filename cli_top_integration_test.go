//go:build integration

package main

import (
	"strings"
	"testing"
	"time"
)

// TestCLITop: top lists exactly the container's processes, from /proc or
// through the host's ps, paused ones too, and refuses a stopped container.
func TestCLITop(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"sleep 3600 & exec sleep 3601\"]\n")
	must(t, "run", path)
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out = must(t, "top", name); strings.Contains(out, "sleep 3600") && strings.Contains(out, "sleep 3601") {
			break
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "PID USER TIME CMD" {
		t.Fatalf("top: want a header and 2 processes:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 5 || f[1] != "root" || f[2] != "00:00:00" || f[3] != "sleep" {
			t.Errorf("top row %q: want PID root 00:00:00 sleep N", l)
		}
	}

	psOut := must(t, "top", name, "-o", "pid,args")
	psLines := strings.Split(strings.TrimSpace(psOut), "\n")
	if len(psLines) != 3 || !strings.Contains(psLines[0], "PID") || !strings.Contains(psOut, "sleep 3601") {
		t.Errorf("top -o pid,args: want the header and the 2 processes only:\n%s", psOut)
	}

	must(t, "pause", name)
	if out := must(t, "top", name); !strings.Contains(out, "sleep 3601") {
		t.Errorf("top of a paused container:\n%s", out)
	}
	must(t, "unpause", name)

	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"top", "no-such-thing"}, 3, "no such container"},
		{[]string{"top", name, "-o", "args"}, 2, "PID column"},
	}
	for _, tt := range tests {
		if r := budgie(t, tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.contains) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.contains)
		}
	}
	if out := must(t, "top", "--help"); !strings.Contains(out, "Example:") {
		t.Errorf("top --help has no example:\n%s", out)
	}
	must(t, "kill", name)
	must(t, "wait", name)
	if r := budgie(t, "top", name); r.code != 1 || !strings.Contains(r.stderr, "budgie start") {
		t.Errorf("top of a stopped container: exit %d %q", r.code, r.stderr)
	}
}
