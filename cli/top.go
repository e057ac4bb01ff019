package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
)

// TopCmd shows a container's processes.
type TopCmd struct {
	Container string   `arg:"" predictor:"container" help:"Name, ID or unique ID prefix."`
	PsArgs    []string `arg:"" optional:"" passthrough:"" name:"ps-options" help:"Options for the host's ps (its output needs a PID column)."`
}

// Help is the long help of budgie top.
func (*TopCmd) Help() string {
	return `Lists the processes of a running or paused container as the host sees them
(host PIDs and user names): PID, USER, TIME, CMD read from /proc. With ps
options, the host's ps runs with them and only the container's rows are kept,
as docker top does.

Example:
  budgie --headless top web
  PID     USER   TIME       CMD
  41873   root   00:00:00   nginx: master process nginx -g daemon off;
  budgie --headless top web -o pid,rss,args`
}

// Run prints the process table.
func (c *TopCmd) Run(g *Globals, eng *engine.Engine) error {
	res, err := eng.Top(g.ctx, c.Container, engine.TopOptions{PsArgs: c.PsArgs})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, strings.Join(res.Titles, "\t"))
	for _, p := range res.Processes {
		fmt.Fprintln(w, strings.Join(p, "\t"))
	}
	return w.Flush()
}
