package runtime

import (
	"context"
	"fmt"
	"io"
	"sync"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Size is a terminal size in cells.
type Size struct {
	Width, Height uint16
}

// ExecOptions describe a process to run in a running container.
type ExecOptions struct {
	// Cmd is the command and its arguments; required.
	Cmd []string
	// Tty allocates a pseudo-terminal (stdout and stderr merge into Stdout).
	Tty bool
	// Stdin feeds the process; nil means no input.
	Stdin io.Reader
	// Stdout and Stderr receive its output; nil discards it.
	Stdout, Stderr io.Writer
	// User is "uid[:gid]" or a user name from the container; empty means the container's.
	User string
	// Workdir overrides the container's working directory.
	Workdir string
	// Env adds or replaces KEY=VALUE pairs.
	Env []string
	// Size is the terminal's initial size, with Tty.
	Size Size
	// Resize delivers terminal size changes, with Tty; nil means none.
	Resize <-chan Size
}

// Exec runs a process in a running container, waits for it and returns its
// exit code. A command that cannot be found returns *ExitError with code 127.
func (r *Runtime) Exec(ctx context.Context, ref string, opts ExecOptions) (int, error) {
	if len(opts.Cmd) == 0 {
		return 0, fmt.Errorf("exec needs a command: %w", errdefs.ErrInvalid)
	}
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return 0, err
	}
	if c.State != models.StateRunning {
		return 0, fmt.Errorf("container %s is %s, not running (start it: budgie start %s): %w", c.Name, c.State, c.Name, errdefs.ErrConflict)
	}
	ctx = r.ns(ctx)
	task, err := cc.Task(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	pspec, err := r.execSpec(ctx, cc, opts)
	if err != nil {
		return 0, err
	}
	id, err := newID()
	if err != nil {
		return 0, err
	}
	stdin := newClosingReader(opts.Stdin)
	var in io.Reader // a nil interface: no stdin pipe at all
	if opts.Stdin != nil {
		in = stdin
	}
	streams := []cio.Opt{cio.WithStreams(in, orDiscard(opts.Stdout), orDiscard(opts.Stderr))}
	if opts.Tty {
		streams = append(streams, cio.WithTerminal)
	}
	proc, err := task.Exec(ctx, "exec-"+id[:16], pspec, cio.NewCreator(streams...))
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	defer proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
	exited, err := proc.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	if err := proc.Start(ctx); err != nil {
		return 0, fmt.Errorf("exec in %s: %w", c.Name, explainStartError(errdefs.FromContainerd(err)))
	}
	if opts.Stdin != nil {
		stdin.onEOF(func() { _ = proc.CloseIO(ctx, containerd.WithStdinCloser) })
	}
	if opts.Tty {
		if opts.Size.Width > 0 {
			_ = proc.Resize(ctx, uint32(opts.Size.Width), uint32(opts.Size.Height))
		}
		go forwardResize(ctx, proc, opts.Resize)
	}
	select {
	case st := <-exited:
		proc.IO().Wait()
		code, _, err := st.Result()
		return int(code), errdefs.FromContainerd(err)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (r *Runtime) execSpec(ctx context.Context, cc containerd.Container, opts ExecOptions) (*specs.Process, error) {
	spec, err := cc.Spec(ctx)
	if err != nil {
		return nil, fmt.Errorf("read container spec: %w", errdefs.FromContainerd(err))
	}
	if opts.User != "" {
		info, err := cc.Info(ctx)
		if err != nil {
			return nil, errdefs.FromContainerd(err)
		}
		if err := oci.WithUser(opts.User)(ctx, r.client, &info, spec); err != nil {
			return nil, fmt.Errorf("user %q: %w: %w", opts.User, err, errdefs.ErrInvalid)
		}
	}
	if len(opts.Env) > 0 {
		if err := oci.WithEnv(opts.Env)(ctx, r.client, nil, spec); err != nil {
			return nil, err
		}
	}
	p := spec.Process
	p.Args = opts.Cmd
	p.Terminal = opts.Tty
	if opts.Workdir != "" {
		p.Cwd = opts.Workdir
	}
	return p, nil
}

func forwardResize(ctx context.Context, proc containerd.Process, ch <-chan Size) {
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				return
			}
			_ = proc.Resize(ctx, uint32(s.Width), uint32(s.Height))
		case <-ctx.Done():
			return
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// closingReader tells when its source is exhausted, so that the process's
// stdin can be closed (the process then sees EOF).
type closingReader struct {
	src  io.Reader
	mu   sync.Mutex
	eof  bool
	hook func()
}

func newClosingReader(src io.Reader) *closingReader { return &closingReader{src: src} }

func (c *closingReader) Read(p []byte) (int, error) {
	if c.src == nil {
		return 0, io.EOF
	}
	n, err := c.src.Read(p)
	if err == io.EOF {
		c.mu.Lock()
		c.eof = true
		hook := c.hook
		c.mu.Unlock()
		if hook != nil {
			hook()
		}
	}
	return n, err
}

// onEOF runs f when the source is exhausted (at once if it already is).
func (c *closingReader) onEOF(f func()) {
	c.mu.Lock()
	c.hook = f
	eof := c.eof
	c.mu.Unlock()
	if eof {
		f()
	}
}
