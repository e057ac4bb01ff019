package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/internal/testkit"
)

// image is the busybox-static image both sides run.
const image = "docker.io/library/budgie-bench:1"

// bench is one benchmark run: the private containerd, the budgie binary
// and an in-process engine for setting up containers.
type bench struct {
	env    *testkit.Env
	budgie string // absolute path of the budgie binary
	home   string // HOME for budgie invocations
	work   string // scratch directory (bundles, pane logs)
	eng    *engine.Engine
}

// open starts the private containerd, loads the image and opens an
// in-process engine whose log driver is the budgie binary.
func open(ctx context.Context, budgie string) (*bench, error) {
	env, err := testkit.StartContainerd("")
	if err != nil {
		return nil, fmt.Errorf("start private containerd: %w", err)
	}
	b := &bench{env: env, budgie: budgie}
	if err := env.LoadBusybox(testkit.ImageOptions{Ref: image, Cmd: []string{"sleep", "3600"}}); err != nil {
		b.close()
		return nil, fmt.Errorf("load busybox image: %w", err)
	}
	if b.work, err = os.MkdirTemp("", "budgie-bench"); err != nil {
		b.close()
		return nil, err
	}
	b.home = b.work
	cfg := config.Default()
	cfg.Containerd.Address = env.Conn.Address
	cfg.Containerd.Namespace = testkit.Namespace
	cfg.DataDir = env.DataDir
	cfg.Networks.DefaultBridge, cfg.Networks.DefaultSubnet = testkit.TestBridge, testkit.TestSubnet
	if b.eng, err = engine.Open(ctx, cfg, engine.OpenOptions{NoStart: true, LogBinary: budgie}); err != nil {
		b.close()
		return nil, fmt.Errorf("open engine on the private containerd: %w", err)
	}
	return b, nil
}

// close removes every container, stops containerd and deletes scratch files.
func (b *bench) close() {
	if b.eng != nil {
		b.eng.Close()
	}
	if err := b.env.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun: cleanup:", err)
	}
	if b.work != "" {
		os.RemoveAll(b.work)
	}
}

// envVars point budgie at the private containerd.
func (b *bench) envVars() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + b.home,
		"BUDGIE_CONTAINERD_ADDRESS=" + b.env.Conn.Address,
		"BUDGIE_CONTAINERD_NAMESPACE=" + testkit.Namespace,
		"BUDGIE_DATA_DIR=" + b.env.DataDir,
		"BUDGIE_NETWORKS_DEFAULT_BRIDGE=" + testkit.TestBridge,
		"BUDGIE_NETWORKS_DEFAULT_SUBNET=" + testkit.TestSubnet,
	}
}

// budgieCmd is `budgie --headless ARGS` against the private containerd.
func (b *bench) budgieCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(b.budgie, append([]string{"--headless"}, args...)...)
	cmd.Env = b.envVars()
	cmd.Dir = b.work
	return cmd
}

// ctrCmd is `ctr ARGS` against the private containerd and namespace.
func (b *bench) ctrCmd(args ...string) *exec.Cmd {
	return exec.Command("ctr", append([]string{"-a", b.env.Conn.Address, "-n", testkit.Namespace}, args...)...)
}

// timed runs cmd and returns its wall time in seconds and its output; a
// non-zero exit is an error carrying the output.
func timed(cmd *exec.Cmd) (float64, string, error) {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start).Seconds()
	if err != nil {
		return elapsed, string(out), fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return elapsed, string(out), nil
}

// run runs cmd untimed.
func run(cmd *exec.Cmd) error {
	_, _, err := timed(cmd)
	return err
}

// alternate runs one untimed warm-up of each side, then n timed runs of
// each, alternating Budgie and peer, and returns the seconds each took.
func alternate(n int, budgie, peer func() (float64, error)) (bs, ps []float64, err error) {
	for i := -1; i < n; i++ {
		b, err := budgie()
		if err != nil {
			return nil, nil, fmt.Errorf("budgie side: %w", err)
		}
		p, err := peer()
		if err != nil {
			return nil, nil, fmt.Errorf("peer side: %w", err)
		}
		if i >= 0 {
			bs, ps = append(bs, b), append(ps, p)
		}
	}
	return bs, ps, nil
}

// timeLines are the median and p95 lines of a two-sided time comparison.
func timeLines(bs, ps []float64) []Line {
	b, p := Summarize(bs), Summarize(ps)
	reps := fmt.Sprintf("%d + %d, alternated", b.N, p.N)
	return []Line{
		{Measure: "median", Budgie: Dur(b.Median), Peer: Dur(p.Median), Reps: reps},
		{Measure: "p95", Budgie: Dur(b.P95), Peer: Dur(p.P95), Reps: reps},
	}
}
