package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Unit says how a Figure's value reads.
type Unit int

const (
	// Seconds is a duration in seconds.
	Seconds Unit = iota
	// Percent is a share of one CPU core, in percent.
	Percent
	// Bytes is a byte count.
	Bytes
	// PerSecond is a rate (requests per second).
	PerSecond
)

// Verdicts on a goal.
const (
	Met     = "met"
	Missed  = "missed"
	NoGoal  = "no goal set"
	NotMeas = "—"
)

// Figure is one measured value, or a Text saying why there is none.
type Figure struct {
	// Value is the measurement in Unit.
	Value float64
	// Unit says how Value reads.
	Unit Unit
	// Text, when not empty, replaces the value ("no peer available here").
	Text string
}

// Absent is a Figure that was not measured, with the reason.
func Absent(reason string) Figure { return Figure{Text: reason, Value: math.NaN()} }

// Dur is a duration Figure.
func Dur(seconds float64) Figure { return Figure{Value: seconds, Unit: Seconds} }

// Measured reports whether f holds a value.
func (f Figure) Measured() bool { return f.Text == "" && !math.IsNaN(f.Value) }

// String renders the value with a unit suited to its size.
func (f Figure) String() string {
	if f.Text != "" {
		return f.Text
	}
	switch f.Unit {
	case Percent:
		return fmt.Sprintf("%.2f %%", f.Value)
	case Bytes:
		return fmt.Sprintf("%.0f B", f.Value)
	case PerSecond:
		return fmt.Sprintf("%.0f /s", f.Value)
	}
	return formatSeconds(f.Value)
}

func formatSeconds(s float64) string {
	switch {
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}

// Line is one measure of a row: Budgie's figure, the peer's and the goal.
type Line struct {
	// Measure names what is measured ("median", "p95", "idle CPU").
	Measure string
	// Budgie and Peer are the two sides' figures.
	Budgie, Peer Figure
	// Reps is the repetition count ("30 + 30, alternated").
	Reps string
	// Goal is the goal's wording; empty means there is none (NoGoal).
	Goal string
	// Verdict is Met, Missed or NotMeas.
	Verdict string
}

// RatioText is Budgie/peer as "1.23×", or "—" without two comparable figures.
func (l Line) RatioText() string {
	if !l.Budgie.Measured() || !l.Peer.Measured() || l.Budgie.Unit != l.Peer.Unit {
		return "—"
	}
	r, ok := Ratio(l.Budgie.Value, l.Peer.Value)
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.2f×", r)
}

// Row is one comparison of the benchmark: a section of the document.
type Row struct {
	// Title names the comparison ("run → running").
	Title string
	// Budgie and Peer say what each side runs.
	Budgie, Peer string
	// Lines are the measures.
	Lines []Line
	// Notes explain the method and caveats, one paragraph each.
	Notes []string
}

// Machine describes where the figures were taken.
type Machine struct {
	// CPU is the model name; Memory the total, readable ("23.5 GiB").
	CPU, Memory string
	// Kernel, Containerd, Runc and Go are the versions in use.
	Kernel, Containerd, Runc, Go string
	// Cores is the number of logical CPUs.
	Cores int
	// Date is when the run started; it is shown in UTC.
	Date time.Time
}

// Verdict returns Met or Missed for ok, or NotMeas when the figure is absent.
func Verdict(f Figure, ok bool) string {
	switch {
	case !f.Measured():
		return NotMeas
	case ok:
		return Met
	}
	return Missed
}

// RenderRow writes one row as a Markdown section with a table.
func RenderRow(w io.Writer, r Row) {
	fmt.Fprintf(w, "### %s\n\n", r.Title)
	fmt.Fprintf(w, "Budgie: `%s` · peer: %s\n\n", r.Budgie, r.Peer)
	fmt.Fprintln(w, "| Measure | Budgie | Peer | Budgie/peer | Repetitions | Goal | Met |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|---|")
	for _, l := range r.Lines {
		goal, verdict := l.Goal, l.Verdict
		if goal == "" {
			goal, verdict = NoGoal, NotMeas
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n",
			cell(l.Measure), cell(l.Budgie.String()), cell(l.Peer.String()), l.RatioText(), cell(l.Reps), cell(goal), verdict)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}
	fmt.Fprintln(w)
}

// RenderMachine writes the machine description as a Markdown list.
func RenderMachine(w io.Writer, m Machine) {
	fmt.Fprintf(w, "- Date: %s\n", m.Date.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- CPU: %s, %d cores\n", m.CPU, m.Cores)
	fmt.Fprintf(w, "- Memory: %s\n", m.Memory)
	fmt.Fprintf(w, "- Kernel: %s\n", m.Kernel)
	fmt.Fprintf(w, "- containerd: %s\n", m.Containerd)
	fmt.Fprintf(w, "- runc: %s\n", m.Runc)
	fmt.Fprintf(w, "- Go: %s\n", m.Go)
}

// RenderGoals writes one line per goal with its verdict.
func RenderGoals(w io.Writer, rows []Row) {
	for _, r := range rows {
		for _, l := range r.Lines {
			if l.Goal == "" {
				continue
			}
			fmt.Fprintf(w, "- %s, %s: %s — **%s** (Budgie: %s)\n", r.Title, l.Measure, l.Goal, l.Verdict, l.Budgie)
		}
	}
}

// cell keeps a value from breaking the table.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
