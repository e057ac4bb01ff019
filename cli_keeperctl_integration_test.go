//go:build integration

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/keeper"
)

// gone reports whether process pid has exited (a zombie has, too).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// lockFree reports whether the keeper lock of the test data dir can be
// taken (and releases it again).
func lockFree(t *testing.T) bool {
	t.Helper()
	f, err := os.OpenFile(keeper.LockPath(ctrEnv.DataDir), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return true
}

// stopKeeperClearLog stops the test data dir's keeper and removes its log
// (and rotated ones), leaving the next test the fresh node it expects
// (TestCLIKeeperLog reads one keeper's lifetime from keeper.log).
func stopKeeperClearLog(t *testing.T) {
	stopKeeper(t)
	logs, _ := filepath.Glob(keeper.LogPath(ctrEnv.DataDir) + "*")
	for _, l := range logs {
		os.Remove(l)
	}
}

// keeperPidOf reads the pid out of "keeper running (pid N)" or "stopped keeper (pid N)".
func keeperPidOf(t *testing.T, out string) int {
	t.Helper()
	i := strings.Index(out, "(pid ")
	if i < 0 {
		t.Fatalf("no pid in %q", out)
	}
	var pid int
	if _, err := fmt.Sscanf(out[i:], "(pid %d)", &pid); err != nil || pid <= 0 {
		t.Fatalf("no pid in %q: %v", out, err)
	}
	return pid
}

// TestCLIKeeperCtl: keeper restart starts a detached keeper, status shows
// it (pid, version, uptime, socket) and exits 0; logs shows and follows its
// log; stop ends it — the process is gone and the lock free — after which
// status exits 4 and a second stop is no error; restart replaces a running
// keeper with a new process.
func TestCLIKeeperCtl(t *testing.T) {
	stopKeeper(t)
	t.Cleanup(func() { stopKeeperClearLog(t) })
	if r := budgie(t, "keeper", "status"); r.code != 4 || !strings.Contains(r.stdout, "not running") || !strings.Contains(r.stderr, "no keeper runs") {
		t.Fatalf("status without a keeper: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	pid := keeperPidOf(t, must(t, "keeper", "restart"))
	if gone(pid) {
		t.Fatalf("keeper pid %d is not running", pid)
	}
	status := must(t, "keeper", "status")
	for _, want := range []string{"keeper:   running", fmt.Sprintf("pid:      %d", pid), "version:", "uptime:", "socket:   " + keeper.SocketPath(ctrEnv.DataDir)} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	var st struct {
		Running bool      `json:"running"`
		Pid     int       `json:"pid"`
		Version string    `json:"version"`
		Started time.Time `json:"started"`
		Socket  string    `json:"socket"`
	}
	if err := json.Unmarshal([]byte(must(t, "keeper", "status", "--format", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Running || st.Pid != pid || st.Version == "" || time.Since(st.Started) > time.Minute || st.Socket != keeper.SocketPath(ctrEnv.DataDir) {
		t.Errorf("status --format json: %+v, want the running keeper %d", st, pid)
	}

	// The log: the keeper's start line, with its pid; -n 1 is the last line.
	running := fmt.Sprintf("pid=%d", pid)
	var log string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !strings.Contains(log, running); time.Sleep(50 * time.Millisecond) {
		log = must(t, "keeper", "logs")
	}
	if !strings.Contains(log, "keeper running") || !strings.Contains(log, running) {
		t.Errorf("keeper logs lacks the start of pid %d:\n%s", pid, log)
	}
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if last := must(t, "keeper", "logs", "-n", "1"); last != lines[len(lines)-1]+"\n" {
		t.Errorf("logs -n 1 = %q, want the last line %q", last, lines[len(lines)-1])
	}
	follow := startStream(t, "keeper", "logs", "-f", "-n", "0")
	time.Sleep(500 * time.Millisecond) // -n 0: only what comes after this

	out := must(t, "keeper", "stop")
	if got := keeperPidOf(t, out); got != pid || !strings.HasPrefix(out, "stopped keeper") {
		t.Errorf("stop printed %q, want pid %d stopped", out, pid)
	}
	if !gone(pid) {
		t.Errorf("keeper pid %d still runs after stop", pid)
	}
	if !lockFree(t) {
		t.Errorf("the keeper lock is still held after stop")
	}
	follow.waitLine(t, "keeper stopped (followed)", 10*time.Second, func(l string) bool { return strings.Contains(l, "keeper stopped") })
	for _, l := range follow.snapshot() {
		if strings.Contains(l, "keeper running") {
			t.Errorf("logs -f -n 0 printed an old line: %q", l)
		}
	}
	if r := budgie(t, "keeper", "status"); r.code != 4 || !strings.Contains(r.stdout, "not running") {
		t.Errorf("status after stop: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := budgie(t, "keeper", "stop"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no keeper runs") {
		t.Errorf("stop without a keeper: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	// restart of a running keeper: a new process, the old one gone.
	first := keeperPidOf(t, must(t, "keeper", "restart"))
	second := keeperPidOf(t, must(t, "keeper", "restart"))
	if first == second || !gone(first) || gone(second) {
		t.Errorf("restart: first %d (gone %v), second %d (gone %v); want a new process", first, gone(first), second, gone(second))
	}
	if st := must(t, "keeper", "status"); !strings.Contains(st, fmt.Sprintf("pid:      %d", second)) {
		t.Errorf("status after restart:\n%s", st)
	}
}

// TestCLIKeeperStopWedged: a keeper that ignores SIGTERM is killed after
// --time, and stop says so.
func TestCLIKeeperStopWedged(t *testing.T) {
	stopKeeper(t)
	t.Cleanup(func() { stopKeeperClearLog(t) })
	pid := keeperPidOf(t, must(t, "keeper", "restart"))
	// SIGSTOP: the keeper cannot act on SIGTERM (the kernel still delivers SIGKILL).
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	start := time.Now()
	out := must(t, "keeper", "stop", "-t", "1")
	if !strings.HasPrefix(out, fmt.Sprintf("killed keeper (pid %d)", pid)) {
		t.Errorf("stop of a wedged keeper printed %q", out)
	}
	if d := time.Since(start); d < time.Second || d > 15*time.Second {
		t.Errorf("stop -t 1 took %s", d)
	}
	if !gone(pid) || !lockFree(t) {
		t.Errorf("after the kill: gone %v, lock free %v", gone(pid), lockFree(t))
	}
}
