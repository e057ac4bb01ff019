package cli

import (
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/engine"
)

// ScaleCmd sets the number of replicas of a service.
type ScaleCmd struct {
	Service string `arg:"" help:"Service name (the bundle's container name)."`
	Count   int    `arg:"" help:"Number of replicas."`
}

// Run scales the service and prints its replicas.
func (c *ScaleCmd) Run(g *Globals, eng *engine.Engine) error {
	cs, err := eng.Scale(g.ctx, c.Service, c.Count, engine.ScaleOptions{KeeperArgv: eng.KeeperCommand()})
	if err != nil {
		return err
	}
	names := make([]string, len(cs))
	for i, ctr := range cs {
		names[i] = ctr.Name
	}
	fmt.Printf("%s: %d replicas %s\n", c.Service, len(cs), strings.Join(names, " "))
	return nil
}
