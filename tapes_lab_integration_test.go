//go:build integration

package main

// Where a tape runs: a directory holding vhs/'s bundles, and either the
// test's containerd (cleaned of what the tape made) or a lab of nodes.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// labSpec is a "# lab: N BUNDLE…" line: a lab of nodes nodes where node1
// runs and shares the bundles (files of vhs/).
type labSpec struct {
	nodes   int
	bundles []string
}

var labRe = regexp.MustCompile(`^# lab:\s*(\d+)((?:\s+\S+\.bun)+)\s*$`)

// parseLab reads a "# lab: N BUNDLE…" line.
func parseLab(line string) (*labSpec, error) {
	m := labRe.FindStringSubmatch(line)
	if m == nil {
		return nil, fmt.Errorf("%q: want \"# lab: NODES BUNDLE.bun…\" (a lab of NODES nodes whose node1 runs and shares the bundles)", line)
	}
	n, _ := strconv.Atoi(m[1])
	if n < 2 || n > 5 {
		return nil, fmt.Errorf("%q: a tape's lab has 2 to 5 nodes", line)
	}
	return &labSpec{nodes: n, bundles: strings.Fields(m[2])}, nil
}

// startTapeLab brings up the lab a tape's "# lab: N BUNDLE…" line asks
// for — N nodes (network namespaces on a bridge, each with its own
// containerd and keeper), node1 running and sharing the bundles of dir,
// every node trusting every other (testkit's Lab.ShareDemo) — and returns
// the command line of a shell acting as the last node: in its network
// namespace, with a budgie on PATH that uses that node's budgie.yaml. The
// lab is torn down when the test ends. A human records such a tape with
// tools/labup -share (see vhs/README.md).
func startTapeLab(t *testing.T, spec *labSpec, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	lab, err := testkit.StartLab(ctx, testkit.LabOptions{Nodes: spec.nodes, Binary: binary})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("close the tape's lab: %v", err)
		}
	})
	var bundles []string
	for _, b := range spec.bundles {
		bundles = append(bundles, filepath.Join(dir, b))
	}
	if err := lab.ShareDemo(ctx, bundles...); err != nil {
		t.Fatal(err)
	}
	last := lab.Nodes[len(lab.Nodes)-1]
	shell, err := last.ShellCommand(t.TempDir(), "bash --norc --noprofile")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lab %s: %d nodes, node1 sharing %v, ready in %v; the tape runs on %s", lab.Name, spec.nodes, spec.bundles, time.Since(start).Round(time.Second), last.Name)
	return shell
}

// copyBundles copies vhs/*.bun into a new directory, where the tape runs;
// its short name (/tmp/vhs-N) is what the screens show of it.
func copyBundles(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vhs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bundles, _ := filepath.Glob("vhs/*.bun")
	for _, b := range bundles {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(b)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// removeWhatTapesMake notes the test containerd's containers, networks
// and secrets, and removes those the tape adds when the test ends.
func removeWhatTapesMake(t *testing.T) {
	t.Helper()
	kinds := []struct{ list, remove []string }{
		{[]string{"ps", "-a", "--format", "{{.Name}}"}, []string{"rm", "-f"}},
		{[]string{"network", "ls", "-q"}, []string{"network", "rm"}},
		{[]string{"secret", "ls", "-q"}, []string{"secret", "rm", "-f"}},
	}
	before := make([][]string, len(kinds))
	for i, k := range kinds {
		before[i] = strings.Fields(must(t, k.list...))
	}
	t.Cleanup(func() {
		for i, k := range kinds {
			var added []string
			for _, name := range strings.Fields(budgie(t, k.list...).stdout) {
				if !slices.Contains(before[i], name) {
					added = append(added, name)
				}
			}
			if len(added) > 0 {
				if r := budgie(t, append(k.remove, added...)...); r.code != 0 {
					t.Errorf("budgie %s %s: exit %d: %s", strings.Join(k.remove, " "), strings.Join(added, " "), r.code, r.stderr)
				}
			}
		}
	})
}
