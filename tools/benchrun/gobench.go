package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// benchLine matches a `go test -bench` result: name, -GOMAXPROCS suffix,
// iterations and ns/op.
var benchLine = regexp.MustCompile(`(?m)^Benchmark([^\s]+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// parseGoBench returns the ns/op figures of `go test -bench` output by
// benchmark name (without "Benchmark" and the -N suffix), one per -count.
func parseGoBench(out string) map[string][]float64 {
	res := map[string][]float64{}
	for _, m := range benchLine.FindAllStringSubmatch(out, -1) {
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		res[m[1]] = append(res[m[1]], ns)
	}
	return res
}

// goBench runs the named benchmarks of pkg count times and returns their
// ns/op figures; every name must have count results.
func goBench(dir, pkg, pattern string, count int, names ...string) (map[string][]float64, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-count", strconv.Itoa(count), pkg)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %w\n%s", pattern, pkg, err, out)
	}
	res := parseGoBench(string(out))
	for _, n := range names {
		if len(res[n]) != count {
			return nil, fmt.Errorf("go test -bench %s %s: %d results for %s, want %d\n%s", pattern, pkg, len(res[n]), n, count, out)
		}
	}
	return res, nil
}
