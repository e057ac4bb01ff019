package containers

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
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

// column is one table column: its layout (title, width bounds and
// priority, see common.FitColumns), how to render a cell and how to
// compare two rows.
type column struct {
	common.Column
	cell func(r row, now time.Time) string
	less func(a, b row) int
}

// col builds a column; prio is its common.Column priority.
func col(title string, lo, hi, prio int, cell func(row, time.Time) string, less func(a, b row) int) column {
	return column{common.Column{Title: title, Min: lo, Max: hi, Priority: prio}, cell, less}
}

// columns are the table's columns in display order. Sorting refers to
// them by index. When the terminal is narrow, columns go in priority
// order: NODE, RESTARTS, ID, PORTS, HEALTH, MEM, CPU%, UPTIME, IMAGE;
// NAME and STATE always stay.
var columns = []column{
	col("NAME", 8, 28, 0, func(r row, _ time.Time) string { return r.c.Name }, func(a, b row) int { return cmp.Compare(a.c.Name, b.c.Name) }),
	col("ID", 12, 12, 8, func(r row, _ time.Time) string { return r.c.ShortID() }, func(a, b row) int { return cmp.Compare(a.c.ID, b.c.ID) }),
	col("IMAGE", 8, 36, 1, func(r row, _ time.Time) string { return shortImage(r.c.Image) }, func(a, b row) int { return cmp.Compare(a.c.Image, b.c.Image) }),
	col("STATE", 7, 10, 0, stateCell, func(a, b row) int { return cmp.Compare(stateRank(a.c.State), stateRank(b.c.State)) }),
	col("HEALTH", 6, 9, 5, healthCell, func(a, b row) int { return cmp.Compare(healthRank(a.c.Health), healthRank(b.c.Health)) }),
	col("UPTIME", 6, 8, 2, uptimeCell, func(a, b row) int { return cmp.Compare(uptimeKey(a), uptimeKey(b)) }),
	col("PORTS", 5, 30, 7, func(r row, _ time.Time) string { return ports(r.c.Ports) }, func(a, b row) int { return cmp.Compare(ports(a.c.Ports), ports(b.c.Ports)) }),
	col("CPU%", 5, 6, 3, cpuCell, func(a, b row) int { return cmp.Compare(a.cpu, b.cpu) }),
	col("MEM", 6, 8, 4, memCell, func(a, b row) int { return cmp.Compare(a.mem, b.mem) }),
	col("RESTARTS", 8, 8, 9, func(r row, _ time.Time) string { return strconv.Itoa(r.c.RestartCount) }, func(a, b row) int { return cmp.Compare(a.c.RestartCount, b.c.RestartCount) }),
	col("NODE", 4, 16, 10, func(r row, _ time.Time) string { return r.c.Node }, func(a, b row) int { return cmp.Compare(a.c.Node, b.c.Node) }),
}

// layout is every column's common.Column, for common.FitColumns.
var layout = func() []common.Column {
	out := make([]common.Column, len(columns))
	for i, c := range columns {
		out[i] = c.Column
	}
	return out
}()

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

// widths fits the columns into width cells (see common.FitColumns):
// 0 means the column is dropped; the name column takes the slack.
func widths(cells [][]string, width int) []int {
	return common.FitColumns(layout, cells, width, 0)
}

// fit pads or truncates s to exactly w cells.
func fit(s string, w int) string { return common.Cell(s, w, false) }

// shown keeps the cells of the columns that are drawn (width > 0).
func shown(line []string, ws []int) []string {
	out := make([]string, 0, len(line))
	for i, s := range line {
		if ws[i] > 0 {
			out = append(out, s)
		}
	}
	return out
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
