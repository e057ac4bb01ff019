package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
)

// SystemCmd groups node-level commands.
type SystemCmd struct {
	Info  SystemInfoCmd  `cmd:"" help:"Show which containerd budgie uses and how."`
	Df    SystemDfCmd    `cmd:"" help:"Show disk usage: images, containers, volumes."`
	Prune SystemPruneCmd `cmd:"" help:"Remove stopped containers, unused networks, dangling images (and more with -a, --volumes)."`
}

// SystemInfoCmd prints engine.SystemInfo.
type SystemInfoCmd struct {
	Format string `help:"Output format: table, json (one object), or a Go template given that object, such as '{{.Containerd}} {{.Version}}'." default:"table"`
}

// Run prints the system information.
func (c *SystemInfoCmd) Run(g *Globals, eng *engine.Engine) error {
	info, err := eng.Info(g.ctx, engine.InfoOptions{})
	if err != nil {
		return err
	}
	return printList(os.Stdout, c.Format, info, func(out io.Writer) error { return infoTable(out, info, g.version) })
}

// infoTable writes the system info table, budgie's own version first.
func infoTable(out io.Writer, info engine.SystemInfo, version string) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	pid := ""
	if info.Pid > 0 {
		pid = fmt.Sprintf(" (pid %d)", info.Pid)
	}
	rows := [][2]string{
		{"Budgie", version},
		{"Node", info.Node},
		{"Containerd", info.Containerd + pid},
		{"Version", info.Version + " " + info.Revision},
		{"Socket", info.Socket},
		{"Namespace", info.Namespace},
		{"Runtime", info.Runtime},
		{"Cgroup version", info.CgroupVersion},
		{"Snapshotter", info.Snapshotter},
		{"Data dir", info.DataDir},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s:\t%s\n", r[0], r[1])
	}
	return w.Flush()
}

// SystemDfCmd prints engine.DiskUsage.
type SystemDfCmd struct {
	Format string `help:"Output format: table, json (one object, sizes in bytes), or a Go template given that object, such as '{{.Images.Size}}'." default:"table"`
}

// Help is the detail and example under the command's --help.
func (*SystemDfCmd) Help() string {
	return `As docker system df: how many images (counted by ID), containers and
named volumes there are, how many are in use (images a container was
created from, running containers, mounted volumes), their size (image
content, containers' writable layers, volumes' files) and what the prunes
would free.

Example:
  budgie --headless system df
  TYPE            TOTAL   ACTIVE   SIZE       RECLAIMABLE
  Images          3       1        6.12 MiB   4.08 MiB (66%)
  Containers      2       1        24 KiB     12 KiB (50%)
  Local Volumes   1       0        12.3 MiB   12.3 MiB (100%)`
}

// Run measures and prints the disk usage.
func (c *SystemDfCmd) Run(g *Globals, eng *engine.Engine) error {
	du, err := eng.DiskUsage(g.ctx)
	if err != nil {
		return err
	}
	return printList(os.Stdout, c.Format, du, func(out io.Writer) error { return dfTable(out, du) })
}

// dfTable writes docker's system df table.
func dfTable(out io.Writer, du engine.DiskUsage) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	for _, r := range []struct {
		kind string
		row  engine.DiskUsageRow
	}{{"Images", du.Images}, {"Containers", du.Containers}, {"Local Volumes", du.Volumes}} {
		pct := 0
		if r.row.Size > 0 {
			pct = int(r.row.Reclaimable * 100 / r.row.Size)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s (%d%%)\n", r.kind, r.row.Total, r.row.Active,
			sizeIEC(r.row.Size), sizeIEC(r.row.Reclaimable), pct)
	}
	return w.Flush()
}

// SystemPruneCmd removes what nothing uses.
type SystemPruneCmd struct {
	All     bool `short:"a" help:"Remove every image no container uses, not only dangling ones."`
	Volumes bool `help:"Also remove the named volumes no container mounts."`
	Force   bool `short:"f" help:"Do not ask for confirmation (needed when standard input is not a terminal)."`
}

// Help is the detail and example under the command's --help.
func (*SystemPruneCmd) Help() string {
	return `As docker system prune: removes the stopped containers, the networks no
container names (never the default budgie0), with --volumes the named
volumes no container mounts, and the dangling images (-a: every image no
container uses). Asks first unless -f. What cannot be removed is named at
the end; the rest is removed all the same.

Example:
  budgie --headless system prune -a --volumes -f
  Deleted Containers:
  web-old

  Deleted Volumes:
  web-old-data

  Total reclaimed space: 8.4 MiB`
}

// warning is docker's list of what the prune will remove.
func (c *SystemPruneCmd) warning() string {
	lines := []string{"WARNING! This will remove:", "  - all stopped containers", "  - all networks not used by at least one container"}
	if c.Volumes {
		lines = append(lines, "  - all volumes not used by at least one container")
	}
	if c.All {
		lines = append(lines, "  - all images without at least one container associated to them")
	} else {
		lines = append(lines, "  - all dangling images")
	}
	return strings.Join(lines, "\n")
}

// Run asks, prunes and reports.
func (c *SystemPruneCmd) Run(g *Globals) error {
	if ok, err := confirmPrune(os.Stdin, os.Stderr, c.Force, c.warning()); !ok {
		return err
	}
	eng, err := g.Engine() // after the answer: a refusal starts nothing
	if err != nil {
		return err
	}
	rep, err := eng.PruneSystem(g.ctx, engine.SystemPruneOptions{All: c.All, Volumes: c.Volumes})
	return reportPrune(os.Stdout, rep, err)
}
