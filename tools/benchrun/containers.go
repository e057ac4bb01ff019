package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// runRow times `budgie --headless run BUNDLE` against `ctr run -d
// --seccomp` (the default seccomp profile Budgie gives every container,
// as Docker does), each returning once the task runs; both sides' containers are removed
// (untimed) after every run. A second pass runs bundles that say
// `networks: [none]`, the work ctr's side does (no network), against ctr
// again.
func (b *bench) runRow(n int) (Row, error) {
	seq := 0
	var phases phaseTimes
	budgieSide := func(networks string) func() (float64, error) {
		first := seq + 1
		return func() (float64, error) {
			seq++
			name := fmt.Sprintf("runbench-%d", seq)
			path := filepath.Join(b.work, name+".bun")
			bundle := "name: " + name + "\nimage: " + image + "\nargs: [sleep, '3600']\n" + networks
			if err := os.WriteFile(path, []byte(bundle), 0o644); err != nil {
				return 0, err
			}
			cmd := b.budgieCmd("run", path)
			cmd.Env = append(cmd.Env, "BUDGIE_TIMINGS=1")
			secs, out, err := timed(cmd)
			if err != nil {
				return 0, err
			}
			if seq > first && networks == "" { // the first is alternate's untimed warm-up
				if err := phases.add(out, secs); err != nil {
					return 0, err
				}
			}
			return secs, run(b.budgieCmd("rm", "-f", name))
		}
	}
	peerSide := func() (float64, error) {
		id := fmt.Sprintf("ctrbench-%d", seq)
		secs, _, err := timed(b.ctrCmd("run", "-d", "--seccomp", image, id, "sleep", "3600"))
		if err != nil {
			return 0, err
		}
		if err := run(b.ctrCmd("task", "rm", "-f", id)); err != nil {
			return 0, err
		}
		return secs, run(b.ctrCmd("container", "rm", id))
	}
	bs, ps, err := alternate(n, budgieSide(""), peerSide)
	if err != nil {
		return Row{}, fmt.Errorf("run → running: %w", err)
	}
	nbs, nps, err := alternate(n, budgieSide("networks: [none]\n"), peerSide)
	if err != nil {
		return Row{}, fmt.Errorf("run → running, no network: %w", err)
	}
	lines := timeLines(bs, ps)
	med := &lines[0]
	med.Goal = fmt.Sprintf("≤ %.2f× ctr's", runGoal)
	med.Verdict = Verdict(med.Budgie, med.Budgie.Value <= runGoal*med.Peer.Value)
	for _, l := range timeLines(nbs, nps) {
		l.Measure += ", `networks: [none]` (no network, as ctr's)"
		lines = append(lines, l)
	}
	return Row{
		Title:  "run → running",
		Budgie: "budgie --headless run BUNDLE.bun",
		Peer:   "`ctr run -d --seccomp IMAGE ID sleep 3600`",
		Lines:  lines,
		Notes: []string{"Both commands return once the task runs; the container is `sleep 3600` from the same " +
			"busybox-static image, in an otherwise empty namespace. Removal after each run is not timed. " +
			"Both get containerd's default seccomp profile (`--seccomp`; Budgie applies it to every container, " +
			"as Docker does; without it ctr's side skips compiling and loading the filter, 25–50 ms here). " +
			"Budgie's side also records its labels, starts its log driver and joins the default network as a " +
			"bundle asks; ctr's container gets no network and logs nowhere. The `networks: [none]` lines are a " +
			"second pass (after the first, alternated with ctr again) whose bundles ask for no network: the " +
			"network work ctr's side does, with Budgie's labels and log driver still in.",
			"Where Budgie's time goes: each timed run of the first pass had `BUDGIE_TIMINGS=1`, which prints the " +
				"command's phases (cli/timings.go, engine/timing); the median of each over the timed runs. A phase's " +
				"sub-phases (↳) are part of it; `(process start and exit)` is the wall time outside `main` (loading " +
				"the binary, Go's start-up, exit).",
			phases.table()},
	}, nil
}

// populate brings the namespace to total containers named bench-NNN,
// running when start is true, else created; workers make them at once.
func (b *bench) populate(ctx context.Context, from, total int, start bool) error {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				spec := models.ContainerSpec{Name: fmt.Sprintf("bench-%03d", i), Image: image, Args: []string{"sleep", "3600"}}
				var err error
				if start {
					_, err = b.eng.Runtime.Run(ctx, spec, runtime.RunOptions{})
				} else {
					_, err = b.eng.Runtime.Create(ctx, spec, runtime.RunOptions{})
				}
				if err != nil {
					errs <- fmt.Errorf("create container %s: %w", spec.Name, err)
					next.Store(int64(total))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// psRow times `budgie --headless ps -a` against `ctr t ls` + `ctr c ls`
// with n running containers, which it creates first.
func (b *bench) psRow(ctx context.Context, containers, n int) (Row, error) {
	if err := b.populate(ctx, 0, containers, true); err != nil {
		return Row{}, fmt.Errorf("ps: set up %d running containers: %w", containers, err)
	}
	budgieSide := func() (float64, error) {
		secs, out, err := timed(b.budgieCmd("ps", "-a"))
		if err == nil && strings.Count(out, "\n") != containers+1 {
			err = fmt.Errorf("budgie ps -a listed %d lines, want %d", strings.Count(out, "\n"), containers+1)
		}
		return secs, err
	}
	// One shell runs both ctr commands, as a script that wanted ctr's
	// answer to `ps -a` would; the shell's own start is timed too, as
	// budgie's process start is on the other side.
	ctr := strings.Join(b.ctrCmd().Args, " ")
	peerSide := func() (float64, error) {
		secs, out, err := timed(exec.Command("sh", "-c", ctr+" t ls && "+ctr+" c ls"))
		if err == nil && strings.Count(out, "\n") < 2*containers {
			err = fmt.Errorf("ctr listed %d lines, want at least %d", strings.Count(out, "\n"), 2*containers)
		}
		return secs, err
	}
	bs, ps, err := alternate(n, budgieSide, peerSide)
	if err != nil {
		return Row{}, fmt.Errorf("ps with %d containers: %w", containers, err)
	}
	return Row{
		Title:  fmt.Sprintf("ps with %d containers", containers),
		Budgie: "budgie --headless ps -a",
		Peer:   "`sh -c 'ctr t ls && ctr c ls'` (one shell, both commands)",
		Lines:  timeLines(bs, ps),
		Notes: []string{fmt.Sprintf("%d running `sleep 3600` containers, made through the engine in-process "+
			"before timing. Budgie's list joins containers, tasks and its labels into one table "+
			"(checked: %d rows every time); ctr needs two commands for the same facts, timed as one shell running both (the shell's start included, as budgie's process start is; each output checked for every container).", containers, containers)},
	}, nil
}
