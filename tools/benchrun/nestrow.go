package main

import (
	"context"
	"fmt"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// Issue 3's goals for nest.
const (
	goalFirstFrame = 150 * time.Millisecond
	goalPerKey     = 5 * time.Millisecond
)

// noPeer is what the peer column says for nest: lazydocker needs Docker
// and k9s needs Kubernetes, and neither runs here.
const noPeer = "no peer available here"

// fillTo brings the namespace from have to total containers: running when
// the memory the running ones took (measured since availBefore KiB) fits
// twice over with 2 GiB to spare, else created. It says which.
func (b *bench) fillTo(ctx context.Context, have, total int, availBefore int64) (string, error) {
	avail, err := meminfo("MemAvailable")
	if err != nil {
		return "", err
	}
	perKiB := max(availBefore-avail, 0) / int64(max(have, 1))
	start := avail-2*perKiB*int64(total-have) > 2<<20
	if err := b.populate(ctx, have, total, start); err != nil {
		return "", err
	}
	state := "created (not running)"
	if start {
		state = "running"
	}
	return fmt.Sprintf("%d running + %d %s (a running container took about %d MiB here; %d MiB were available)",
		have, total-have, state, perKiB>>10, avail>>10), nil
}

// nestRow measures nest with total containers: end-to-end first frame in
// tmux (reps starts), Update+View per key from the app package's Go
// benchmarks, and CPU and terminal output while idle for 10 s.
func (b *bench) nestRow(total, reps int, repo, population string) (Row, error) {
	t := &tmux{socket: fmt.Sprintf("budgie-bench-%d", time.Now().UnixNano())}
	defer t.killServer()
	ready := []string{fmt.Sprintf("/%d running", total), "bench-"}
	var frames, tables []float64
	for i := -1; i < reps; i++ { // one warm-up start
		p, st, err := b.startNest(t, ready, 60*time.Second)
		if err != nil {
			return Row{}, fmt.Errorf("nest first frame: %w", err)
		}
		p.close()
		if i < 0 {
			// The warm-up start also started the node's keeper (nest does
			// when none runs, as on a user's first launch). Timed starts
			// measure nest beside a keeper at rest, as on a node in use.
			if err := b.keeperAtRest(time.Minute); err != nil {
				return Row{}, fmt.Errorf("nest: %w", err)
			}
			continue
		}
		frames, tables = append(frames, st.frame), append(tables, st.table)
	}
	p, _, err := b.startNest(t, ready, 60*time.Second)
	if err != nil {
		return Row{}, fmt.Errorf("nest idle: %w", err)
	}
	cpu, drawn, idleFrames, err := p.idle(b.work, 3*time.Second, 10*time.Second)
	p.close()
	if err != nil {
		return Row{}, fmt.Errorf("nest idle: %w", err)
	}
	res, err := goBench(repo, "./app/", "Key|FirstFrame", 5, "KeyPress", "FirstFrame")
	if err != nil {
		return Row{}, fmt.Errorf("nest per key: %w", err)
	}
	return nestLines(total, reps, population, frames, tables, idleDraw{cpu, drawn, idleFrames}, res), nil
}

// idleDraw is what nest did while idle: CPU percent of one core, bytes
// and frames written to the terminal.
type idleDraw struct {
	cpu    float64
	bytes  int64
	frames int
}

// nestLines assembles the nest row from its measurements.
func nestLines(total, reps int, population string, frames, tables []float64, idle idleDraw, res map[string][]float64) Row {
	ff, tb := Summarize(frames), Summarize(tables)
	key := Median(res["KeyPress"]) / 1e9
	model := Median(res["FirstFrame"]) / 1e9
	peer := Absent(noPeer)
	goalFF := fmt.Sprintf("first frame within %d ms", goalFirstFrame.Milliseconds())
	starts := fmt.Sprintf("%d starts", ff.N)
	return Row{
		Title:  fmt.Sprintf("nest with %d containers", total),
		Budgie: "budgie (nest) in a " + fmt.Sprint(paneWidth) + "×" + fmt.Sprint(paneHeight) + " tmux pane",
		Peer:   "lazydocker / k9s — " + noPeer + " (no Docker, no Kubernetes on this machine)",
		Lines: []Line{
			{Measure: "first frame, median", Budgie: Dur(ff.Median), Peer: peer, Reps: starts, Goal: goalFF,
				Verdict: Verdict(Dur(ff.Median), ff.Median <= goalFirstFrame.Seconds())},
			{Measure: "first frame, p95", Budgie: Dur(ff.P95), Peer: peer, Reps: starts, Goal: goalFF,
				Verdict: Verdict(Dur(ff.P95), ff.P95 <= goalFirstFrame.Seconds())},
			{Measure: fmt.Sprintf("table with all %d containers, median", total), Budgie: Dur(tb.Median), Peer: peer, Reps: starts},
			{Measure: fmt.Sprintf("table with all %d containers, p95", total), Budgie: Dur(tb.P95), Peer: peer, Reps: starts},
			{Measure: "Update+View per key", Budgie: Dur(key), Peer: peer, Reps: "median of 5 `go test -bench` runs",
				Goal: fmt.Sprintf("under %d ms per key with 500 containers", goalPerKey.Milliseconds()), Verdict: Verdict(Dur(key), key < goalPerKey.Seconds())},
			{Measure: "idle CPU over 10 s", Budgie: Figure{Value: idle.cpu, Unit: Percent}, Peer: peer, Reps: "1 × 10 s"},
			{Measure: "drawn while idle (10 s)", Budgie: Figure{Text: fmt.Sprintf("%d B in %d frames", idle.bytes, idle.frames)},
				Peer: peer, Reps: "1 × 10 s", Goal: "no redraw while idle", Verdict: Verdict(Dur(0), idle.bytes == 0)},
		},
		Notes: []string{
			"Containers: " + population + ".",
			fmt.Sprintf("First frame: from releasing the pane's shell (which then execs `budgie`) until the pane shows nest "+
				"(its tab bar), polling `tmux capture-pane` every 5 ms, after one untimed warm-up start, which also starts the node's keeper "+
				"(nest does when none runs); timed starts begin once the keeper used under 2 %% of a core for a second. Table: until the "+
				"container table is filled (a `bench-` row and `/%d running` in the status bar); that includes containerd "+
				"listing every task, which containerd 1.6 does by asking each task's shim.", total),
			fmt.Sprintf("Update+View per key: `go test -run '^$' -bench 'Key|FirstFrame' -count 5 ./app/` "+
				"(BenchmarkKeyPress: cursor down with 500 containers on an in-memory backend, ns/op). The same run's "+
				"BenchmarkFirstFrame (model built, loaded and drawn once, no terminal or containerd) gives %s.", Dur(model)),
			"Idle: 3 s after the table appeared, nest's utime+stime from /proc/PID/stat over 10 s (percent of one core) " +
				"and what it wrote to the terminal in that time (`tmux pipe-pane -O`; a frame is a 100 ms " +
				"interval in which that output grew); no key is pressed. nest polls container stats every 2 s (views/containers statsInterval) and " +
				"redraws only rows whose visible cells (UPTIME, CPU%, MEM) changed: seconds-old containers cause a frame " +
				"every 2 s, minutes-old ones only when an uptime rolls over (1m → 2m), so whether this window " +
				"holds a frame can differ between runs.",
		},
	}
}

// keeperAtRest waits until the node's keeper (started by nest) used under
// 2 % of a core over a whole second, for at most limit.
func (b *bench) keeperAtRest(limit time.Duration) error {
	pid, err := testkit.KeeperPid(b.env.DataDir)
	if err != nil {
		return err
	}
	if pid == 0 {
		return fmt.Errorf("no keeper answers after nest's first start (nest starts one when none runs)")
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		t0, err := cpuTicks(pid)
		if err != nil {
			return fmt.Errorf("keeper's CPU time: %w", err)
		}
		time.Sleep(time.Second)
		t1, err := cpuTicks(pid)
		if err != nil {
			return fmt.Errorf("keeper's CPU time: %w", err)
		}
		if float64(t1-t0)/clockTicks*100 < 2 {
			return nil
		}
	}
	return fmt.Errorf("the keeper (pid %d) was still busy %v after nest started it", pid, limit)
}
