// Command benchrun is `make bench`'s harness: it compares Budgie with its
// peers on this machine — one private containerd, one busybox-static image,
// the two sides alternated and repeated — prints a table per comparison and
// writes docs/BENCHMARKS.md with the machine's description and the date.
// A missed goal never fails it; it exits non-zero only when a measurement
// cannot be taken, and says which. It needs root.
//
//	go run ./tools/benchrun [-budgie bin/budgie] [-o docs/BENCHMARKS.md] [-rows nest,sync]
//
// -rows measures only the named rows (run, ps, nest, web, discovery,
// proxy, sync), for iterating on one; `make bench` measures them all. With
// -o naming an existing document, a partial run replaces only its rows'
// sections and goals there, each saying when and where it was measured.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// options are the command-line flags.
type options struct {
	budgie, out, repo  string
	runReps, psReps    int
	nestReps           int
	psCount, nestCount int
	webReps, webFlips  int
	webIdle            time.Duration
	rows               string
}

// rowNames are the rows in the order they are measured.
var rowNames = []string{"run", "ps", "nest", "web", "discovery", "proxy", "sync"}

// wants reports whether -rows names row (an empty -rows names all).
func (o options) wants(row string) bool {
	return o.rows == "" || slices.Contains(strings.Split(o.rows, ","), row)
}

// checkRows refuses a -rows entry that names no row.
func (o options) checkRows() error {
	if o.rows == "" {
		return nil
	}
	for _, r := range strings.Split(o.rows, ",") {
		if !slices.Contains(rowNames, r) {
			return fmt.Errorf("-rows: unknown row %q (rows: %s)", r, strings.Join(rowNames, ","))
		}
	}
	return nil
}

func main() {
	var o options
	flag.StringVar(&o.budgie, "budgie", "", "budgie binary to measure (empty: build one from -repo)")
	flag.StringVar(&o.out, "o", "", "write the Markdown report here (empty: stdout only)")
	flag.StringVar(&o.repo, "repo", ".", "root of the Budgie source tree")
	flag.IntVar(&o.runReps, "run-reps", 30, "repetitions of each side of run → running")
	flag.IntVar(&o.psReps, "ps-reps", 20, "repetitions of each side of ps")
	flag.IntVar(&o.nestReps, "nest-reps", 10, "timed nest starts")
	flag.IntVar(&o.psCount, "ps-containers", 300, "running containers for ps")
	flag.IntVar(&o.nestCount, "nest-containers", 500, "containers for nest and web")
	flag.IntVar(&o.webReps, "web-reps", 10, "timed loads of the dashboard's containers page")
	flag.IntVar(&o.webFlips, "web-flips", 20, "container state changes timed to the dashboard")
	flag.DurationVar(&o.webIdle, "web-idle", time.Minute, "window of each keeper CPU reading at rest (web)")
	flag.StringVar(&o.rows, "rows", "", "measure only these rows, comma-separated ("+strings.Join(rowNames, ",")+"); empty: all")
	flag.Parse()
	if err := o.checkRows(); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(2)
	}
	if err := runAll(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

// runAll measures every row and writes the report. Rows measured before a
// failing one are still printed; the error names the row that failed.
func runAll(ctx context.Context, o options) error {
	budgie, err := budgieBinary(o)
	if err != nil {
		return err
	}
	machine := describeMachine()
	availBefore, err := meminfo("MemAvailable")
	if err != nil {
		return err
	}
	b, err := open(ctx, budgie)
	if err != nil {
		return err
	}
	defer b.close()
	var rows []Row
	step := func(name string, f func() (Row, error)) error {
		if !o.wants(name) {
			return nil
		}
		fmt.Fprintf(os.Stderr, "benchrun: measuring %s…\n", name)
		r, err := f()
		if err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	}
	multi := func(name string, f func() ([]Row, error)) error {
		if !o.wants(name) {
			return nil
		}
		fmt.Fprintf(os.Stderr, "benchrun: measuring %s…\n", name)
		r, err := f()
		rows = append(rows, r...)
		return err
	}
	err = step("run", func() (Row, error) { return b.runRow(o.runReps) })
	have, population := 0, ""
	if err == nil {
		err = step("ps", func() (Row, error) { have = o.psCount; return b.psRow(ctx, o.psCount, o.psReps) })
	}
	if err == nil {
		err = step("nest", func() (Row, error) {
			p, err := b.fillTo(ctx, have, o.nestCount, availBefore)
			if err != nil {
				return Row{}, fmt.Errorf("nest: set up %d containers: %w", o.nestCount, err)
			}
			have, population = o.nestCount, p
			return b.nestRow(o.nestCount, o.nestReps, o.repo, population)
		})
	}
	if err == nil {
		err = step("web", func() (Row, error) {
			if have < o.nestCount { // nest did not run: make the containers it would have
				p, err := b.webPopulation(ctx, have, o.psCount, o.nestCount, availBefore)
				if err != nil {
					return Row{}, fmt.Errorf("web: set up %d containers: %w", o.nestCount, err)
				}
				have, population = o.nestCount, p
			}
			return b.webRow(ctx, webScale{containers: o.nestCount, reps: o.webReps, flips: o.webFlips, idle: o.webIdle}, population)
		})
	}
	if err == nil {
		err = step("discovery", func() (Row, error) { return discoveryRow(o.repo, 20) })
	}
	if err == nil {
		err = multi("proxy", func() ([]Row, error) { return b.proxyRows(ctx, o.repo, 3, 5*time.Second) })
	}
	if err == nil {
		err = multi("sync", func() ([]Row, error) { return syncRows(defaultSyncScale) })
	}
	if werr := report(machine, rows, o.out, o.measured()); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("measurement failed: %w", err)
	}
	return nil
}

// budgieBinary returns the absolute path of -budgie, or builds one.
func budgieBinary(o options) (string, error) {
	if o.budgie != "" {
		abs, err := filepath.Abs(o.budgie)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("budgie binary %s (try: make build): %w", abs, err)
		}
		return abs, nil
	}
	cmd := exec.Command("go", "build", "-o", "bin/budgie", ".")
	cmd.Dir = o.repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build budgie: %w\n%s", err, b)
	}
	return filepath.Abs(filepath.Join(o.repo, "bin", "budgie"))
}

// measured are the row groups a partial run (-rows) measured; nil for a
// full run.
func (o options) measured() []string {
	if o.rows == "" {
		return nil
	}
	return strings.Split(o.rows, ",")
}

// report prints every row's table and writes the document to path. A
// partial run (groups set) into an existing document replaces only its
// groups' sections and goals there (mergeDocument).
func report(m Machine, rows []Row, path string, groups []string) error {
	var doc bytes.Buffer
	RenderDocument(&doc, m, rows)
	os.Stdout.Write(doc.Bytes())
	if path == "" {
		return nil
	}
	out := doc.Bytes()
	if old, err := os.ReadFile(path); err == nil && groups != nil {
		merged, err := mergeDocument(string(old), m, rows, groups)
		if err != nil {
			return fmt.Errorf("merge the %s rows into %s: %w", strings.Join(groups, ","), path, err)
		}
		out = []byte(merged)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintln(os.Stderr, "benchrun: wrote", path)
	return nil
}
