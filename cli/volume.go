package cli

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
)

// VolumeCmd manages named volumes.
type VolumeCmd struct {
	Ls      VolumeLsCmd      `cmd:"" aliases:"list" help:"List volumes."`
	Inspect VolumeInspectCmd `cmd:"" help:"Show volumes as JSON."`
	Rm      VolumeRmCmd      `cmd:"" aliases:"remove" help:"Remove volumes and their data."`
	Create  VolumeCreateCmd  `cmd:"" help:"Create an empty named volume."`
	Prune   VolumePruneCmd   `cmd:"" help:"Remove the volumes no container mounts."`
}

// VolumeLsCmd lists volumes.
type VolumeLsCmd struct {
	Quiet  bool   `short:"q" help:"Only display names."`
	Format string `help:"Output format: table, json, or a Go template such as '{{.Name}} {{.Mountpoint}}'." default:"table"`
}

// Run lists volumes.
func (c *VolumeLsCmd) Run(g *Globals, eng *engine.Engine) error {
	vs, err := eng.Runtime.Volumes(g.ctx)
	if err != nil {
		return err
	}
	if c.Quiet {
		for _, v := range vs {
			fmt.Println(v.Name)
		}
		return nil
	}
	return printList(os.Stdout, c.Format, vs, func(out io.Writer) error { return volumesTable(out, vs) })
}

// volumesTable writes the volume ls table.
func volumesTable(out io.Writer, vs []models.Volume) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "VOLUME NAME\tUSED BY\tMOUNTPOINT")
	for _, v := range vs {
		used := "-"
		if len(v.UsedBy) > 0 {
			used = fmt.Sprint(v.UsedBy)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", v.Name, used, v.Mountpoint)
	}
	return w.Flush()
}

// VolumeInspectCmd prints volumes as JSON.
type VolumeInspectCmd struct {
	Names []string `arg:"" name:"volume" help:"Volume names."`
}

// Run prints the volumes.
func (c *VolumeInspectCmd) Run(g *Globals, eng *engine.Engine) error {
	var out []any
	err := eachContainer(c.Names, func(name string) error {
		v, err := eng.Runtime.Volume(g.ctx, name)
		if err == nil {
			out = append(out, v)
		}
		return err
	})
	if out == nil {
		out = []any{}
	}
	if perr := printJSON(out); perr != nil {
		return perr
	}
	return err
}

// VolumeRmCmd removes volumes.
type VolumeRmCmd struct {
	Names []string `arg:"" name:"volume" help:"Volume names."`
	Force bool     `short:"f" help:"Remove even if a container mounts it."`
}

// Run removes each volume, printing its name.
func (c *VolumeRmCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Names, func(name string) error {
		if err := eng.Runtime.RemoveVolume(g.ctx, name, c.Force); err != nil {
			return err
		}
		fmt.Println(name)
		return nil
	})
}

// VolumeCreateCmd creates a named volume.
type VolumeCreateCmd struct {
	Name string `arg:"" help:"Volume name: letters, digits, _, . and -, starting with a letter or digit (as in bundles)."`
}

// Help is the detail and example under the command's --help.
func (*VolumeCreateCmd) Help() string {
	return `Makes an empty volume under DATA_DIR/volumes for bundles to mount
(volumes: ["NAME:/path"]); run also creates the volumes it needs. A name
that exists already is refused (exit 1). Prints the name.

Example:
  budgie --headless volume create pgdata
  pgdata`
}

// Run creates the volume and prints its name.
func (c *VolumeCreateCmd) Run(g *Globals, eng *engine.Engine) error {
	v, err := eng.CreateVolume(g.ctx, c.Name)
	if err != nil {
		return err
	}
	fmt.Println(v.Name)
	return nil
}

// VolumePruneCmd removes unused volumes.
type VolumePruneCmd struct {
	Force bool `short:"f" help:"Do not ask for confirmation (needed when standard input is not a terminal)."`
}

// Help is the detail and example under the command's --help.
func (*VolumePruneCmd) Help() string {
	return `Removes, with their data, the named volumes that no container — running
or stopped — mounts. Asks first unless -f.

Example:
  budgie --headless volume prune -f
  Deleted Volumes:
  old-cache

  Total reclaimed space: 12.3 MiB`
}

// Run asks, prunes and reports.
func (c *VolumePruneCmd) Run(g *Globals) error {
	warning := "WARNING! This will remove all local volumes not used by at least one container."
	if ok, err := confirmPrune(os.Stdin, os.Stderr, c.Force, warning); !ok {
		return err
	}
	eng, err := g.Engine() // after the answer: a refusal starts nothing
	if err != nil {
		return err
	}
	rep, err := eng.PruneVolumes(g.ctx)
	return reportPrune(os.Stdout, rep, err)
}
