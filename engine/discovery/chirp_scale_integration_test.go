//go:build integration

package discovery_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// BenchmarkChirpAtScale times `budgie --headless chirp` (the table) on a
// node whose keeper lists 2,000 containers: 20 simulated nodes of 100
// containers each on the lab's bridge, over real multicast. It reports the
// mean and worst wall time of one chirp (chirp-ms, max-chirp-ms) and how
// long the keeper took to list them all (keeper-list-ms).
func BenchmarkChirpAtScale(b *testing.B) {
	const nodes, per = 20, 100
	lab, err := startLab(1)
	if err != nil {
		b.Fatal(err)
	}
	defer lab.Close()
	node := lab.Nodes[0]
	sims := joinLab(b, lab, 101, nodes)
	start := time.Now()
	for i, ns := range sims.ns {
		startSim(b, ns, i+1, per, 0)
	}
	deadline := time.Now().Add(time.Minute)
	for n := 0; n != nodes*per; {
		if time.Now().After(deadline) {
			b.Fatalf("node1's keeper lists %d containers after a minute, want %d", n, nodes*per)
		}
		n = chirpCount(b, node.Budgie)
		time.Sleep(100 * time.Millisecond)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "keeper-list-ms")
	var total, worst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t0 := time.Now()
		out, err := node.Budgie(ctx, "chirp")
		d := time.Since(t0)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if rows := strings.Count(out, "\n") - 1; rows != nodes*per {
			b.Fatalf("chirp printed %d rows, want %d:\n%.2000s", rows, nodes*per, out)
		}
		total, worst = total+d, max(worst, d)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "chirp-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-chirp-ms")
}

// chirpCount returns how many containers `chirp --format json` lists.
func chirpCount(b *testing.B, budgie func(context.Context, ...string) (string, error)) int {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := budgie(ctx, "chirp", "--format", "json")
	if err != nil {
		b.Fatal(err)
	}
	var peers []models.Peer
	if err := json.Unmarshal([]byte(out), &peers); err != nil {
		b.Fatalf("chirp --format json: %v", err)
	}
	return len(peers)
}
