package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
)

// VolumeCmd manages named volumes.
type VolumeCmd struct {
	Ls      VolumeLsCmd      `cmd:"" aliases:"list" help:"List volumes."`
	Inspect VolumeInspectCmd `cmd:"" help:"Show volumes as JSON."`
	Rm      VolumeRmCmd      `cmd:"" aliases:"remove" help:"Remove volumes and their data."`
}

// VolumeLsCmd lists volumes.
type VolumeLsCmd struct {
	Quiet  bool   `short:"q" help:"Only display names."`
	Format string `help:"Output format: table, json, or a Go template." default:"table"`
}

// Run lists volumes.
func (c *VolumeLsCmd) Run(g *Globals, eng *engine.Engine) error {
	vs, err := eng.Runtime.Volumes(g.ctx)
	if err != nil {
		return err
	}
	switch {
	case c.Quiet:
		for _, v := range vs {
			fmt.Println(v.Name)
		}
		return nil
	case c.Format == "json":
		return printJSON(vs)
	case c.Format != "table" && c.Format != "":
		return printTemplate(c.Format, vs)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
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
