package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// LogsCmd prints the output of containers, or of a service's replicas.
type LogsCmd struct {
	Containers []string `arg:"" name:"container" predictor:"container" help:"Names, IDs or unique ID prefixes, or a service's name (its replicas)."`
	Follow     bool     `short:"f" help:"Follow the output until the containers stop."`
	Tail       string   `short:"n" help:"Number of lines to show from the end of each container's log, or all." default:"all"`
	Timestamps bool     `short:"t" help:"Show timestamps."`
	Since      string   `help:"Show lines since a timestamp (2026-11-23T10:00:00Z) or a relative time (42m)."`
}

// Run prints the logs, stdout to stdout and stderr to stderr. With more
// than one container (a service's replicas count one each), each line is
// prefixed "name | " as compose does, and the containers' lines are
// interleaved as they arrive.
func (c *LogsCmd) Run(g *Globals) error {
	tail := -1
	if c.Tail != "all" {
		n, err := strconv.Atoi(c.Tail)
		if err != nil || n < 0 {
			return fmt.Errorf("--tail %q: want a number of lines or all: %w", c.Tail, errInvalid)
		}
		tail = n
	}
	since, err := parseSince(c.Since, time.Now())
	if err != nil {
		return err
	}
	eng, err := g.Engine() // after the flags are known to be good
	if err != nil {
		return err
	}
	opts := engine.LogsOptions{Stdout: os.Stdout, Stderr: os.Stderr, Tail: tail, Since: since,
		Timestamps: c.Timestamps, Follow: c.Follow}
	cs, err := logsContainers(g.ctx, eng, c.Containers)
	if err != nil {
		return err
	}
	if len(cs) == 1 { // one container: its output as it is
		return eng.Logs(g.ctx, cs[0].ID, opts)
	}
	return mergeLogs(g.ctx, eng, cs, opts)
}

// logsContainers resolves each reference to a service's replicas or,
// when no service has that name, to one container; each container once.
func logsContainers(ctx context.Context, eng *engine.Engine, refs []string) ([]models.Container, error) {
	var out []models.Container
	seen := map[string]bool{}
	for _, ref := range refs {
		cs, err := eng.Replicas(ctx, ref)
		if errors.Is(err, errdefs.ErrNotFound) {
			var ctr models.Container
			ctr, err = eng.Container(ctx, ref)
			cs = []models.Container{ctr}
		}
		if err != nil {
			return nil, err
		}
		for _, ctr := range cs {
			if !seen[ctr.ID] {
				seen[ctr.ID] = true
				out = append(out, ctr)
			}
		}
	}
	return out, nil
}

// mergeLogs reads every container's log at once (engine.Logs each), each
// line prefixed with its container's name, until all are done (with
// Follow: all have stopped, or ctx ends). Every container's failure is
// returned; the others go on.
func mergeLogs(ctx context.Context, eng *engine.Engine, cs []models.Container, opts engine.LogsOptions) error {
	width := 0
	for _, ctr := range cs {
		width = max(width, len([]rune(models.Printable(ctr.Name))))
	}
	var mu sync.Mutex
	stdoutColour, stderrColour := colourOutput(os.Stdout), colourOutput(os.Stderr)
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, ctr := range cs {
		name := models.Printable(ctr.Name)
		name += strings.Repeat(" ", width-len([]rune(name)))
		o := opts
		out := &prefixWriter{mu: &mu, w: opts.Stdout, prefix: logPrefix(name, i, stdoutColour)}
		errOut := &prefixWriter{mu: &mu, w: opts.Stderr, prefix: logPrefix(name, i, stderrColour)}
		o.Stdout, o.Stderr = out, errOut
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = eng.Logs(ctx, ctr.ID, o)
			out.flush()
			errOut.flush()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// logColours are the ANSI colours of the containers' prefixes, in turn
// (compose's: cyan, yellow, green, magenta, blue, then the bright ones).
var logColours = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

// colourOutput reports whether prefixes written to f are coloured: f is a
// terminal and NO_COLOR is unset (or empty, as no-color.org says).
func colourOutput(f *os.File) bool {
	return os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))
}

// logPrefix is "name | ", in the i-th container's colour when colour.
func logPrefix(name string, i int, colour bool) string {
	if !colour {
		return name + " | "
	}
	return "\x1b[" + logColours[i%len(logColours)] + "m" + name + " |\x1b[0m "
}

// prefixWriter writes each complete line to w with prefix before it, one
// Write per line under mu (shared by all the containers' writers, so lines
// never tear); a last line without a newline waits for flush.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

