package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
)

// SystemCmd groups node-level commands.
type SystemCmd struct {
	Info SystemInfoCmd `cmd:"" help:"Show which containerd budgie uses and how."`
}

// SystemInfoCmd prints engine.SystemInfo.
type SystemInfoCmd struct {
	Format string `help:"Output format: table or json." enum:"table,json" default:"table"`
}

// Run prints the system information.
func (c *SystemInfoCmd) Run(g *Globals, eng *engine.Engine) error {
	info, err := eng.Info(g.ctx)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return printJSON(info)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	pid := ""
	if info.Pid > 0 {
		pid = fmt.Sprintf(" (pid %d)", info.Pid)
	}
	rows := [][2]string{
		{"Budgie", g.version},
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
