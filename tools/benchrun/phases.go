package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// runGoal is issue 19's goal for run → running: at most 1.15× ctr's median.
const runGoal = 1.15

// phaseTimes collects, per phase name, the durations (seconds) budgie
// printed with BUDGIE_TIMINGS=1, in the order the names first appeared.
type phaseTimes struct {
	order []string
	secs  map[string][]float64
	start map[string]float64 // first start offset seen, for the order
}

// add parses out's "budgie: timing: +START DURATION NAME" lines (see
// cli/timings.go) and adds wall-total, the command's wall time seen from
// outside, under "(process start and exit)" as what the lines do not cover.
func (p *phaseTimes) add(out string, wall float64) error {
	if p.secs == nil {
		p.secs, p.start = map[string][]float64{}, map[string]float64{}
	}
	total := -1.0
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "budgie: timing: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 3 || !strings.HasSuffix(f[1], "ms") {
			return fmt.Errorf("timing line %q: want +START DURATION NAME", line)
		}
		at, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(f[0], "+"), "ms"), 64)
		if err != nil {
			return fmt.Errorf("timing line %q: %w", line, err)
		}
		d, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "ms"), 64)
		if err != nil {
			return fmt.Errorf("timing line %q: %w", line, err)
		}
		if _, ok := p.start[f[2]]; !ok {
			p.start[f[2]] = at
		}
		if f[2] == "total" {
			total = d / 1000
			continue
		}
		p.put(f[2], d/1000)
	}
	if total < 0 {
		return fmt.Errorf("no timing total in budgie's output (is BUDGIE_TIMINGS=1 honoured?):\n%s", out)
	}
	const outside = "(process start and exit)"
	if _, ok := p.start[outside]; !ok {
		p.start[outside] = total * 1000
	}
	p.put(outside, wall-total)
	return nil
}

func (p *phaseTimes) put(name string, secs float64) {
	if _, ok := p.secs[name]; !ok {
		p.order = append(p.order, name)
	}
	p.secs[name] = append(p.secs[name], secs)
}

// table renders the phases as a Markdown table of medians, in the order
// they started, each sub-phase (NAME/SUB) indented under its phase, and a
// helper's phase (HELPER/SUB, no top-level HELPER phase) under the phase
// it started in.
func (p *phaseTimes) table() string {
	slices.SortStableFunc(p.order, func(a, b string) int {
		if c := cmp.Compare(p.start[a], p.start[b]); c != 0 {
			return c
		}
		return cmp.Compare(strings.Count(a, "/"), strings.Count(b, "/"))
	})
	var b strings.Builder
	b.WriteString("| phase | median | share of the command's median |\n|---|---:|---:|\n")
	whole := 0.0
	for _, name := range p.order {
		if !strings.Contains(name, "/") {
			whole += Summarize(p.secs[name]).Median
		}
	}
	own := 0 // depth of the last phase named under a top-level one
	for _, name := range p.order {
		m := Summarize(p.secs[name]).Median
		label := "`" + name + "`"
		depth := strings.Count(name, "/")
		if first, _, _ := strings.Cut(name, "/"); depth > 0 && !slices.Contains(p.order, first) {
			// A phase of a helper several commands call (hosts/list,
			// leases/tasks): it ran inside the phase that began before it.
			depth += own
		} else {
			own = depth
		}
		if depth > 0 {
			label = strings.Repeat("· ", depth-1) + "↳ " + label
		}
		share := "—"
		if whole > 0 && !strings.Contains(name, "/") {
			share = fmt.Sprintf("%.0f %%", 100*m/whole)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", label, Dur(m).String(), share)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