// Write buffers p and writes the lines it completes.
func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if err := p.writeLine(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

// flush writes what is left of a last line, ending it with a newline.
func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		_ = p.writeLine(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) writeLine(line []byte) error {
	out := make([]byte, 0, len(p.prefix)+len(line))
	out = append(append(out, p.prefix...), line...)
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.w.Write(out)
	return err
}

// parseSince accepts RFC 3339 (with or without a zone), a date, or a Go
// duration meaning "that long ago"; empty means no limit.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a timestamp (2026-11-23T10:00:00Z), a date, Unix seconds or a duration (10m): %w", s, errInvalid)
}

// attach streams a just-started container's output until it exits and
// returns its exit code as the command's. Ctrl-C forwards SIGTERM to the
// container and keeps waiting, like docker's signal proxy.
func attach(g *Globals, ctr models.Container, remove bool) error {
	rt := g.eng.Runtime
	ctx := context.WithoutCancel(g.ctx)
	exited := make(chan struct{})
	var code int
	var waitErr error
	go func() {
		code, waitErr = rt.Wait(ctx, ctr.ID)
		close(exited)
	}()
	go func() {
		select {
		case <-g.ctx.Done():
			_, _ = rt.Kill(ctx, ctr.ID, "SIGTERM")
		case <-exited:
		}
	}()
	readErr := logs.Read(ctx, rt.LogDir(ctr.ID), logs.ReadOptions{
		Stdout: os.Stdout, Stderr: os.Stderr, Tail: -1, Follow: true,
		Done: func() bool {
			select {
			case <-exited:
				return true
			default:
				return false
			}
		},
	})
	<-exited
	if remove {
		if _, err := rt.Remove(ctx, ctr.ID, runtime.RemoveOptions{Force: true}); err != nil {
			return err
		}
	}
	if waitErr != nil {
		return waitErr
	}
	if readErr != nil {
		return readErr
	}
	if code != 0 {
		return &runtime.ExitError{Code: code}
	}
	return nil
}

// spawnAutoRemove starts a detached `budgie wait --rm ID` that removes a
// --rm container when it exits (until the keeper does this).
func spawnAutoRemove(g *Globals, id string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"--headless"}
	if g.Config != "" {
		args = append(args, "--config", g.Config)
	}
	cmd := exec.Command(exe, append(args, "wait", "--rm", id)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start auto-remove watcher: %w", err)
	}
	return cmd.Process.Release()
}

// ExecCmd runs a command in a running container.
type ExecCmd struct {
	Interactive bool     `short:"i" help:"Keep stdin open."`
	Tty         bool     `short:"t" help:"Allocate a pseudo-terminal."`
	User        string   `short:"u" help:"User name or UID[:GID]."`
	Workdir     string   `short:"w" help:"Working directory inside the container."`
	Env         []string `short:"e" help:"Set environment variables (KEY=VALUE)."`
	Container   string   `arg:"" predictor:"container" help:"Name, ID or unique ID prefix."`
	Cmd         []string `arg:"" passthrough:"" help:"Command and arguments."`
}

// Run executes the command and exits with its exit code.
func (c *ExecCmd) Run(g *Globals, eng *engine.Engine) error {
	opts := runtime.ExecOptions{Cmd: c.Cmd, Tty: c.Tty, User: c.User, Workdir: c.Workdir, Env: c.Env,
		Stdout: os.Stdout, Stderr: os.Stderr}
	if c.Interactive {
		opts.Stdin = os.Stdin
	}
	fd := int(os.Stdin.Fd())
	if c.Tty && c.Interactive {
		if !term.IsTerminal(fd) {
			return fmt.Errorf("the input device is not a TTY (drop -t): %w", errInvalid)
		}
		state, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("set terminal raw: %w", err)
		}
		defer term.Restore(fd, state)
	}
	if c.Tty {
		resize := make(chan runtime.Size, 1)
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		opts.Size = termSize()
		opts.Resize = resize
		go func() {
			for range winch {
				select {
				case resize <- termSize():
				default:
				}
			}
		}()
	}
	code, err := eng.Runtime.Exec(g.ctx, c.Container, opts)
	if err != nil {
		return err
	}
	if code != 0 {
		return &runtime.ExitError{Code: code}
	}
	return nil
}

func termSize() runtime.Size {
	w, h, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil {
		return runtime.Size{Width: 80, Height: 24}
	}
	return runtime.Size{Width: uint16(w), Height: uint16(h)}
}
