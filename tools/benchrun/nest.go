package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Pane size nest is measured in.
const paneWidth, paneHeight = 160, 45

// clockTicks is USER_HZ, the unit of /proc/PID/stat's utime and stime.
const clockTicks = 100

// tmux drives a private tmux server (its own socket name).
type tmux struct {
	socket string
	n      int
	kept   bool
}

// keepServer opens a session that lives until killServer, so the server
// never exits between two nest sessions: a new-session racing a server
// that is shutting down (its last session just killed) fails with
// "server exited unexpectedly".
func (t *tmux) keepServer() error {
	if t.kept {
		return nil
	}
	if _, err := t.output("new-session", "-d", "-s", "keep", "sleep 86400"); err != nil {
		return err
	}
	t.kept = true
	return nil
}

func (t *tmux) cmd(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-L", t.socket}, args...)...)
}

func (t *tmux) output(args ...string) (string, error) {
	out, err := t.cmd(args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// killServer stops the private tmux server.
func (t *tmux) killServer() { _ = t.cmd("kill-server").Run() }

// nestPane is one nest process in a tmux session.
type nestPane struct {
	t       *tmux
	session string
	pid     int
	wrote   chan struct{} // nest wrote to its terminal (watchOutput)
}

// startNest opens a session whose shell waits on a FIFO and then execs
// nest; the clock starts when the FIFO is written, so tmux's own start-up
// is not timed. It returns once nest shows its container table (every
// text in ready on screen), with the time that took.
func (b *bench) startNest(t *tmux, ready []string, timeout time.Duration) (*nestPane, startup, error) {
	if err := t.keepServer(); err != nil {
		return nil, startup{}, err
	}
	t.n++
	p := &nestPane{t: t, session: fmt.Sprintf("nest%d", t.n)}
	fifo := filepath.Join(b.work, p.session+".go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return nil, startup{}, fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	vars := append(b.envVars(), "TERM=xterm-256color")
	shell := fmt.Sprintf("read _ < %s; exec env %s %s", fifo, strings.Join(vars, " "), b.budgie)
	if _, err := t.output("new-session", "-d", "-s", p.session, "-x", strconv.Itoa(paneWidth), "-y", strconv.Itoa(paneHeight), "-c", b.work, shell); err != nil {
		return nil, startup{}, err
	}
	if err := p.watchOutput(b.work); err != nil {
		p.close()
		return nil, startup{}, err
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the shell waits on it
	if err != nil {
		p.close()
		return nil, startup{}, err
	}
	start := time.Now()
	_, err = w.Write([]byte("\n"))
	w.Close()
	if err != nil {
		p.close()
		return nil, startup{}, err
	}
	var st startup
	screen, err := p.waitFor(firstFrame, timeout)
	st.frame = time.Since(start).Seconds()
	if err == nil {
		screen, err = p.waitFor(ready, timeout)
		st.table = time.Since(start).Seconds()
		st.fromKeeper = strings.Contains(screen, keeperMarker)
	}
	if err == nil {
		screen, err = p.waitGone(keeperMarker, timeout)
		st.listed = time.Since(start).Seconds()
	}
	if err != nil {
		p.close()
		return nil, startup{}, fmt.Errorf("%w; last screen:\n%s", err, screen)
	}
	pid, err := t.output("display-message", "-p", "-t", p.session, "#{pane_pid}")
	if err == nil {
		p.pid, err = strconv.Atoi(strings.TrimSpace(pid))
	}
	if err != nil {
		p.close()
		return nil, startup{}, err
	}
	return p, st, nil
}

// firstFrame is what nest draws before any listing returns: its tab bar.
var firstFrame = []string{"1 Containers", "2 Images"}

// keeperMarker is what nest's status bar adds while its table is the
// keeper's live list and containerd's own listing has not landed
// (views/containers Provisional).
const keeperMarker = "(keeper's list)"

// startup is how long a nest start took: to its first frame, to a table
// holding every container, and until containerd's own listing replaced
// it (seconds; equal to table when containerd drew the first table).
type startup struct {
	frame, table, listed float64
	fromKeeper           bool // the first table was the keeper's list
}

// waitFor looks at the pane until every text is on screen: once at
// once, then each time nest has written to its terminal (see watchOutput),
// or every 100 ms when it has not. The time taken ends when the look
// that shows them returns.
func (p *nestPane) waitFor(texts []string, timeout time.Duration) (string, error) {
	screen, err := p.waitUntil(timeout, func(screen string) bool {
		for _, s := range texts {
			if !strings.Contains(screen, s) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return screen, fmt.Errorf("nest did not show %q within %s: %w", texts, timeout, err)
	}
	return screen, nil
}

// waitGone looks at the pane, as waitFor does, until text is off screen.
func (p *nestPane) waitGone(text string, timeout time.Duration) (string, error) {
	screen, err := p.waitUntil(timeout, func(screen string) bool { return !strings.Contains(screen, text) })
	if err != nil {
		return screen, fmt.Errorf("nest still showed %q after %s: %w", text, timeout, err)
	}
	return screen, nil
}

// waitUntil captures the pane until done says yes. It does not poll on a
// short timer: on this 2-core machine, a tmux client started every few
// milliseconds took enough CPU from nest to slow its start by tens of
// milliseconds (measured: the table arrived 60 ms later with a
// capture-pane every millisecond than with none).
func (p *nestPane) waitUntil(timeout time.Duration, done func(screen string) bool) (string, error) {
	deadline := time.Now().Add(timeout)
	var screen string
	for {
		out, err := p.t.cmd("capture-pane", "-p", "-t", p.session).Output()
		if err != nil {
			return screen, fmt.Errorf("tmux capture-pane: %w", err)
		}
		if screen = string(out); done(screen) {
			return screen, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return screen, errTimeout
		}
		select {
		case <-p.wrote:
		case <-time.After(min(left, 100*time.Millisecond)):
		}
	}
}

// errTimeout is a wait that ran out of time.
var errTimeout = errors.New("timed out")

// watchOutput has tmux copy everything nest writes to its terminal into
// a FIFO and signals p.wrote (without blocking) each time some arrives;
// tmux has put it on the pane's screen by then. It stops when the pipe is
// replaced (idle) or the session ends.
func (p *nestPane) watchOutput(work string) error {
	fifo := filepath.Join(work, p.session+".tty")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	p.wrote = make(chan struct{}, 1)
	if _, err := p.t.output("pipe-pane", "-O", "-t", p.session, "cat > "+fifo); err != nil {
		return err
	}
	go func() {
		f, err := os.Open(fifo) // blocks until tmux's cat opens it
		if err != nil {
			return
		}
		defer f.Close()
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case p.wrote <- struct{}{}:
			default:
			}
		}
	}()
	return nil
}

// close kills the session and waits (up to 10 s) for nest to exit.
func (p *nestPane) close() {
	_ = p.t.cmd("kill-session", "-t", p.session).Run()
	for i := 0; p.pid > 0 && i < 1000; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.pid)); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cpuTicks returns utime+stime of pid in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(b))
}

// parseStatTicks reads utime+stime (fields 14 and 15) from a
// /proc/PID/stat line; the command name may hold spaces and parentheses.
func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat line %q", stat)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat times in %q", stat)
	}
	return u + s, nil
}

