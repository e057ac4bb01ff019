package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/models"
)

// AttachOptions connect the main process of a container run in the
// foreground (budgie run -it, run --attach of a bundle with tty or
// stdin_open) to the caller's streams, for that one task: containerd's
// FIFOs, with a console when the spec has tty, as ctr run -t and nerdctl
// run -it do. Its output is also written to the container's log, the
// same json-file entries the log driver writes, so that budgie logs
// shows it afterwards. Tasks started later (budgie start, a keeper
// restart) get the log driver again, with a console when the spec has tty.
//
// The caller owns its terminal: raw mode, and the sizes sent on Resize,
// are the front end's business.
type AttachOptions struct {
	// Stdin feeds the process when its spec has stdin_open (it is not
	// read otherwise); nil means no input. When it ends, the process's
	// stdin is closed (it reads end-of-file; a console hangs up).
	Stdin io.Reader
	// Stdout receives the output: with tty, stdout and stderr merged, as
	// the terminal shows them. nil discards it (it is still logged).
	Stdout io.Writer
	// Stderr receives the error output without tty; nil discards it.
	Stderr io.Writer
	// Size is the terminal's initial size, with tty; zero keeps the
	// console's default.
	Size Size
	// Resize delivers terminal size changes, with tty; nil means none.
	Resize <-chan Size
	// Exited receives how the process ended, once it has exited and all
	// its output has been written to Stdout, Stderr and the log. It must
	// have room for the value (buffered, as signal.Notify's channel): it
	// is never waited on. nil means nobody is told.
	Exited chan<- AttachExit
}

// AttachExit is how the process of an attached run ended.
type AttachExit struct {
	// Code is its exit code.
	Code int
	// Err is a failure to wait for it or to log its output; nil when it
	// simply exited.
	Err error
}

// taskIO is the IO of one task: the log driver's (containerd's binary://
// log URI, with a console when the spec has tty), or for an attached run
// FIFOs to the caller's streams, teed into the container's log.
type taskIO struct {
	creator cio.Creator
	// The rest is set for an attached run only.
	attach     *AttachOptions
	tty        bool
	stdin      *closingReader // nil without stdin
	outW, errW *io.PipeWriter // the log's side of the tee; errW is nil with tty
	logged     chan error     // logs.Drive's result
}

// taskIO returns the IO for a new task of spec, logging to logDir.
func (r *Runtime) taskIO(spec models.ContainerSpec, logDir string, attach *AttachOptions) (*taskIO, error) {
	if attach == nil || !spec.Interactive() {
		uri, err := cio.LogURIGenerator("binary", r.opts.LogBinary, map[string]string{logs.DriverArg: logDir})
		if err != nil {
			return nil, fmt.Errorf("log driver %s: %w", r.opts.LogBinary, err)
		}
		if spec.Tty {
			// The shim copies the console to the log driver's stdout.
			return &taskIO{creator: cio.TerminalLogURI(uri)}, nil
		}
		return &taskIO{creator: cio.LogURI(uri)}, nil
	}
	t := &taskIO{attach: attach, tty: spec.Tty, logged: make(chan error, 1)}
	var in io.Reader // a nil interface: no stdin FIFO at all
	if spec.StdinOpen && attach.Stdin != nil {
		t.stdin = newClosingReader(attach.Stdin)
		in = t.stdin
	}
	outR, outW := io.Pipe()
	t.outW = outW
	stdout := &teeWriter{user: orDiscard(attach.Stdout), log: outW}
	var stderr io.Writer // nil with tty: the console merges both
	var errR io.Reader
	if !spec.Tty {
		er, ew := io.Pipe()
		errR, t.errW = er, ew
		stderr = &teeWriter{user: orDiscard(attach.Stderr), log: ew}
	}
	opts := logs.DriverOptions{MaxSize: r.opts.LogMaxSize, MaxFiles: r.opts.LogMaxFiles}
	go func() { t.logged <- logs.Drive(context.Background(), logDir, outR, errR, opts) }()
	streams := []cio.Opt{cio.WithStreams(in, stdout, stderr)}
	if spec.Tty {
		streams = append(streams, cio.WithTerminal)
	}
	t.creator = cio.NewCreator(streams...)
	return t, nil
}

