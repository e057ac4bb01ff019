package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// attachSession is budgie's side of a foreground run of a container with
// a terminal or stdin (run -it, -i, -t; run --attach of a bundle with tty
// or stdin_open): the streams handed to the engine, the terminal's size
// and its changes (SIGWINCH), and raw mode while an interactive terminal
// session lasts, restored on every way out (close). The engine connects
// the container's process to these streams; this file owns the terminal.
type attachSession struct {
	opts   runtime.AttachOptions
	exited chan runtime.AttachExit

	mu     sync.Mutex
	raw    *term.State // budgie's terminal state before raw mode; nil when not raw
	winch  chan os.Signal
	closed bool
}

// newAttachSession hands the engine budgie's stdin, stdout and stderr and,
// when stdout is a terminal, its size and its changes.
func newAttachSession() *attachSession {
	s := &attachSession{exited: make(chan runtime.AttachExit, 1)}
	s.opts = runtime.AttachOptions{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Exited: s.exited}
	if !term.IsTerminal(int(os.Stdout.Fd())) {
		return s
	}
	resize := make(chan runtime.Size, 1)
	s.opts.Size, s.opts.Resize = termSize(), resize
	s.winch = make(chan os.Signal, 1)
	signal.Notify(s.winch, syscall.SIGWINCH)
	go func() {
		for range s.winch {
			select {
			case resize <- termSize():
			default: // one pending size is enough: the next read is the newest
			}
		}
	}()
	return s
}

// started puts budgie's terminal in raw mode once the container runs,
// when it is an interactive terminal session (tty and stdin_open, stdin
// a terminal): keys, Ctrl-C included, then go to the container's
// terminal, as docker run -it does. Raw mode waits until here so that a
// pull's progress is still printed in the terminal's normal mode.
func (s *attachSession) started(ctr models.Container) {
	fd := int(os.Stdin.Fd())
	if !ctr.Spec.Tty || !ctr.Spec.StdinOpen || !term.IsTerminal(fd) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.raw != nil {
		return
	}
	if state, err := term.MakeRaw(fd); err == nil {
		s.raw = state
	}
}

// close restores the terminal and stops following its size; it may be
// called more than once (a deferred close after wait's).
func (s *attachSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.raw != nil {
		_ = term.Restore(int(os.Stdin.Fd()), s.raw)
		s.raw = nil
	}
	if s.winch != nil {
		signal.Stop(s.winch)
		close(s.winch)
	}
}

// wait waits until the container's process has exited and its output is
// written, then restores the terminal, removes the container (remove,
// --rm) and returns its exit code as the command's. Signals budgie gets
// meanwhile are passed on, and it keeps waiting: SIGINT and SIGTERM as
// SIGTERM (as attach does; in raw mode Ctrl-C is a key the container's
// terminal turns into its own SIGINT), SIGHUP (budgie's terminal went
// away) as SIGHUP, which ends a shell as its own terminal's hangup would.
func (s *attachSession) wait(g *Globals, ctr models.Container, remove bool) error {
	defer s.close()
	rt := g.eng.Runtime
	ctx := context.WithoutCancel(g.ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	interrupted := g.ctx.Done()
	var res runtime.AttachExit
	for waiting := true; waiting; {
		select {
		case res = <-s.exited:
			waiting = false
		case <-interrupted:
			interrupted = nil
			_, _ = rt.Kill(ctx, ctr.ID, "SIGTERM")
		case <-hup:
			_, _ = rt.Kill(ctx, ctr.ID, "SIGHUP")
		}
	}
	s.close() // before anything is printed
	if remove {
		if _, err := rt.Remove(ctx, ctr.ID, runtime.RemoveOptions{Force: true}); err != nil {
			return err
		}
	}
	if res.Err != nil {
		return res.Err
	}
	if res.Code != 0 {
		return &runtime.ExitError{Code: res.Code}
	}
	return nil
}

// checkTerminalFlags refuses the combinations of -i, -t and -d that
// budgie cannot carry out as docker would, before anything is made.
func (c *RunCmd) checkTerminalFlags() error {
	switch {
	case c.Detach && c.Interactive && !c.Tty:
		return fmt.Errorf("-d with -i: budgie has no attach, so a detached container's stdin would be at its end at once "+
			"(docker's waits for a later attach); run it in the foreground (budgie run -i IMAGE …), or with -dit to keep "+
			"a shell waiting on its terminal, then: budgie exec -it NAME sh: %w", errInvalid)
	case !c.Detach && c.Interactive && c.Tty && !term.IsTerminal(int(os.Stdin.Fd())):
		return fmt.Errorf("the input device is not a TTY (-t with -i needs a terminal on stdin; drop -t to pipe input with -i): %w", errInvalid)
	}
	return nil
}
