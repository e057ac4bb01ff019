package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// StatsCmd shows containers' resource use, live, as docker stats does.
type StatsCmd struct {
	Containers []string      `arg:"" optional:"" predictor:"container" help:"Containers to show (name, ID or unique ID prefix; default: every running one)."`
	NoStream   bool          `name:"no-stream" help:"Print one sample (CPU % over the first --interval) and exit."`
	Format     string        `help:"Output format: table, json, or a Go template such as '{{.Name}} {{.CPUPercent}}'." default:"table"`
	Interval   time.Duration `help:"Time between samples." default:"2s"`
}

// statsRow is one container's sample, as --format sees it.
type statsRow struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CPUPercent float64 `json:"cpu_percent"`
	MemUsage   uint64  `json:"mem_usage"`
	MemLimit   uint64  `json:"mem_limit"`
	MemPercent float64 `json:"mem_percent"`
	NetRx      uint64  `json:"net_rx"`
	NetTx      uint64  `json:"net_tx"`
	BlockRead  uint64  `json:"block_read"`
	BlockWrite uint64  `json:"block_write"`
	Pids       uint64  `json:"pids"`
}

// Run samples the containers every --interval (engine.Stats, as nest's
// monitor does) and prints a table — redrawn in place on a terminal — or
// JSON (one array per sample) or a template line per container, until
// interrupted or, with --no-stream, once.
func (c *StatsCmd) Run(g *Globals, eng *engine.Engine) error {
	if c.Interval < 100*time.Millisecond {
		return fmt.Errorf("--interval %s: want at least 100ms: %w", c.Interval, errInvalid)
	}
	format, err := parseFormat(c.Format)
	if err != nil {
		return err
	}
	cs, err := c.containers(g.ctx, eng)
	if err != nil {
		return err
	}
	// Named containers: sample just those (docker stats NAME), not every
	// one on the node.
	opts := runtime.StatsOptions{}
	if len(c.Containers) > 0 {
		for _, ctr := range cs {
			opts.IDs = append(opts.IDs, ctr.ID)
		}
	}
	prev, err := eng.Stats(g.ctx, opts)
	if err != nil {
		return err
	}
	redraw := format.isTable() && !c.NoStream && term.IsTerminal(int(os.Stdout.Fd()))
	for {
		select {
		case <-g.ctx.Done():
			return nil
		case <-time.After(c.Interval):
		}
		cur, err := eng.Stats(g.ctx, opts)
		if err != nil {
			if g.ctx.Err() != nil {
				return nil
			}
			return err
		}
		if redraw {
			fmt.Print("\x1b[H\x1b[2J")
		}
		if err := printStats(os.Stdout, format, statsRows(cs, prev, cur)); err != nil {
			return err
		}
		if c.NoStream {
			return nil
		}
		prev = cur
	}
}

// containers resolves the named containers, or lists the running ones.
func (c *StatsCmd) containers(ctx context.Context, eng *engine.Engine) ([]models.Container, error) {
	if len(c.Containers) == 0 {
		return eng.Containers(ctx, runtime.ListOptions{})
	}
	var cs []models.Container
	for _, ref := range c.Containers {
		ctr, err := eng.Container(ctx, ref)
		if err != nil {
			return nil, err
		}
		cs = append(cs, ctr)
	}
	return cs, nil
}

// statsRows pairs each container with its two samples; a container that
// is not running shows zeros.
func statsRows(cs []models.Container, prev, cur map[string]models.Stats) []statsRow {
	rows := make([]statsRow, 0, len(cs))
	for _, ctr := range cs {
		r := statsRow{ID: models.ShortID(ctr.ID), Name: ctr.Name}
		if s, ok := cur[ctr.ID]; ok {
			r.CPUPercent = models.CPUPercent(prev[ctr.ID], s)
			r.MemUsage, r.MemLimit = s.MemoryUsage, s.MemoryLimit
			if s.MemoryLimit > 0 {
				r.MemPercent = float64(s.MemoryUsage) / float64(s.MemoryLimit) * 100
			}
			r.NetRx, r.NetTx, r.BlockRead, r.BlockWrite, r.Pids = s.NetRx, s.NetTx, s.BlockRead, s.BlockWrite, s.Pids
		}
		rows = append(rows, r)
	}
	return rows
}

// printStats writes one sample in format: json is one array per line.
func printStats(out io.Writer, format outputFormat, rows []statsRow) error {
	return format.printLine(out, rows, func(out io.Writer) error { return statsTable(out, rows) })
}

// statsTable writes docker's stats table.
func statsTable(out io.Writer, rows []statsRow) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
	for _, r := range rows {
		limit, memPct := "no limit", "-"
		if r.MemLimit > 0 {
			limit, memPct = humanize.IBytes(r.MemLimit), fmt.Sprintf("%.2f%%", r.MemPercent)
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%s\t%s / %s\t%s / %s\t%d\n", r.ID, models.Printable(r.Name), r.CPUPercent,
			humanize.IBytes(r.MemUsage), limit, memPct, humanize.Bytes(r.NetRx), humanize.Bytes(r.NetTx),
			humanize.Bytes(r.BlockRead), humanize.Bytes(r.BlockWrite), r.Pids)
	}
	return w.Flush()
}
