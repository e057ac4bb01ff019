package cli

import (
	"fmt"

	"github.com/budgie-sh/budgie/engine"
)

// PauseCmd freezes containers' processes.
type PauseCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
}

// Help is the long help of budgie pause.
func (*PauseCmd) Help() string {
	return `Every process of each container is frozen (the freezer cgroup): it stays
listed as paused (ps: "Up 5 minutes (Paused)"), keeps its memory, and gets no
CPU until budgie unpause. The keeper's restart policy leaves it alone; budgie
stop still stops it. Prints each name as it is paused.

Example:
  budgie --headless pause web db
  web
  db`
}

// Run pauses each container, printing its name.
func (c *PauseCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Containers, func(ref string) error {
		if _, err := eng.Pause(g.ctx, ref, engine.PauseOptions{}); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// UnpauseCmd thaws paused containers.
type UnpauseCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
}

// Help is the long help of budgie unpause.
func (*UnpauseCmd) Help() string {
	return `The processes of each paused container run again where they stopped.
Prints each name as it is unpaused.

Example:
  budgie --headless unpause web
  web`
}

// Run unpauses each container, printing its name.
func (c *UnpauseCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Containers, func(ref string) error {
		if _, err := eng.Unpause(g.ctx, ref, engine.PauseOptions{}); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}
