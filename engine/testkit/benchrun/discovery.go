package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// discoveryGoal is issue 6's: a container started on node A appears on node B within ~1 s.
const discoveryGoal = 1.0

var appearRe = regexp.MustCompile(`([0-9.]+) appear-ms\s+([0-9.]+) max-appear-ms`)

// discoveryRow runs the lab benchmark (engine/discovery's
// BenchmarkTimeToDiscover on a 2-node lab of network namespaces) and reads
// its mean and worst start-to-listed times.
func discoveryRow(repo string, reps int) (Row, error) {
	cmd := exec.Command("go", "test", "-tags", "integration", "-run", "^$", "-bench", "TimeToDiscover",
		"-benchtime", strconv.Itoa(reps)+"x", "./engine/discovery/")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Row{}, fmt.Errorf("discovery benchmark: %w\n%s", err, out)
	}
	mean, worst, err := parseAppear(string(out))
	if err != nil {
		return Row{}, err
	}
	meanF := Figure{Value: mean / 1000, Unit: Seconds}
	worstF := Figure{Value: worst / 1000, Unit: Seconds}
	none := Absent("no peer: no other LAN container browser runs here")
	goal := "listed on node B within ~1 s"
	return Row{
		Title:  "discovery",
		Budgie: "container started on lab node A (keeper in its own network namespace)",
		Peer:   "—",
		Lines: []Line{
			{Measure: "time until listed on node B, mean", Budgie: meanF, Peer: none, Reps: strconv.Itoa(reps) + " containers", Goal: goal, Verdict: Verdict(meanF, meanF.Value <= discoveryGoal)},
			{Measure: "time until listed on node B, worst", Budgie: worstF, Peer: none, Reps: strconv.Itoa(reps) + " containers", Goal: goal, Verdict: Verdict(worstF, worstF.Value <= discoveryGoal)},
		},
		Notes: []string{"From the container's start on node A until node B's keeper reports it (its event stream), over mDNS between two network namespaces on a bridge; `go test -tags integration -bench TimeToDiscover ./engine/discovery/`."},
	}, nil
}

// parseAppear reads the appear-ms and max-appear-ms metrics of the benchmark.
func parseAppear(out string) (mean, worst float64, err error) {
	m := appearRe.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("discovery benchmark printed no appear-ms figures:\n%s", out)
	}
	mean, _ = strconv.ParseFloat(m[1], 64)
	worst, _ = strconv.ParseFloat(m[2], 64)
	return mean, worst, nil
}
