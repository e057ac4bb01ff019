package containers

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/budgie-sh/budgie/models"
)

// row is one container with its latest resource sample.
type row struct {
	c models.Container
	// cpu is the CPU use between the last two samples, in percent; mem is
	// the memory in use. hasStats says whether a sample was taken.
	cpu      float64
	mem      uint64
	hasStats bool
}

// column is one table column: its header, how wide it may be, how to
// render a cell and how to compare two rows.
type column struct {
	title    string
	min, max int
	cell     func(r row, now time.Time) string
	less     func(a, b row) int
}

// columns are the table's columns in display order. Sorting refers to
// them by index.
var columns = []column{
	{"NAME", 8, 28, func(r row, _ time.Time) string { return r.c.Name }, func(a, b row) int { return cmp.Compare(a.c.Name, b.c.Name) }},
	{"ID", 12, 12, func(r row, _ time.Time) string { return r.c.ShortID() }, func(a, b row) int { return cmp.Compare(a.c.ID, b.c.ID) }},
	{"IMAGE", 8, 36, func(r row, _ time.Time) string { return shortImage(r.c.Image) }, func(a, b row) int { return cmp.Compare(a.c.Image, b.c.Image) }},
	{"STATE", 7, 10, stateCell, func(a, b row) int { return cmp.Compare(stateRank(a.c.State), stateRank(b.c.State)) }},
	{"HEALTH", 6, 9, healthCell, func(a, b row) int { return cmp.Compare(healthRank(a.c.Health), healthRank(b.c.Health)) }},
	{"UPTIME", 6, 8, uptimeCell, func(a, b row) int { return cmp.Compare(uptimeKey(a), uptimeKey(b)) }},
	{"PORTS", 5, 30, func(r row, _ time.Time) string { return ports(r.c.Ports) }, func(a, b row) int { return cmp.Compare(ports(a.c.Ports), ports(b.c.Ports)) }},
	{"CPU%", 5, 6, cpuCell, func(a, b row) int { return cmp.Compare(a.cpu, b.cpu) }},
	{"MEM", 6, 8, memCell, func(a, b row) int { return cmp.Compare(a.mem, b.mem) }},
	{"RESTARTS", 8, 8, func(r row, _ time.Time) string { return strconv.Itoa(r.c.RestartCount) }, func(a, b row) int { return cmp.Compare(a.c.RestartCount, b.c.RestartCount) }},
	{"NODE", 4, 16, func(r row, _ time.Time) string { return r.c.Node }, func(a, b row) int { return cmp.Compare(a.c.Node, b.c.Node) }},
}

// stateCol is the index of the STATE column (coloured when drawn).
const stateCol = 3

func stateRank(s models.ContainerState) int {
	return slices.Index([]models.ContainerState{models.StateRunning, models.StateRestarting, models.StatePaused, models.StateCreated, models.StateExited, models.StateUnknown}, s)
}

// stateCell is the task's state, or "damaged" for a container whose
// Budgie labels cannot be read (its Inspect page names them).
func stateCell(r row, _ time.Time) string {
	if len(r.c.Damaged) > 0 {
		return "damaged"
	}
	return string(r.c.State)
}

// healthCell is the health state, or "-" for a container without a check.
func healthCell(r row, _ time.Time) string {
	if r.c.Health == models.HealthNone {
		return "-"
	}
	return string(r.c.Health)
}

// healthRank sorts unhealthy first: that is what a sort by health is for.
func healthRank(h models.HealthStatus) int {
	return slices.Index([]models.HealthStatus{models.HealthUnhealthy, models.HealthStarting, models.HealthHealthy, models.HealthNone}, h)
}

// uptimeKey orders by uptime: stopped containers first, then the most
// recently started.
func uptimeKey(r row) int64 {
	if r.c.State != models.StateRunning && r.c.State != models.StatePaused {
		return math.MinInt64
	}
	return -r.c.StartedAt.UnixNano()
}

func uptimeCell(r row, now time.Time) string {
	if r.c.State != models.StateRunning && r.c.State != models.StatePaused || r.c.StartedAt.IsZero() {
		return "-"
	}
	return Duration(now.Sub(r.c.StartedAt))
}

func cpuCell(r row, _ time.Time) string {
	if !r.hasStats {
		return "-"
	}
	return fmt.Sprintf("%.1f", r.cpu)
}

func memCell(r row, _ time.Time) string {
	if !r.hasStats {
		return "-"
	}
	return Bytes(r.mem)
}

// Duration is a compact age: 42s, 5m, 3h, 2d.
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// Bytes is a compact binary size: 512B, 3.2Ki, 41Mi, 1.5Gi.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v, suffix := float64(n), ""
	for _, s := range []string{"Ki", "Mi", "Gi", "Ti"} {
		v, suffix = v/unit, s
		if v < unit {
			break
		}
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%s", v, suffix)
	}
	return fmt.Sprintf("%.0f%s", v, suffix)
}

// shortImage drops docker.io/library/ the way docker ps does.
func shortImage(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	return strings.TrimPrefix(ref, "library/")
}

// ports is the compact PORTS cell: 8080->80/tcp, 53->53/udp.
func ports(ps []models.PortMapping) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		proto := cmp.Or(p.Protocol, "tcp")
		out = append(out, fmt.Sprintf("%d->%d/%s", p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(out, ",")
}

// widths fits the columns into width cells (one space between columns):
// each column gets what its widest cell needs, within its min and max;
// if that is too wide, the flexible columns shrink towards their minimum.
func widths(cells [][]string, width int) []int {
	ws := make([]int, len(columns))
	for i, col := range columns {
		ws[i] = len(col.title)
	}
	for _, r := range cells {
		for i, c := range r {
			ws[i] = max(ws[i], ansi.StringWidth(c))
		}
	}
	total := len(columns) - 1
	for i, col := range columns {
		ws[i] = min(max(ws[i], col.min), col.max)
		total += ws[i]
	}
	for total > width {
		shrunk := false
		for i := range ws {
			if total > width && ws[i] > columns[i].min {
				ws[i]--
				total--
				shrunk = true
			}
		}
		if !shrunk {
			break
		}
	}
	if total < width {
		ws[0] += width - total // the name column takes the slack
	}
	return ws
}

// fit pads or truncates s to exactly w cells.
func fit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-ansi.StringWidth(s))
}

// sortRows orders rows by column col (ascending unless desc); ties keep
// name order so that the table does not jump.
func sortRows(rows []row, col int, desc bool) {
	slices.SortStableFunc(rows, func(a, b row) int {
		c := columns[col].less(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.c.Name, b.c.Name)
		}
		return c
	})
}
