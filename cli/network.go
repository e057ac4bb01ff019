package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// NetworkCmd groups the network commands (docker network's).
type NetworkCmd struct {
	Create     NetworkCreateCmd     `cmd:"" help:"Create a network (a bridge with its own subnet)."`
	Ls         NetworkLsCmd         `cmd:"" aliases:"list" help:"List networks."`
	Inspect    NetworkInspectCmd    `cmd:"" help:"Show networks with their containers and addresses, as JSON."`
	Rm         NetworkRmCmd         `cmd:"" aliases:"remove" help:"Remove networks no container uses."`
	Connect    NetworkConnectCmd    `cmd:"" help:"Connect a running container to a network."`
	Disconnect NetworkDisconnectCmd `cmd:"" help:"Disconnect a container from a network."`
}

// NetworkCreateCmd creates a network.
type NetworkCreateCmd struct {
	Name     string `arg:"" help:"Network name."`
	Subnet   string `help:"Subnet in CIDR form (default: the next free 172.x.0.0/16)."`
	Gateway  string `help:"Gateway address (default: the subnet's first address)."`
	Internal bool   `help:"No route out of the host: containers reach only each other."`
}

// Run creates the network and prints its name.
func (c *NetworkCreateCmd) Run(g *Globals, eng *engine.Engine) error {
	n, err := eng.NetworkManager.Create(g.ctx, c.Name, network.CreateOptions{Subnet: c.Subnet, Gateway: c.Gateway, Internal: c.Internal})
	if err != nil {
		return err
	}
	fmt.Println(n.Name)
	return nil
}

// NetworkLsCmd lists networks.
type NetworkLsCmd struct {
	Quiet  bool   `short:"q" help:"Only display network names."`
	Format string `help:"Output format: table, json, or a Go template such as '{{.Name}} {{.Subnet}}'." default:"table"`
}

// Run lists networks with their number of running containers.
func (c *NetworkLsCmd) Run(g *Globals, eng *engine.Engine) error {
	nets, err := eng.NetworkManager.List(g.ctx)
	if err != nil {
		return err
	}
	if c.Quiet {
		for _, n := range nets {
			fmt.Println(n.Name)
		}
		return nil
	}
	for i := range nets {
		if nets[i], err = eng.InspectNetwork(g.ctx, nets[i].Name); err != nil {
			return err
		}
	}
	return printList(os.Stdout, c.Format, nets, func(out io.Writer) error {
		w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
		fmt.Fprintln(w, "NAME\tBRIDGE\tSUBNET\tGATEWAY\tINTERNAL\tCONTAINERS")
		for _, n := range nets {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%d\n", n.Name, n.Bridge, n.Subnet, n.Gateway, n.Internal, len(n.Endpoints))
		}
		return w.Flush()
	})
}

// NetworkInspectCmd shows networks as JSON.
type NetworkInspectCmd struct {
	Names  []string `arg:"" predictor:"network" help:"Network names."`
	Format string   `short:"f" help:"Go template applied to each network instead of JSON, e.g. '{{.Subnet}}'."`
}

// Run prints the networks with their endpoints.
func (c *NetworkInspectCmd) Run(g *Globals, eng *engine.Engine) error {
	var out []models.Network
	var errs []error
	for _, name := range c.Names {
		n, err := eng.InspectNetwork(g.ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, n)
	}
	if c.Format != "" {
		if err := printTemplate(c.Format, out); err != nil {
			return err
		}
	} else if err := printJSON(out); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// NetworkRmCmd removes networks.
type NetworkRmCmd struct {
	Names []string `arg:"" predictor:"network" help:"Network names."`
}

// Run removes each network, going on past failures.
func (c *NetworkRmCmd) Run(g *Globals, eng *engine.Engine) error {
	var errs []error
	for _, name := range c.Names {
		if err := eng.RemoveNetwork(g.ctx, name); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Println(name)
	}
	return errors.Join(errs...)
}

// NetworkConnectCmd connects a running container to a network.
type NetworkConnectCmd struct {
	Network   string `arg:"" predictor:"network" help:"Network name."`
	Container string `arg:"" predictor:"container" help:"Container name or ID."`
}

// Run attaches the container and prints its new address.
func (c *NetworkConnectCmd) Run(g *Globals, eng *engine.Engine) error {
	ep, err := eng.Runtime.Connect(g.ctx, c.Container, runtime.NetworkOptions{Network: c.Network})
	if err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n", c.Container, ep.IfName, ep.IP)
	return nil
}

// NetworkDisconnectCmd disconnects a container from a network.
type NetworkDisconnectCmd struct {
	Network   string `arg:"" predictor:"network" help:"Network name."`
	Container string `arg:"" predictor:"container" help:"Container name or ID."`
}

// Run detaches the container.
func (c *NetworkDisconnectCmd) Run(g *Globals, eng *engine.Engine) error {
	return eng.Runtime.Disconnect(g.ctx, c.Container, runtime.NetworkOptions{Network: c.Network})
}
