//go:build integration

package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRunTimings: BUDGIE_TIMINGS=1 has run print each phase it went
// through, with durations that add up (a sub-phase within its phase,
// every phase within the command), and nothing without it.
func TestRunTimings(t *testing.T) {
	path, name := writeBundle(t, "args: [sleep, '3600']\n")
	r := budgieEnv(t, append(testEnv(), "BUDGIE_TIMINGS=1"), "run", path)
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	line := regexp.MustCompile(`(?m)^budgie: timing: \+([0-9.]+)ms ([0-9.]+)ms (\S+)$`)
	dur := map[string]float64{}
	for _, m := range line.FindAllStringSubmatch(r.stderr, -1) {
		d, _ := strconv.ParseFloat(m[2], 64)
		dur[m[3]] = d
	}
	for _, phase := range []string{"open", "run", "run/create", "run/create/containerd", "run/start", "run/start/task-create",
		"run/start/network-prepare/firewall", "run/start/network/cni-bridge", "run/start/network/loopback", "run/start/task-start", "total"} {
		if _, ok := dur[phase]; !ok {
			t.Errorf("no %s phase in:\n%s", phase, r.stderr)
		}
	}
	if !(dur["run/start/task-create"] <= dur["run/start"] && dur["run/start"] <= dur["run"] && dur["run"] <= dur["total"] && dur["run/start/task-create"] > 0) {
		t.Errorf("phases do not nest: task-create %.1f, start %.1f, run %.1f, total %.1f ms",
			dur["run/start/task-create"], dur["run/start"], dur["run"], dur["total"])
	}
	if out := must(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"); strings.TrimSpace(out) != "running" {
		t.Errorf("state %q after a timed run, want running", out)
	}
	must(t, "rm", "-f", name)
	r = budgie(t, "run", path)
	if r.code != 0 || strings.Contains(r.stderr, "timing") {
		t.Errorf("without BUDGIE_TIMINGS: exit %d, stderr %q", r.code, r.stderr)
	}
}
