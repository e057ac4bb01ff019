package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// TopOptions tune Top.
type TopOptions struct {
	// PsArgs are options for the host's ps (e.g. "aux", "-o pid,rss,args");
	// empty means Budgie reads /proc itself: PID, USER, TIME, CMD. The
	// output of ps must have a PID column.
	PsArgs []string
}

// TopResult is a container's process table: a header and one row per
// process, docker top's shape.
type TopResult struct {
	// Titles are the column names.
	Titles []string `json:"Titles"`
	// Processes are the rows, one cell per title.
	Processes [][]string `json:"Processes"`
}

// maxCmdline bounds what is read of one process's command line.
const maxCmdline = 4096

// Top lists the processes of a running (or paused) container, as the host
// sees them: the task's PIDs from containerd, described from the host's
// /proc, or by the host's ps run with opts.PsArgs and filtered to them.
// Command lines come from the container and are not trusted: control
// characters are shown escaped.
func (e *Engine) Top(ctx context.Context, ref string, opts TopOptions) (TopResult, error) {
	c, task, tctx, err := e.task(ctx, ref)
	if err != nil {
		return TopResult{}, err
	}
	infos, err := task.Pids(tctx)
	if err != nil {
		return TopResult{}, fmt.Errorf("list processes of %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	pids := make([]int, 0, len(infos))
	for _, p := range infos {
		pids = append(pids, int(p.Pid))
	}
	slices.Sort(pids)
	if len(opts.PsArgs) > 0 {
		return psTop(ctx, opts.PsArgs, pids)
	}
	res := TopResult{Titles: []string{"PID", "USER", "TIME", "CMD"}}
	for _, pid := range pids {
		row, err := procRow("/proc", pid)
		if err != nil {
			continue // it exited meanwhile
		}
		res.Processes = append(res.Processes, row)
	}
	return res, nil
}

// procRow describes one process from procfs: PID, USER, TIME, CMD.
func procRow(procfs string, pid int) ([]string, error) {
	dir := filepath.Join(procfs, strconv.Itoa(pid))
	stat, err := readBounded(filepath.Join(dir, "stat"), 4096)
	if err != nil {
		return nil, err
	}
	comm, ticks, err := parseStat(stat)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	status, err := readBounded(filepath.Join(dir, "status"), 16384)
	if err != nil {
		return nil, err
	}
	cmdline, _ := readBounded(filepath.Join(dir, "cmdline"), maxCmdline)
	cmd := strings.TrimRight(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})), " ")
	if cmd == "" {
		cmd = "[" + comm + "]"
	}
	return []string{strconv.Itoa(pid), userName(statusUID(status)), cpuTime(ticks), printable(cmd)}, nil
}

// parseStat returns the command name and the user+system CPU time in
// clock ticks from /proc/PID/stat. The name may hold ") ": the fields
// start after the last one.
func parseStat(stat []byte) (string, uint64, error) {
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("malformed stat")
	}
	fields := strings.Fields(s[end+1:])
	// fields[0] is the state (stat field 3); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return "", 0, fmt.Errorf("malformed stat: %d fields", len(fields))
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("malformed stat times")
	}
	return s[open+1 : end], utime + stime, nil
}

// statusUID returns the real UID from /proc/PID/status, or "?".
func statusUID(status []byte) string {
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return "?"
}

// userName is the host's name for uid, or the number (ps shows the host's
// names too).
func userName(uid string) string {
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}

// cpuTime formats clock ticks (USER_HZ, 100 on Linux) as ps's TIME: [DD-]HH:MM:SS.
func cpuTime(ticks uint64) string {
	secs := ticks / 100
	d, h, m, s := secs/86400, secs/3600%24, secs/60%60, secs%60
	if d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// printable escapes what a terminal would act on (a container chooses its
// processes' command lines).
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) || r == ' ' {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// readBounded reads at most limit bytes of a file.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// psTop runs the host's ps with args and keeps its header and the rows
// whose PID is one of pids, as docker top does.
func psTop(ctx context.Context, args []string, pids []int) (TopResult, error) {
	out, err := exec.CommandContext(ctx, "ps", args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return TopResult{}, fmt.Errorf("ps %s: %v %s (give ps options, such as aux or -o pid,args): %w",
			strings.Join(args, " "), err, msg, errdefs.ErrInvalid)
	}
	return filterPs(string(out), pids)
}

// filterPs parses ps output: the header's PID column says which rows
// belong; the last column keeps its spaces (a command line).
func filterPs(out string, pids []int) (TopResult, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := slices.Index(titles, "PID")
	if col < 0 {
		return TopResult{}, fmt.Errorf("ps output has no PID column (add pid, e.g. -o pid,args): %w", errdefs.ErrInvalid)
	}
	res := TopResult{Titles: titles}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		if len(f) > len(titles) { // the last column is a command with spaces
			rest := strings.Join(f[len(titles)-1:], " ")
			f = append(f[:len(titles)-1], rest)
		}
		for i := range f {
			f[i] = printable(f[i])
		}
		res.Processes = append(res.Processes, f)
	}
	return res, nil
}
