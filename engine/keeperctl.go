package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/keeper"
)

// The node keeper's controls, for `budgie keeper status|stop|restart|logs`.
// Status, stop and logs need only the data directory (no containerd), so
// they are functions of it; restart starts a keeper, an Engine's job.

// KeeperState is what KeeperStatus found.
type KeeperState struct {
	// Running is true when a keeper answers on its socket.
	Running bool `json:"running"`
	// Pid is the keeper's process ID: the one answering, else the process
	// holding the lock (a keeper that does not answer); 0 when none runs.
	Pid int `json:"pid,omitempty"`
	// Version is the budgie version the keeper runs; empty when it does not answer.
	Version string `json:"version,omitempty"`
	// Started is when it started; zero when it does not answer.
	Started time.Time `json:"started,omitempty"`
	// Socket, Lock and Log are its files under the data directory.
	Socket string `json:"socket"`
	Lock   string `json:"lock"`
	Log    string `json:"log"`
}

// Uptime is how long the keeper has run, at now; zero when not known.
func (s KeeperState) Uptime(now time.Time) time.Duration {
	if s.Started.IsZero() {
		return 0
	}
	return now.Sub(s.Started)
}

// KeeperStatus reports on the keeper of dataDir: whether one answers on
// its socket (within 2 s), and which process holds its lock. It fails only
// when the lock cannot be read.
func KeeperStatus(ctx context.Context, dataDir string) (KeeperState, error) {
	st := KeeperState{Socket: keeper.SocketPath(dataDir), Lock: keeper.LockPath(dataDir), Log: keeper.LogPath(dataDir)}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if info, err := keeper.NewClient(dataDir).Ping(pctx); err == nil {
		st.Running, st.Pid, st.Version, st.Started = true, info.Pid, info.Version, info.Started
		return st, nil
	}
	pid, err := lockHolder(st.Lock)
	if err != nil {
		return st, err
	}
	st.Pid = pid
	return st, nil
}

// lockHolder returns the pid of the process holding the keeper lock at
// path, 0 when none does: the kernel's record (/proc/locks) of who holds
// the lock on that file, else the pid the keeper wrote into it.
func lockHolder(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("read keeper lock %s: %w", path, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0, nil // free
	} else if !errors.Is(err, unix.EWOULDBLOCK) {
		return 0, fmt.Errorf("read keeper lock %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil {
		if pid := flockOwner(st); pid > 0 {
			return pid, nil
		}
	}
	b, _ := io.ReadAll(io.LimitReader(f, 32))
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("keeper lock %s is held, but by no pid it names (%q): %w", path, b, errdefs.ErrUnavailable)
	}
	return pid, nil
}

// flockOwner finds the pid owning the exclusive flock on the file st
// describes in /proc/locks ("1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0
// EOF"); 0 when it is not listed.
func flockOwner(st unix.Stat_t) int {
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// A blocked waiter's line has "->" after the number; skip those.
		if len(f) < 8 || f[1] != "FLOCK" || f[3] != "WRITE" || f[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil {
			return pid
		}
	}
	return 0
}

// StopKeeperOptions tune StopKeeper.
type StopKeeperOptions struct {
	// Timeout is how long the keeper has to exit after SIGTERM before it
	// is sent SIGKILL; zero means 10 s.
	Timeout time.Duration
}

// StoppedKeeper is what StopKeeper did.
type StoppedKeeper struct {
	// Pid is the keeper stopped; 0 when none ran.
	Pid int
	// Killed is true when it had to be sent SIGKILL after the timeout.
	Killed bool
}

// StopKeeper stops the keeper of dataDir: the process holding its lock (or
// answering on its socket) gets SIGTERM, and StopKeeper waits until it has
// exited and the lock is free; after opts.Timeout it sends SIGKILL and
// waits 5 s more. No keeper running is no error (Pid 0).
func StopKeeper(ctx context.Context, dataDir string, opts StopKeeperOptions) (StoppedKeeper, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	st, err := KeeperStatus(ctx, dataDir)
	if err != nil || st.Pid == 0 {
		return StoppedKeeper{}, err
	}
	done := StoppedKeeper{Pid: st.Pid}
	if err := syscall.Kill(st.Pid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return done, waitLockFree(ctx, st.Lock, 5*time.Second)
	} else if err != nil {
		return done, fmt.Errorf("stop keeper (pid %d): %w", st.Pid, err)
	}
	if waitExit(ctx, st.Pid, timeout) {
		return done, waitLockFree(ctx, st.Lock, 5*time.Second)
	}
	if ctx.Err() != nil {
		return done, ctx.Err()
	}
	done.Killed = true
	_ = syscall.Kill(st.Pid, syscall.SIGKILL)
	if !waitExit(ctx, st.Pid, 5*time.Second) {
		return done, fmt.Errorf("keeper (pid %d) still runs after SIGTERM and SIGKILL: %w", st.Pid, errdefs.ErrConflict)
	}
	return done, waitLockFree(ctx, st.Lock, 5*time.Second)
}

