package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
)

// KeeperCmd controls the node's keeper (`budgie serve` runs one in the
// foreground).
type KeeperCmd struct {
	Status  KeeperStatusCmd  `cmd:"" help:"Show whether the node's keeper runs (pid, version, uptime, socket); exit 4 when it does not."`
	Stop    KeeperStopCmd    `cmd:"" help:"Stop the node's keeper (SIGTERM, then SIGKILL after --time)."`
	Restart KeeperRestartCmd `cmd:"" help:"Stop the node's keeper and start it again, detached."`
	Logs    KeeperLogsCmd    `cmd:"" help:"Show the keeper's log (DATA_DIR/keeper.log)."`
}

// Help is the detail and examples under the command's --help.
func (*KeeperCmd) Help() string {
	return `The keeper (one per node) carries out restart policies and health checks,
publishes ports and announces containers on the LAN. run and nest start it
detached when a container needs it; these commands look after it.

Examples:
  budgie --headless keeper status
  budgie --headless keeper restart
  budgie --headless keeper logs -f -n 20`
}

// KeeperStatusCmd prints the keeper's state.
type KeeperStatusCmd struct {
	Format string `help:"Output format: table or json." enum:"table,json" default:"table"`
}

// Help is the example under the command's --help.
func (*KeeperStatusCmd) Help() string {
	return `Needs no containerd: it asks the keeper on DATA_DIR/keeper.sock and reads who
holds DATA_DIR/keeper.lock. Exits 4 when no keeper answers.

Example:
  budgie --headless keeper status
  keeper:   running
  pid:      4242
  version:  v0.4.0
  uptime:   2 hours (since 2026-12-04T17:00:00Z)
  socket:   /var/lib/budgie/keeper.sock
  log:      /var/lib/budgie/keeper.log`
}

// Run prints the state; a keeper that does not answer is an
// errdefs.ErrUnavailable error (exit 4) after the state.
func (c *KeeperStatusCmd) Run(g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	st, err := engine.KeeperStatus(g.ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		if err := printJSONTo(os.Stdout, st); err != nil {
			return err
		}
	} else if err := keeperTable(os.Stdout, st, time.Now()); err != nil {
		return err
	}
	switch {
	case st.Running:
		return nil
	case st.Pid != 0:
		return fmt.Errorf("the keeper (pid %d) holds %s but does not answer on %s (see: budgie keeper logs; try: budgie keeper restart): %w",
			st.Pid, st.Lock, st.Socket, errdefs.ErrUnavailable)
	}
	return fmt.Errorf("no keeper runs for %s (start one: budgie keeper restart): %w", cfg.DataDir, errdefs.ErrUnavailable)
}

// keeperTable prints the state as aligned "key: value" lines.
func keeperTable(out io.Writer, st engine.KeeperState, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	switch {
	case st.Running:
		fmt.Fprintln(w, "keeper:\trunning")
		fmt.Fprintf(w, "pid:\t%d\n", st.Pid)
		fmt.Fprintf(w, "version:\t%s\n", st.Version)
		fmt.Fprintf(w, "uptime:\t%s (since %s)\n", human(st.Uptime(now)), st.Started.UTC().Format(time.RFC3339))
	case st.Pid != 0:
		fmt.Fprintln(w, "keeper:\tnot answering")
		fmt.Fprintf(w, "pid:\t%d (holds the lock)\n", st.Pid)
	default:
		fmt.Fprintln(w, "keeper:\tnot running")
	}
	fmt.Fprintf(w, "socket:\t%s\n", st.Socket)
	fmt.Fprintf(w, "log:\t%s\n", st.Log)
	return w.Flush()
}

// KeeperStopCmd stops the keeper.
type KeeperStopCmd struct {
	Time int `short:"t" help:"Seconds to wait after SIGTERM before SIGKILL." default:"10"`
}

// Help is the example under the command's --help.
func (*KeeperStopCmd) Help() string {
	return `Sends SIGTERM to the process holding DATA_DIR/keeper.lock and waits until it has
exited and the lock is free. Restart policies and health checks pause until a
keeper runs again (budgie run and nest start one when a container needs it).
No keeper running is not an error.

Example:
  budgie --headless keeper stop
  stopped keeper (pid 4242)`
}

// Run stops the keeper and says which.
func (c *KeeperStopCmd) Run(g *Globals) error {
	if c.Time < 0 {
		return fmt.Errorf("--time %d: want 0 or more seconds: %w", c.Time, errInvalid)
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	done, err := engine.StopKeeper(g.ctx, cfg.DataDir, engine.StopKeeperOptions{Timeout: max(time.Duration(c.Time)*time.Second, time.Millisecond)})
	switch {
	case err != nil:
		return err
	case done.Pid == 0:
		fmt.Fprintf(os.Stderr, "budgie: no keeper runs for %s\n", cfg.DataDir)
	case done.Killed:
		fmt.Printf("killed keeper (pid %d): it did not stop within %ds of SIGTERM\n", done.Pid, c.Time)
	default:
		fmt.Printf("stopped keeper (pid %d)\n", done.Pid)
	}
	return nil
}

// KeeperRestartCmd restarts the keeper detached.
type KeeperRestartCmd struct {
	Time int `short:"t" help:"Seconds to wait after SIGTERM before SIGKILL." default:"10"`
}

// Help is the example under the command's --help.
func (*KeeperRestartCmd) Help() string {
	return `Stops the keeper as 'keeper stop' does (if one runs), then starts
'budgie --headless serve' detached, logging to DATA_DIR/keeper.log, and waits
until it answers.

Example:
  budgie --headless keeper restart
  keeper running (pid 4311)`
}

// Run restarts the keeper and prints the new one's pid.
func (c *KeeperRestartCmd) Run(g *Globals, eng *engine.Engine) error {
	if c.Time < 0 {
		return fmt.Errorf("--time %d: want 0 or more seconds: %w", c.Time, errInvalid)
	}
	st, err := eng.RestartKeeper(g.ctx, engine.StopKeeperOptions{Timeout: max(time.Duration(c.Time)*time.Second, time.Millisecond)})
	if err != nil {
		return err
	}
	fmt.Printf("keeper running (pid %d)\n", st.Pid)
	return nil
}

// KeeperLogsCmd prints the keeper's log.
type KeeperLogsCmd struct {
	Follow bool   `short:"f" help:"Follow the log as the keeper writes it (across its rotations) until interrupted."`
	Tail   string `short:"n" help:"Number of lines to show from the end, or all." default:"all"`
}

// Help is the example under the command's --help.
func (*KeeperLogsCmd) Help() string {
	return `Shows DATA_DIR/keeper.log, the log of a keeper started detached (by run, nest
or keeper restart); older lines are in the rotated keeper.log.1 and on. A keeper
run with 'budgie serve' logs to its stderr instead, unless given --log-file.

Example:
  budgie --headless keeper logs -f -n 20`
}

// Run prints the log.
func (c *KeeperLogsCmd) Run(g *Globals) error {
	tail := -1
	if c.Tail != "all" {
		n, err := strconv.Atoi(c.Tail)
		if err != nil || n < 0 {
			return fmt.Errorf("--tail %q: want a number of lines or all: %w", c.Tail, errInvalid)
		}
		tail = n
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	return engine.KeeperLog(g.ctx, cfg.DataDir, engine.KeeperLogOptions{Out: os.Stdout, Tail: tail, Follow: c.Follow})
}
