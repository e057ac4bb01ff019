package main

import (
	"strings"
	"testing"
)

func TestPhaseTimes(t *testing.T) {
	var p phaseTimes
	runs := []string{
		"abc123\nbudgie: timing: +5.0ms 3.0ms open\nbudgie: timing: +9.0ms 20.0ms run/start/task-create\n" +
			"budgie: timing: +8.0ms 30.0ms run/start\nbudgie: timing: +8.0ms 31.0ms run\nbudgie: timing: +0.0ms 40.0ms total\n",
		"budgie: timing: +5.0ms 5.0ms open\nbudgie: timing: +9.0ms 22.0ms run/start/task-create\n" +
			"budgie: timing: +8.0ms 32.0ms run/start\nbudgie: timing: +8.0ms 33.0ms run\nbudgie: timing: +0.0ms 44.0ms total\n" +
			"budgie: timing: +35.0ms 4.0ms run/start/hosts\nbudgie: timing: +35.5ms 2.0ms hosts/list\n" +
			"budgie: timing: +37.5ms 1.0ms hosts/write\nbudgie: timing: +39.5ms 1.0ms run/get\n",
	}
	for _, out := range runs {
		if err := p.add(out, 0.050); err != nil {
			t.Fatal(err)
		}
	}
	got := p.table()
	for _, want := range []string{
		"| `open` | 4.0 ms |",
		"| ↳ `run/start` | 31.0 ms |",
		"| · ↳ `run/start/task-create` | 21.0 ms |",
		"| `(process start and exit)` | 8.0 ms |",
		// A helper's phases sit under the phase they ran in.
		"| · ↳ `run/start/hosts` | 4.0 ms |",
		"| · · ↳ `hosts/list` | 2.0 ms |",
		"| · · ↳ `hosts/write` | 1.0 ms |",
		"| ↳ `run/get` | 1.0 ms |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	// Order: by start, a phase before its sub-phases.
	if strings.Index(got, "`run`") > strings.Index(got, "`run/start`") || strings.Index(got, "`run/start`") > strings.Index(got, "task-create") {
		t.Errorf("phases out of order:\n%s", got)
	}
	if err := p.add("no timing here\n", 0.05); err == nil {
		t.Error("output without a total was accepted")
	}
}
