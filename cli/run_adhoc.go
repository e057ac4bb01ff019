package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
)

// Help is the detail and examples under run's --help.
func (*RunCmd) Help() string {
	return `Bundle or image: the first argument is a bundle when it is an existing
file or ends in .bun, .yaml or .yml; then every argument is a bundle.
Otherwise it is an image, and the rest is the command and its arguments
(they replace the image's cmd), as in docker run. Flags go before it.

Bundles run in the background and print each container's ID. Run a
bundle again and its containers are reconciled, as docker compose up
does, in dependency order, one line each: "web: unchanged" (its spec,
read back from the container's labels, is the bundle's; a stopped one is
"started"), "db: recreated" (the spec changed: removed and created anew,
named volumes kept), "cache: created" (it did not exist). --attach and
--rm runs are never reconciled: an existing name fails them.

An image runs in the foreground (docker run's default): its output is
streamed and run exits with its exit code; Ctrl-C sends it SIGTERM. With
-d it runs in the background and run prints its ID. Its flags are written
into a bundle and checked by the bundle parser, so a bad value gets a
bundle's message, named after the flag; --print-bundle shows that bundle.

-i and -t are docker's (the bundle's stdin_open and tty). -it is an
interactive session: the container gets a terminal the size of this one
(resizes follow), this terminal is in raw mode until it exits (Ctrl-C
goes to the container), and run exits with its exit code. -i alone pipes
budgie's stdin to it, stdout and stderr kept apart; -t alone gives it a
terminal for its output. What it prints is in budgie logs NAME too
(with a terminal: as the terminal showed it, typed echo included). -dt
keeps a shell waiting on its terminal (then: budgie exec -it NAME sh);
-d -i without -t is refused: there is no attach, so its stdin would end
at once. --attach does the same for a bundle whose container sets tty or
stdin_open (docs/bundle.md).

Examples:
  budgie --headless run web.bun worker.bun          # IDs; again: web: unchanged …
  budgie --headless run compose.yaml                # a docker compose file (docs/interop.md)
  budgie --headless run -d --name web -p 8080:80 -e TZ=UTC nginx
  budgie --headless run --rm busybox echo hello     # prints hello, exits 0
  budgie --headless run -it --rm busybox sh         # a shell in a new container; gone when it exits
  echo hi | budgie --headless run -i --rm busybox cat  # prints hi
  budgie --headless run -d -v data:/data --memory 64m --cpus 0.5 --restart on-failure:3 redis
  budgie --headless run --print-bundle --name web -p 8080:80 nginx > web.bun`
}

// isBundleArg tells a bundle from an image reference: an existing regular
// file, or a name ending in .bun, .yaml or .yml (a missing bundle then
// fails as one, naming its path), is a bundle.
func isBundleArg(arg string) bool {
	switch strings.ToLower(filepath.Ext(arg)) {
	case ".bun", ".yaml", ".yml":
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && fi.Mode().IsRegular()
}

// imageOnly are the flags that describe an image's container; a bundle
// says the same in its fields.
func (c *RunCmd) imageOnly() []string {
	var set []string
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"-e/--env", len(c.Env) > 0}, {"-p/--publish", len(c.Publish) > 0}, {"-v/--volume", len(c.Volume) > 0},
		{"--network", len(c.Network) > 0}, {"--restart", c.Restart != ""}, {"-m/--memory", c.Memory != ""},
		{"--cpus", c.Cpus != ""}, {"--print-bundle", c.PrintBundle}, {"-i", c.Interactive}, {"-t", c.Tty},
	} {
		if f.on {
			set = append(set, f.name)
		}
	}
	return set
}

// checkBundleArgs refuses image flags and non-bundle arguments on a run
// of bundles.
func (c *RunCmd) checkBundleArgs() error {
	if set := c.imageOnly(); len(set) > 0 {
		return fmt.Errorf("%s: only for budgie run IMAGE; a bundle sets these in its fields (docs/bundle.md): %w", strings.Join(set, ", "), errInvalid)
	}
	if c.Detach && c.Attach {
		return fmt.Errorf("-d and --attach exclude each other: %w", errInvalid)
	}
	for _, a := range c.Args[1:] {
		switch {
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("%s after a bundle: put flags before the first bundle (budgie run %s %s): %w", a, a, c.Args[0], errInvalid)
		case !isBundleArg(a):
			return fmt.Errorf("%s is not a bundle file (after a bundle, every argument is one; an image goes first: budgie run IMAGE CMD): %w", a, errInvalid)
		}
	}
	return nil
}

// runImage runs one container from an image, docker run's way: its flags
// become a bundle (checked before containerd is reached), which runs
// through the same engine path as a bundle file's.
func (c *RunCmd) runImage(g *Globals) error {
	if c.Detach && c.Attach {
		return fmt.Errorf("-d and --attach exclude each other: %w", errInvalid)
	}
	if err := c.checkTerminalFlags(); err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the working directory: %w", err)
	}
	data, err := engine.AdhocBundle(engine.AdhocOptions{
		Image: c.Args[0], Args: c.Args[1:], Name: c.Name, Env: hostEnv(c.Env, os.LookupEnv),
		Publish: c.Publish, Volumes: c.Volume, Networks: c.Network, Restart: c.Restart,
		Memory: c.Memory, CPUs: c.Cpus, Tty: c.Tty, StdinOpen: c.Interactive, Dir: wd,
	})
	if err != nil {
		return err
	}
	if c.PrintBundle {
		_, err := os.Stdout.Write(data)
		return err
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	attached := !c.Detach
	var session *attachSession // -i, -t in the foreground: budgie's streams
	if attached && (c.Interactive || c.Tty) {
		session = newAttachSession()
		defer session.close()
	}
	opts := engine.RunBundleOptions{
		Single: true, AutoRemove: c.Rm, Pull: g.pullFunc(), KeeperArgv: eng.KeeperCommand(),
		Started: func(ctr models.Container) {
			switch {
			case !attached:
				fmt.Println(ctr.ID)
			case session != nil:
				session.started(ctr)
			}
		},
	}
	if session != nil {
		opts.Attach = &session.opts
	}
	started, err := eng.RunBundleText(g.ctx, engine.AdhocFile, data, opts)
	if err != nil {
		return err
	}
	return c.follow(g, started, attached, session)
}

// hostEnv resolves docker's -e KEY (no =) from budgie's own environment:
// KEY=VALUE when it is set, left out when it is not.
func hostEnv(env []string, lookup func(string) (string, bool)) []string {
	out := make([]string, 0, len(env))
	for _, e := range env {
		if strings.Contains(e, "=") {
			out = append(out, e)
		} else if v, ok := lookup(e); ok {
			out = append(out, e+"="+v)
		}
	}
	return out
}
