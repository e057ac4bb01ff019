package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
)

// DownCmd stops and removes the containers of bundles.
type DownCmd struct {
	Bundles []string `arg:"" name:"bundle" predictor:"bundle" help:"Bundle files (.bun), as given to run." type:"existingfile"`
	Volumes bool     `short:"v" help:"Also remove the named volumes the bundles' containers mount (not those other containers still use)."`
	Time    *int     `short:"t" help:"Seconds to wait for the stop signal before SIGKILL (default: the bundle's stop_timeout, else 10)."`
}

// Help is the detail and example under the command's --help.
func (*DownCmd) Help() string {
	return `The opposite of run: every bundle is read first (a bad one fails with its
file:line and nothing is touched), then each of its containers (with every
replica) is stopped and removed, dependents before what they depend on.
Containers that are not there are skipped, so down can be run again. Prints
each container removed, then each volume removed (-v).

Example:
  budgie --headless down -v testdata/bundles/web.bun
  web
  volume web-data`
}

// Run takes the bundles down, printing what it removed.
func (c *DownCmd) Run(g *Globals, eng *engine.Engine) error {
	opts, err := downOptions(c.Volumes, c.Time, "the compose project")
	if err != nil {
		return err
	}
	return eng.Down(g.ctx, c.Bundles, opts)
}

// downOptions are down's and kube down's: each removed container and
// volume printed, each one kept said on stderr (maker is who did not
// create a kept network or volume), and --time checked.
func downOptions(volumes bool, seconds *int, maker string) (engine.DownOptions, error) {
	opts := engine.DownOptions{
		Volumes:       volumes,
		Removed:       func(ctr models.Container) { fmt.Println(models.Printable(ctr.Name)) },
		VolumeRemoved: func(name string) { fmt.Println("volume " + name) },
		VolumeKept: func(name string, usedBy []string) {
			fmt.Fprintf(os.Stderr, "budgie: kept volume %s: still used by %s\n", name, models.Printable(strings.Join(usedBy, ", ")))
		},
		Kept: func(kind, name string) {
			fmt.Fprintf(os.Stderr, "budgie: kept %s %s: %s did not create it (it existed before)\n", kind, models.Printable(name), maker)
		},
	}
	if seconds != nil {
		if *seconds < 0 {
			return opts, fmt.Errorf("--time %d: want 0 or more seconds: %w", *seconds, errInvalid)
		}
		d := time.Duration(*seconds) * time.Second
		opts.Timeout = &d
	}
	return opts, nil
}
