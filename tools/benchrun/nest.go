package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	watch   *paneWatch // nest's screen as the bench follows it (watchOutput)
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
	all := func(texts []string) func(string) bool {
		return func(screen string) bool {
			for _, s := range texts {
				if !strings.Contains(screen, s) {
					return false
				}
			}
			return true
		}
	}
	frameSeen, tableSeen := p.watch.when(all(firstFrame)), p.watch.when(all(ready))
	listedSeen := p.watch.when(func(screen string) bool { return all(ready)(screen) && !strings.Contains(screen, keeperMarker) })
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
	var seen sighting
	if seen, err = await(frameSeen, timeout, fmt.Sprintf("%q", firstFrame), p.watch); err == nil {
		st.frame = seen.at.Sub(start).Seconds()
		seen, err = await(tableSeen, timeout, fmt.Sprintf("%q", ready), p.watch)
		st.table = seen.at.Sub(start).Seconds()
		st.fromKeeper = strings.Contains(seen.screen, keeperMarker)
	}
	if err == nil {
		seen, err = await(listedSeen, timeout, "containerd's listing", p.watch)
		st.listed = seen.at.Sub(start).Seconds()
	}
	if err == nil {
		err = p.checkModel()
	}
	if err != nil {
		p.close()
		return nil, startup{}, fmt.Errorf("%w; last screen:\n%s", err, seen.screen)
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

// paneWatch follows what nest writes to its terminal (tmux pipe-pane into
// a FIFO) on a vtScreen, and tells each waiter when its condition first
// holds on that screen and when the output that made it so arrived. No
// tmux client runs meanwhile: on this 2-core machine, capturing the pane
// every few milliseconds took enough CPU from nest to slow its start by
// tens of milliseconds (measured: the table arrived 60 ms later with a
// capture every millisecond than with none).
type paneWatch struct {
	mu      sync.Mutex
	scr     *vtScreen
	waiters []waiter
	last    time.Time // when output last arrived
}

// waiter is a condition on the screen's text and where to report it.
type waiter struct {
	cond func(screen string) bool
	seen chan sighting // buffered: one report
}

// sighting is the output that first made a condition hold: when it
// arrived, and the screen then.
type sighting struct {
	at     time.Time
	screen string
}

// when registers cond and returns where the first sighting of it is
// reported. Register before the output can arrive.
func (w *paneWatch) when(cond func(screen string) bool) <-chan sighting {
	ch := make(chan sighting, 1)
	w.mu.Lock()
	w.waiters = append(w.waiters, waiter{cond, ch})
	w.mu.Unlock()
	return ch
}

// feed puts a chunk of output that arrived at at on the screen and
// reports every condition it made hold.
func (w *paneWatch) feed(chunk []byte, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = at
	_, _ = w.scr.Write(chunk)
	if len(w.waiters) == 0 {
		return
	}
	screen := w.scr.Text()
	keep := w.waiters[:0]
	for _, wt := range w.waiters {
		if wt.cond(screen) {
			wt.seen <- sighting{at, screen}
		} else {
			keep = append(keep, wt)
		}
	}
	w.waiters = keep
}

// text returns the screen and when output last arrived.
func (w *paneWatch) text() (string, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.scr.Text(), w.last
}

// watchOutput starts following the pane's output (see paneWatch). It
// stops when the pipe is replaced (idle) or the session ends.
func (p *nestPane) watchOutput(work string) error {
	fifo := filepath.Join(work, p.session+".tty")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	p.watch = &paneWatch{scr: newVTScreen(paneWidth, paneHeight)}
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
			n, err := f.Read(buf)
			if n > 0 {
				p.watch.feed(buf[:n], time.Now())
			}
			if err != nil {
				return
			}
		}
	}()
	return nil
}

// await waits up to timeout for a sighting.
func await(seen <-chan sighting, timeout time.Duration, what string, watch *paneWatch) (sighting, error) {
	select {
	case s := <-seen:
		return s, nil
	case <-time.After(timeout):
		screen, _ := watch.text()
		return sighting{screen: screen}, fmt.Errorf("nest did not show %s within %s", what, timeout)
	}
}

// checkModel captures the pane once nest has been quiet for 300 ms and
// checks that it reads as the vtScreen the times came from: the figures
// stand only if the model saw what tmux shows.
func (p *nestPane) checkModel() error {
	var model, shown string
	for try := 0; try < 20; try++ {
		time.Sleep(100 * time.Millisecond)
		var last time.Time
		model, last = p.watch.text()
		if time.Since(last) < 300*time.Millisecond {
			continue
		}
		out, err := p.t.cmd("capture-pane", "-p", "-t", p.session).Output()
		if err != nil {
			return fmt.Errorf("tmux capture-pane: %w", err)
		}
		if _, after := p.watch.text(); !after.Equal(last) {
			continue // nest drew meanwhile
		}
		if shown = normalizeScreen(string(out)); shown == normalizeScreen(model) {
			return nil
		}
	}
	return fmt.Errorf("the bench's model of nest's screen and tmux's differ; model:\n%s\ntmux:\n%s", model, shown)
}

// normalizeScreen cuts trailing blanks from each line and trailing empty
// lines.
func normalizeScreen(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
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
