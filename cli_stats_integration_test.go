//go:build integration

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIStats: `budgie stats --no-stream` samples real containers — a
// busy loop shows most of a CPU, a sleeping one almost none — in JSON,
// in a table and through a template; a stopped container shows zeros.
func TestCLIStats(t *testing.T) {
	busyPath, busy := writeBundle(t, "args: [sh, -c, \"while :; do :; done\"]\nstop_timeout: 1s\n")
	idlePath, idle := writeBundle(t, "args: [sleep, \"3600\"]\nstop_timeout: 1s\nresources: {memory: 64MiB}\n")
	must(t, "run", busyPath)
	must(t, "run", idlePath)

	var rows []struct {
		Name       string  `json:"name"`
		CPUPercent float64 `json:"cpu_percent"`
		MemUsage   uint64  `json:"mem_usage"`
		MemLimit   uint64  `json:"mem_limit"`
		Pids       uint64  `json:"pids"`
	}
	out := must(t, "stats", "--no-stream", "--interval", "1s", "--format", "json", busy, idle)
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("stats --format json: %v, %d rows: %s", err, len(rows), out)
	}
	if rows[0].Name != busy || rows[1].Name != idle {
		t.Fatalf("rows %q, %q; want %q, %q in the order given", rows[0].Name, rows[1].Name, busy, idle)
	}
	if rows[0].CPUPercent < 40 {
		t.Errorf("a busy loop shows %.1f%% CPU; want most of a CPU", rows[0].CPUPercent)
	}
	if rows[1].CPUPercent > 10 {
		t.Errorf("a sleeping container shows %.1f%% CPU", rows[1].CPUPercent)
	}
	if rows[1].MemLimit != 64<<20 || rows[1].MemUsage == 0 || rows[1].Pids == 0 {
		t.Errorf("idle container: memory %d / %d, pids %d; want some use, a 64 MiB limit and a process", rows[1].MemUsage, rows[1].MemLimit, rows[1].Pids)
	}

	table := must(t, "stats", "--no-stream", "--interval", "200ms", idle)
	if !strings.HasPrefix(table, "CONTAINER ID") || !strings.Contains(table, idle) || !strings.Contains(table, "64 MiB") {
		t.Errorf("stats table lacks the header, the container or its limit:\n%s", table)
	}
	if line := must(t, "stats", "--no-stream", "--interval", "200ms", "--format", "{{.Name}} pids={{.Pids}}", idle); !strings.HasPrefix(line, idle+" pids=") || strings.HasPrefix(line, idle+" pids=0") {
		t.Errorf("stats template printed %q", line)
	}

	must(t, "stop", idle)
	out = must(t, "stats", "--no-stream", "--interval", "200ms", "--format", "{{.Name}} {{.CPUPercent}} {{.MemUsage}}", idle)
	if strings.TrimSpace(out) != idle+" 0 0" {
		t.Errorf("a stopped container's sample: %q, want zeros", out)
	}
	if r := budgie(t, "stats", "--no-stream", "nosuchcontainer"); r.code != 3 {
		t.Errorf("stats of a missing container: exit %d, want 3 (not found)", r.code)
	}
}