// idle measures nest's CPU (percent of one core) and the bytes and frames
// it writes to its terminal over window, after settle, while nobody types.
// A frame is a 100 ms interval in which the output grew.
func (p *nestPane) idle(work string, settle, window time.Duration) (cpu float64, drawn int64, frames int, err error) {
	time.Sleep(settle)
	log := filepath.Join(work, p.session+".out")
	if _, err := p.t.output("pipe-pane", "-O", "-t", p.session, "cat > "+log); err != nil {
		return 0, 0, 0, err
	}
	before, err := cpuTicks(p.pid)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read nest's CPU time: %w", err)
	}
	frames = countGrowth(log, window, 100*time.Millisecond)
	after, err := cpuTicks(p.pid)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read nest's CPU time: %w", err)
	}
	if _, err := p.t.output("pipe-pane", "-t", p.session); err != nil {
		return 0, 0, 0, err
	}
	time.Sleep(200 * time.Millisecond)
	out, err := os.ReadFile(log)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pane output log: %w", err)
	}
	cpu = float64(after-before) / clockTicks / window.Seconds() * 100
	return cpu, int64(len(out)), frames, nil
}

// countGrowth watches path's size every tick for window and returns in
// how many ticks it grew.
func countGrowth(path string, window, tick time.Duration) int {
	var last int64
	n := 0
	for end := time.Now().Add(window); time.Now().Before(end); {
		time.Sleep(tick)
		if st, err := os.Stat(path); err == nil && st.Size() > last {
			last = st.Size()
			n++
		}
	}
	return n
}
