package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/stack"
	"github.com/budgie-sh/budgie/models"
)

// RunCmd creates and starts containers: those of bundles, or one from an
// image with docker run's flags (see Help for how the two are told apart).
type RunCmd struct {
	Name        string   `help:"Container name (a bundle's: overrides it, one container only; an image's: default IMAGE-xxxxxx)."`
	Attach      bool     `short:"a" help:"Stream the container's output and exit with its exit code (the default for an image)."`
	Detach      bool     `short:"d" help:"Image: run in the background and print the container ID (bundles always do, unless --attach)."`
	Rm          bool     `help:"Remove the container when it exits."`
	Env         []string `sep:"none" short:"e" placeholder:"KEY=VALUE" help:"Image: set an environment variable; KEY alone takes budgie's own value (repeatable)."`
	Publish     []string `sep:"none" short:"p" placeholder:"[IP:][HOST:]PORT[/PROTO]" help:"Image: publish a container port on the host, e.g. -p 8080:80 (repeatable; needs the keeper, started when none runs)."`
	Volume      []string `sep:"none" short:"v" placeholder:"SRC:/PATH[:ro]" help:"Image: mount a named volume (data:/data) or a host path (./site:/var/www, relative to here) (repeatable)."`
	Network     []string `sep:"none" placeholder:"NAME" help:"Image: join a network: a budgie network, host or none (repeatable; default budgie0)."`
	Restart     string   `placeholder:"POLICY" help:"Image: restart policy: no, always, unless-stopped, on-failure[:N] (the keeper carries it out)."`
	Memory      string   `short:"m" placeholder:"SIZE" help:"Image: memory limit, e.g. 64m or 1g (docker's units: k, m, g = KiB, MiB, GiB)."`
	Cpus        string   `name:"cpus" placeholder:"N" help:"Image: CPU limit in CPUs, e.g. 0.5."`
	Interactive bool     `short:"i" help:"Image: keep stdin open: the container reads budgie's stdin in the foreground (a bundle's stdin_open; not with -d unless -t)."`
	Tty         bool     `short:"t" help:"Image: allocate a terminal; with -i an interactive session in this one (raw mode: Ctrl-C goes to the container). A bundle's tty."`
	PrintBundle bool     `help:"Image: print the equivalent bundle (.bun) to stdout and run nothing; budgie run FILE of it makes the same container."`
	Args        []string `arg:"" name:"bundle|image" passthrough:"partial" help:"Bundle files, or IMAGE [COMMAND [ARG...]] (flags go before it)."`
}

