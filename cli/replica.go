package cli

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// ShareCmd lets trusted nodes replicate containers (the owner's consent).
type ShareCmd struct {
	Containers []string `arg:"" predictor:"container" help:"Containers to share (name, ID or unique ID prefix)."`
}

// Run marks each container replicable and prints its ID.
func (c *ShareCmd) Run(g *Globals, eng *engine.Engine) error {
	return shareAll(g, eng, c.Containers, false)
}

// UnshareCmd takes the consent back: trusted nodes get nothing more of them.
type UnshareCmd struct {
	Containers []string `arg:"" predictor:"container" help:"Containers to stop sharing."`
}

// Run clears the mark on each container and prints its ID.
func (c *UnshareCmd) Run(g *Globals, eng *engine.Engine) error {
	return shareAll(g, eng, c.Containers, true)
}

// shareAll sets or clears (off) the share mark of each container.
func shareAll(g *Globals, eng *engine.Engine, refs []string, off bool) error {
	for _, ref := range refs {
		id, err := replica.Share(g.ctx, eng.Runtime, ref, replica.ShareOptions{Off: off})
		if err != nil {
			return err
		}
		fmt.Println(id)
	}
	return nil
}

// ReplicasCmd lists this node's replicas and how their sync goes.
type ReplicasCmd struct {
	Format string `help:"Output format: table, json, or a Go template such as '{{.Name}} {{.State}}'." default:"table"`
}

// Run asks the keeper for its replicas' status.
func (c *ReplicasCmd) Run(g *Globals, eng *engine.Engine) error {
	reps, err := eng.Keeper.Replicas(g.ctx)
	if err != nil {
		return err
	}
	return printList(os.Stdout, c.Format, reps, func(out io.Writer) error { return replicasTable(out, reps) })
}

// replicasTable writes the replicas table.
func replicasTable(out io.Writer, reps []models.ReplicaStatus) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "NAME\tCONTAINER ID\tPRIMARY\tSTATE\tLAST SYNC\tRECEIVED\tMESSAGE")
	for _, r := range reps {
		last := "never"
		if !r.LastSync.IsZero() {
			last = ago(r.LastSync)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.ContainerID[:min(12, len(r.ContainerID))], orNone(r.PrimaryNode),
			r.State, last, humanSize(r.BytesReceived), r.Message)
	}
	return w.Flush()
}