// start starts task; for an attached run it also sets the console's size,
// forwards resizes and the end of stdin, and reports the exit on Exited
// once the output is written.
func (t *taskIO) start(ctx context.Context, task containerd.Task) error {
	if t.attach == nil {
		return task.Start(ctx)
	}
	// The run outlives ctx (the front end's, cancelled by Ctrl-C while it
	// forwards a signal and keeps waiting); Wait is set up before Start so
	// that no exit is missed.
	wctx := context.WithoutCancel(ctx)
	exited, err := task.Wait(wctx)
	if err != nil {
		return err
	}
	if err := task.Start(ctx); err != nil {
		return err
	}
	rctx, stopResize := context.WithCancel(wctx)
	if t.tty {
		if s := t.attach.Size; s.Width > 0 && s.Height > 0 {
			_ = task.Resize(wctx, uint32(s.Width), uint32(s.Height))
		}
		go forwardResize(rctx, task, t.attach.Resize)
	}
	if t.stdin != nil {
		t.stdin.onEOF(func() { _ = task.CloseIO(wctx, containerd.WithStdinCloser) })
	}
	go func() {
		st := <-exited
		stopResize()
		t.finish(task, st)
	}()
	return nil
}

// finish waits for the output of an exited task to be copied, closes its
// FIFOs and the log, and reports the exit.
func (t *taskIO) finish(task containerd.Task, st containerd.ExitStatus) {
	code, _, waitErr := st.Result()
	if tio := task.IO(); tio != nil {
		if waitErr != nil {
			tio.Cancel() // the task may live on: stop copying rather than wait
		}
		tio.Wait()
		_ = tio.Close()
	}
	logErr := t.closeLog()
	res := AttachExit{Code: int(code)}
	if waitErr != nil {
		res.Err = fmt.Errorf("wait for the container's exit: %w", errdefs.FromContainerd(waitErr))
	}
	if logErr != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("write the container's log: %w", logErr))
	}
	if t.attach.Exited != nil {
		select {
		case t.attach.Exited <- res:
		default:
		}
	}
}

// closeLog ends the tee's log side and returns logs.Drive's result.
func (t *taskIO) closeLog() error {
	_ = t.outW.Close()
	if t.errW != nil {
		_ = t.errW.Close()
	}
	return <-t.logged
}

// abort releases an attached run's log copy when its task was never
// started (containerd closes the FIFOs of a task it failed to create,
// and Delete those of one it made).
func (t *taskIO) abort() {
	if t.attach != nil {
		_ = t.closeLog()
	}
}

// teeWriter writes the output to the caller and to the log. A caller
// that fails (a terminal closed under it) is skipped from then on, so
// that the log still gets everything and the container never blocks on
// an error; the log's pipe never fails while the run lasts.
type teeWriter struct {
	user    io.Writer
	log     io.Writer
	userErr error
}

// Write writes p to the caller first (an interactive echo should not
// wait for the log), then to the log.
func (w *teeWriter) Write(p []byte) (int, error) {
	if w.userErr == nil {
		_, w.userErr = w.user.Write(p)
	}
	_, _ = w.log.Write(p)
	return len(p), nil
}

// withTTY gives the process a terminal and, as docker does, TERM=xterm
// when neither the image nor the bundle sets TERM (the bundle's env,
// applied after it, wins).
func withTTY(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	if s.Process == nil {
		return fmt.Errorf("give the process a terminal: the spec has no process: %w", errdefs.ErrInvalid)
	}
	s.Process.Terminal = true
	for _, e := range s.Process.Env {
		if strings.HasPrefix(e, "TERM=") {
			return nil
		}
	}
	s.Process.Env = append(s.Process.Env, "TERM=xterm")
	return nil
}

// ttyOpts are the spec options of spec's tty field.
func ttyOpts(spec models.ContainerSpec) []oci.SpecOpts {
	if !spec.Tty {
		return nil
	}
	return []oci.SpecOpts{withTTY}
}