// Run runs the bundles, or the image (runImage). Bundles: every one is
// parsed first (nothing starts if one is bad), then the containers run
// as a stack: in depends_on order, independent ones in parallel, after
// starting the node's keeper if a container needs it. If one fails, the
// ones this command started are removed again. When the bundles'
// containers exist already, they are reconciled instead (docker compose
// up): one line per container says what was done.
func (c *RunCmd) Run(g *Globals) error {
	if !isBundleArg(c.Args[0]) {
		return c.runImage(g)
	}
	if err := c.checkBundleArgs(); err != nil {
		return err
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	var session *attachSession // a bundle with tty or stdin_open gets budgie's streams
	if c.Attach {
		session = newAttachSession()
		defer session.close()
	}
	opts := engine.RunBundleOptions{
		NameOverride: c.Name, Single: c.Attach, AutoRemove: c.Rm, Pull: g.pullFunc(), KeeperArgv: eng.KeeperCommand(),
		Started: func(ctr models.Container) {
			if !c.Attach {
				fmt.Println(ctr.ID)
			} else {
				session.started(ctr)
			}
		},
	}
	if session != nil {
		opts.Attach = &session.opts
	}
	if !c.Attach && !c.Rm { // a one-off run (--attach, --rm) is never reconciled
		opts.Reconciled = func(r engine.ReconcileResult) { fmt.Printf("%s: %s\n", r.Name, r.Action) }
	}
	started, err := eng.RunBundles(g.ctx, c.Args, opts)
	if err != nil {
		return err
	}
	return c.follow(g, started, c.Attach, session)
}

// follow attaches to the one container started (attach; through session
// when its spec has tty or stdin_open), or has each --rm container
// removed when it exits.
func (c *RunCmd) follow(g *Globals, started []models.Container, attached bool, session *attachSession) error {
	if attached {
		if session != nil && started[0].Spec.Interactive() {
			return session.wait(g, started[0], c.Rm)
		}
		return attach(g, started[0], c.Rm)
	}
	if c.Rm {
		for _, s := range started {
			if err := spawnAutoRemove(g, s.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// PsCmd lists containers.
type PsCmd struct {
	All     bool     `short:"a" help:"Show all containers (default shows just running)."`
	Quiet   bool     `short:"q" help:"Only display container IDs."`
	NoTrunc bool     `help:"Don't truncate output."`
	Format  string   `help:"Output format: table, json, or a Go template such as '{{.Name}} {{.State}}'." default:"table"`
	Filter  []string `short:"f" help:"Filter: name=, id=, status=, label=KEY[=VALUE], image= (repeatable)."`
}

// Run lists containers.
func (c *PsCmd) Run(g *Globals) error {
	filters, err := runtime.ParseFilters(c.Filter)
	if err != nil {
		return err
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	cs, err := eng.Runtime.List(g.ctx, runtime.ListOptions{All: c.All, Filters: filters})
	if err != nil {
		return err
	}
	if c.Quiet {
		for _, ctr := range cs {
			if c.NoTrunc {
				fmt.Println(ctr.ID)
			} else {
				fmt.Println(ctr.ShortID())
			}
		}
		return nil
	}
	return printList(os.Stdout, c.Format, cs, func(w io.Writer) error { return psTable(w, cs, c.NoTrunc) })
}

// psTable writes docker's ps table.
func psTable(out io.Writer, cs []models.Container, noTrunc bool) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	for _, ctr := range cs {
		id, cmd := ctr.ShortID(), command(ctr.Spec)
		if noTrunc {
			id = ctr.ID
		} else if len(cmd) > 22 {
			cmd = cmd[:19] + "…"
		}
		fmt.Fprintf(w, "%s\t%s\t%q\t%s\t%s\t%s\t%s\n", id, ctr.Image, cmd, ago(ctr.Created), status(ctr), ports(ctr.Ports), ctr.Name)
	}
	return w.Flush()
}

// command is the bundle's command line, or empty when the image's applies.
func command(s models.ContainerSpec) string {
	return strings.Join(append(append([]string{}, s.Command...), s.Args...), " ")
}

// status is docker's STATUS column: "Up 5 minutes (healthy)", "Exited (0)
// 2 hours ago", "Restarting (1) 2 seconds ago", "Created"; a container
// whose Budgie labels cannot be read says so first: "damaged: budgie.spec
// (Up 5 minutes)" (budgie inspect shows the decode error).
func status(c models.Container) string {
	if c.DamagedLabels() != "" {
		return "damaged: " + c.DamagedLabels() + " (" + taskStatus(c) + ")"
	}
	return taskStatus(c)
}

// taskStatus is the STATUS column from the task's state alone.
func taskStatus(c models.Container) string {
	switch c.State {
	case models.StateRunning:
		return "Up " + human(time.Since(c.StartedAt)) + healthSuffix(c.Health)
	case models.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s", c.ExitCode, ago(c.FinishedAt))
	case models.StatePaused:
		return "Up " + human(time.Since(c.StartedAt)) + " (Paused)"
	case models.StateExited:
		return fmt.Sprintf("Exited (%d) %s", c.ExitCode, ago(c.FinishedAt))
	case models.StateCreated:
		return "Created"
	}
	return string(c.State)
}

// healthSuffix is docker's health note after "Up …".
func healthSuffix(h models.HealthStatus) string {
	switch h {
	case models.HealthNone:
		return ""
	case models.HealthStarting:
		return " (health: starting)"
	}
	return " (" + string(h) + ")"
}

func ports(ps []models.PortMapping) string {
	var out []string
	for _, p := range ps {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		host := p.HostIP
		if host == "" {
			host = "0.0.0.0"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", host, p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(out, ", ")
}

// StartCmd starts stopped containers.
type StartCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Attach     bool     `short:"a" help:"Stream output and exit with the container's exit code (one container)."`
}

// Run starts each container, printing its name.
func (c *StartCmd) Run(g *Globals) error {
	if c.Attach && len(c.Containers) != 1 {
		return fmt.Errorf("--attach needs exactly one container: %w", errInvalid)
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	return eachContainer(c.Containers, func(ref string) error {
		ctr, err := eng.Runtime.Start(g.ctx, ref)
		if err != nil {
			return err
		}
		if c.Attach {
			return attach(g, ctr, false)
		}
		fmt.Println(ref)
		return nil
	})
}

// StopCmd stops running containers.
type StopCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Time       *int     `short:"t" help:"Seconds to wait for the stop signal before SIGKILL (default: the bundle's stop_timeout, else 10)."`
}

// Run stops the containers, those that depend on others first, printing
// each name as it stops.
func (c *StopCmd) Run(g *Globals, eng *engine.Engine) error {
	opts := stopOptions(c.Time)
	var cs []models.Container
	refOf := map[string]string{}
	resolveErr := eachContainer(c.Containers, func(ref string) error {
		ctr, err := eng.Runtime.Get(g.ctx, ref)
		if err == nil && refOf[ctr.ID] == "" {
			cs, refOf[ctr.ID] = append(cs, ctr), ref
		}
		return err
	})
	// Stop in reverse dependency order: dependents before what they depend on.
	err := stack.Down(g.ctx, cs, func(ctx context.Context, ctr models.Container) error {
		if _, err := eng.Runtime.Stop(ctx, ctr.ID, opts); err != nil {
			fmt.Fprintf(os.Stderr, "budgie: %s\n", errdefs.Message(err))
			return err
		}
		fmt.Println(refOf[ctr.ID])
		return nil
	})
	if err != nil {
		return quietError{err}
	}
	return resolveErr
}

func stopOptions(seconds *int) runtime.StopOptions {
	if seconds == nil {
		return runtime.StopOptions{}
	}
	d := time.Duration(*seconds) * time.Second
	return runtime.StopOptions{Timeout: &d}
}

// RestartCmd restarts containers.
type RestartCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Time       *int     `short:"t" help:"Seconds to wait for the stop signal before SIGKILL."`
}

// Run restarts each container, printing its name.
func (c *RestartCmd) Run(g *Globals, eng *engine.Engine) error {
	opts := stopOptions(c.Time)
	return eachContainer(c.Containers, func(ref string) error {
		if _, err := eng.Runtime.Restart(g.ctx, ref, opts); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// RmCmd removes containers.
type RmCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Force      bool     `short:"f" help:"Kill and remove running containers."`
	Volumes    bool     `short:"v" help:"Also remove named volumes no other container uses."`
}

// Run removes each container, printing its name.
func (c *RmCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Containers, func(ref string) error {
		if _, err := eng.Runtime.Remove(g.ctx, ref, runtime.RemoveOptions{Force: c.Force, Volumes: c.Volumes}); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// KillCmd sends a signal to containers.
type KillCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Signal     string   `short:"s" help:"Signal to send." default:"SIGKILL"`
}

// Run signals each container.
func (c *KillCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Containers, func(ref string) error {
		if _, err := eng.Runtime.Kill(g.ctx, ref, c.Signal); err != nil {
			return err
		}
		fmt.Println(ref)
		return nil
	})
}

// WaitCmd blocks until containers stop and prints their exit codes.
type WaitCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Rm         bool     `help:"Remove each container after it exits." hidden:""`
}

// Run waits for each container in turn.
func (c *WaitCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Containers, func(ref string) error {
		code, err := eng.Runtime.Wait(g.ctx, ref)
		if err != nil {
			return err
		}
		if c.Rm {
			if _, err := eng.Runtime.Remove(g.ctx, ref, runtime.RemoveOptions{Force: true}); err != nil {
				return err
			}
		}
		fmt.Println(code)
		return nil
	})
}

// InspectCmd prints containers as a docker-inspect-shaped JSON array.
type InspectCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes."`
	Format     string   `short:"f" help:"Go template applied to each container instead of JSON, e.g. '{{.State.Status}}'."`
}

// Run prints the inspect array (or the template per container).
func (c *InspectCmd) Run(g *Globals, eng *engine.Engine) error {
	out := []models.Inspect{}
	var errs []error
	var services []models.ServiceStats
	for _, ref := range c.Containers {
		if services == nil { // asked once for all; no keeper means no counters
			if services, _ = eng.Keeper.Services(g.ctx); services == nil {
				services = []models.ServiceStats{}
			}
		}
		in, err := eng.Inspect(g.ctx, ref, engine.InspectOptions{Services: services})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, in)
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

// eachContainer runs f for every ref, reporting every failure and
// returning the first (docker goes on past a failed container too).
func eachContainer(refs []string, f func(string) error) error {
	var first error
	for _, ref := range refs {
		if err := f(ref); err != nil {
			fmt.Fprintf(os.Stderr, "budgie: %s\n", errdefs.Message(err))
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		return quietError{first}
	}
	return nil
}

// quietError has already been printed; it only carries the exit code.
type quietError struct{ err error }

func (q quietError) Error() string { return "" }
func (q quietError) Unwrap() error { return q.err }
func (q quietError) ExitCode() int { return exitCode(q.err) }

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}

// pullFunc returns how run fetches a missing image: a pull with plain
// progress lines on stderr (stdout keeps only the container IDs).
func (g *Globals) pullFunc() func(ctx context.Context, ref string) error {
	return func(ctx context.Context, ref string) error {
		fmt.Fprintf(os.Stderr, "Unable to find image %s locally; pulling\n", ref)
		_, err := g.eng.ImageService.Pull(ctx, ref, images.PullOptions{Progress: newLineProgress(os.Stderr).update})
		return err
	}
}