// waitExit polls until process pid is gone (true) or d passes (false).
func waitExit(ctx context.Context, pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || zombie(pid) {
			return true
		}
		if time.Now().After(deadline) || sleepCtx(ctx, 20*time.Millisecond) != nil {
			return false
		}
	}
}

// zombie reports whether pid has exited but not been reaped (it then
// holds no lock any more; its parent may be this very process).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "1 (budgie) Z …".
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// waitLockFree polls until no process holds the lock at path.
func waitLockFree(ctx context.Context, path string, d time.Duration) error {
	for deadline := time.Now().Add(d); ; {
		pid, err := lockHolder(path)
		if err == nil && pid == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the keeper exited but its lock %s is still held (pid %d): %w", path, pid, errdefs.ErrConflict)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// RestartKeeper stops the node's keeper (StopKeeper) and starts it again
// detached (StartKeeper), returning the new keeper's state.
func (e *Engine) RestartKeeper(ctx context.Context, opts StopKeeperOptions) (KeeperState, error) {
	if _, err := StopKeeper(ctx, e.Config.DataDir, opts); err != nil {
		return KeeperState{}, err
	}
	if err := e.StartKeeper(ctx); err != nil {
		return KeeperState{}, err
	}
	return KeeperStatus(ctx, e.Config.DataDir)
}

// KeeperLogOptions tune KeeperLog.
type KeeperLogOptions struct {
	// Out receives the log's lines; required.
	Out io.Writer
	// Tail is how many last lines to start with; negative means all.
	Tail int
	// Follow keeps printing lines as the keeper writes them, across its
	// rotations, until ctx ends.
	Follow bool
	// Poll is how often a follow looks for more; zero means 200 ms.
	Poll time.Duration
}

// KeeperLog writes the log of the keeper of dataDir (DATA_DIR/keeper.log,
// the current file; rotated ones are keeper.log.1 and on). A missing log is
// an errdefs.ErrNotFound error unless following, which waits for it. A
// cancelled ctx ends a follow without an error.
func KeeperLog(ctx context.Context, dataDir string, opts KeeperLogOptions) error {
	path := keeper.LogPath(dataDir)
	poll := opts.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	f, err := os.Open(path)
	for errors.Is(err, os.ErrNotExist) && opts.Follow {
		if sleepCtx(ctx, poll) != nil {
			return nil
		}
		f, err = os.Open(path)
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no keeper log at %s (a keeper started detached writes it; see: budgie keeper status): %w", path, errdefs.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("open keeper log: %w", err)
	}
	defer func() { f.Close() }()
	if err := writeTail(f, opts.Out, opts.Tail); err != nil {
		return fmt.Errorf("read keeper log %s: %w", path, err)
	}
	if !opts.Follow {
		return nil
	}
	err = followFile(ctx, &f, path, opts.Out, poll)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// writeTail copies the last n lines of f (all of it when n < 0) to out,
// leaving f's offset at the end of what it copied.
func writeTail(f *os.File, out io.Writer, n int) error {
	if n >= 0 {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		off, err := tailOffset(f, fi.Size(), n)
		if err != nil {
			return err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return err
		}
	}
	_, err := io.Copy(out, f)
	return err
}

// tailOffset is where the last n lines of the first size bytes of r begin,
// read backwards 32 KiB at a time. A last line without its newline counts.
func tailOffset(r io.ReaderAt, size int64, n int) (int64, error) {
	if n == 0 {
		return size, nil
	}
	buf := make([]byte, 32<<10)
	seen := 0
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		chunk := buf[:end-start]
		if _, err := r.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if chunk[i] != '\n' || start+int64(i) == size-1 {
				continue // the newline that ends the file ends the last line, no boundary
			}
			if seen++; seen == n {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return 0, nil
}

// followFile copies what is appended to *f until ctx ends. When the keeper
// rotates its log (path names another file), the rest of the old file is
// copied and the new one followed from its start; a truncated file is
// followed from its start too.
func followFile(ctx context.Context, f **os.File, path string, out io.Writer, poll time.Duration) error {
	for {
		if _, err := io.Copy(out, *f); err != nil {
			return err
		}
		cur, err := (*f).Stat()
		if err != nil {
			return err
		}
		if off, err := (*f).Seek(0, io.SeekCurrent); err == nil && off > cur.Size() {
			_, _ = (*f).Seek(0, io.SeekStart) // truncated
		}
		if now, err := os.Stat(path); err == nil && !os.SameFile(now, cur) {
			if nf, err := os.Open(path); err == nil {
				if _, err := io.Copy(out, *f); err != nil {
					nf.Close()
					return err
				}
				(*f).Close()
				*f = nf
				continue
			}
		}
		if err := sleepCtx(ctx, poll); err != nil {
			return err
		}
	}
}
