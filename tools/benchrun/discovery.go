package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// Goals of the discovery rows: issue 6's (a container started on node A
// appears on node B within ~1 s) and issue 16's (a graceful stop gone
// within 1 s, a killed keeper's containers within 30 s, at most 1 mDNS
// packet/s on an idle 3-node LAN, a node joining 20 × 100 containers
// lists them all within 3 s, under 1 % of a core per keeper at rest).
const (
	discoveryGoal = 1.0
	goodbyeGoal   = 1.0
	killedGoal    = 30.0
	idleGoal      = 1.0
	joinGoal      = 3.0
	idleCPUGoal   = 1.0
)

// metricRe matches one custom metric of a `go test -bench` line.
var metricRe = regexp.MustCompile(`([0-9.]+) ([a-z%/-]+)`)

// benchMetrics returns the custom metrics (unit → value) on the result
// line of benchmark name in out.
func benchMetrics(out, name string) (map[string]float64, error) {
	line := regexp.MustCompile(`(?m)^Benchmark` + name + `(?:-\d+)?\s+\d+\s+[0-9.]+ ns/op(.*)$`).FindStringSubmatch(out)
	if line == nil {
		return nil, fmt.Errorf("discovery benchmark %s printed no result:\n%s", name, out)
	}
	res := map[string]float64{}
	for _, m := range metricRe.FindAllStringSubmatch(line[1], -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			res[m[2]] = v
		}
	}
	return res, nil
}

// runDiscoveryBench runs the lab benchmarks matching pattern in
// engine/discovery, each reps times.
func runDiscoveryBench(repo, pattern string, reps int) (string, error) {
	cmd := exec.Command("go", "test", "-tags", "integration", "-p", "1", "-run", "^$", "-bench", pattern,
		"-benchtime", strconv.Itoa(reps)+"x", "./engine/discovery/")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("discovery benchmark %s: %w\n%s", pattern, err, out)
	}
	return string(out), nil
}

// discoveryRow runs the lab benchmarks (engine/discovery's
// BenchmarkTimeToDiscover on a 2-node lab, BenchmarkIdleMulticast on a
// 3-node lab, BenchmarkScale on 21 simulated nodes) and reads their metrics.
func discoveryRow(repo string, reps int) (Row, error) {
	out, err := runDiscoveryBench(repo, "TimeToDiscover", reps)
	if err != nil {
		return Row{}, err
	}
	lat, err := benchMetrics(out, "TimeToDiscover")
	if err != nil {
		return Row{}, err
	}
	out, err = runDiscoveryBench(repo, "IdleMulticast|^BenchmarkScale$", 1)
	if err != nil {
		return Row{}, err
	}
	idle, err := benchMetrics(out, "IdleMulticast")
	if err != nil {
		return Row{}, err
	}
	scale, err := benchMetrics(out, "Scale")
	if err != nil {
		return Row{}, err
	}
	out, err = runDiscoveryBench(repo, "ChirpAtScale", chirpReps)
	if err != nil {
		return Row{}, err
	}
	chirp, err := benchMetrics(out, "ChirpAtScale")
	if err != nil {
		return Row{}, err
	}
	keys, err := goBench(repo, "./views/peers/", "PeersKeyPress|PeersRefresh", 5, "PeersKeyPress", "PeersRefresh")
	if err != nil {
		return Row{}, fmt.Errorf("nest Peers per key: %w", err)
	}
	row := discoveryLines(lat, idle, scale, reps)
	row.Lines = append(row.Lines, scaleFrontLines(chirp, keys)...)
	row.Notes = append(row.Notes, scaleFrontNote)
	return row, nil
}

// chirpReps is how many times BenchmarkChirpAtScale runs chirp.
const chirpReps = 10

// Issue 16's goals for the front ends at 2,000 entries.
const (
	chirpGoal    = 1.0
	peersKeyGoal = 0.005
)

// scaleFrontLines are the chirp and nest Peers lines at 2,000 entries.
func scaleFrontLines(chirp map[string]float64, keys map[string][]float64) []Line {
	none := Absent("no peer: no other LAN container browser runs here")
	reps := strconv.Itoa(chirpReps) + " runs"
	mean, worst := chirp["chirp-ms"]/1000, chirp["max-chirp-ms"]/1000
	key, refresh := Median(keys["PeersKeyPress"])/1e9, Median(keys["PeersRefresh"])/1e9
	med := "median of 5 `go test -bench` runs"
	return []Line{
		{Measure: "`budgie chirp` lists 2,000 containers, mean", Budgie: Dur(mean), Peer: none, Reps: reps, Goal: "≤ 1 s", Verdict: Verdict(Dur(mean), mean <= chirpGoal)},
		{Measure: "`budgie chirp` lists 2,000 containers, worst", Budgie: Dur(worst), Peer: none, Reps: reps, Goal: "≤ 1 s", Verdict: Verdict(Dur(worst), worst <= chirpGoal)},
		{Measure: "nest Peers, 2,000 containers: Update+View per key", Budgie: Dur(key), Peer: none, Reps: med, Goal: "≤ 5 ms", Verdict: Verdict(Dur(key), key <= peersKeyGoal)},
		{Measure: "nest Peers, 2,000 containers: a refresh applied and drawn", Budgie: Dur(refresh), Peer: none, Reps: med, Goal: "≤ 5 ms", Verdict: Verdict(Dur(refresh), refresh <= peersKeyGoal)},
	}
}

// scaleFrontNote says how the chirp and nest Peers lines were measured.
const scaleFrontNote = "chirp: a 1-node lab (keeper, managed containerd) with 20 simulated nodes of 100 containers on its bridge; once its keeper lists all 2,000, `budgie --headless chirp` (the table, asking the keeper) is timed end to end, process start included; `-bench ChirpAtScale`. nest Peers: `go test -run '^$' -bench 'PeersKeyPress|PeersRefresh' -count 5 ./views/peers/` (20 × 100 containers on an in-memory backend in a 160×45 view; a key is cursor down, a refresh is what the view does every second while shown)."

// discoveryLines builds the row from the three benchmarks' metrics.
func discoveryLines(lat, idle, scale map[string]float64, reps int) Row {
	none := Absent("no peer: no other LAN container browser runs here")
	n := strconv.Itoa(reps) + " containers"
	dur := func(measure string, v, goal float64, goalText, repsText string) Line {
		f := Dur(v)
		return Line{Measure: measure, Budgie: f, Peer: none, Reps: repsText, Goal: goalText, Verdict: Verdict(f, v <= goal)}
	}
	rate := func(measure string, v, goal float64, unit, goalText, repsText string) Line {
		f := Figure{Text: fmt.Sprintf("%.2f %s", v, unit), Value: v}
		return Line{Measure: measure, Budgie: f, Peer: none, Reps: repsText, Goal: goalText, Verdict: Verdict(Figure{Value: v}, v <= goal)}
	}
	return Row{
		Title:  "discovery",
		Budgie: "keepers in network namespaces on a bridge, real multicast (mDNS, RFC 6762)",
		Peer:   "—",
		Lines: []Line{
			dur("started container listed on node B, mean", lat["appear-ms"]/1000, discoveryGoal, "≤ 1 s", n),
			dur("started container listed on node B, worst", lat["max-appear-ms"]/1000, discoveryGoal, "≤ 1 s", n),
			dur("removed container gone from node B, mean", lat["gone-ms"]/1000, goodbyeGoal, "≤ 1 s", n),
			dur("removed container gone from node B, worst", lat["max-gone-ms"]/1000, goodbyeGoal, "≤ 1 s", n),
			dur("killed keeper's container gone from node B", lat["killed-gone-s"], killedGoal, "≤ 30 s", "1 kill"),
			rate("idle multicast, 3 nodes, 20 containers", idle["idle-pkts/s"], idleGoal, "packets/s", "≤ 1 packet/s", "60 s"),
			rate("keeper CPU at rest, 3-node lab", idle["keeper-cpu-%"], idleCPUGoal, "% of a core", "< 1 %", "60 s"),
			dur("joining node lists 20 × 100 containers", scale["join-list-ms"]/1000, joinGoal, "≤ 3 s", "1 join"),
			rate("idle multicast, 21 nodes, 2,000 containers", scale["idle-pkts/s"], 1e9, "packets/s", "", "30 s"),
			rate("node CPU at rest, 21 nodes, worst", scale["max-cpu-%"], idleCPUGoal, "% of a core", "< 1 %", "30 s"),
		},
		Notes: []string{
			"Latencies: from invoking `budgie run` on node A (so the time includes run's own create and start; or from `rm` returning, or from SIGKILL) until node B's keeper reports the container (its event stream); `go test -tags integration -bench TimeToDiscover ./engine/discovery/`.",
			"Idle: every mDNS packet on the lab's bridge counted for 60 s after 20 s of settling; `-bench IdleMulticast`. Scale: 20 simulated nodes of 100 containers (the keeper's discovery service over a synthetic container list, one process per namespace) and one more joining; `-bench Scale`. At scale the idle rate is dominated by the node records' re-announcements (one packet per node every 15 s) and the rare continuous query, whose known-answer list spans many packets.",
		},
	}
}
