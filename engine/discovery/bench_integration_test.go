//go:build integration

package discovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// BenchmarkTimeToDiscover starts one container per iteration on node1 of
// a 2-node lab and measures the time from invoking `budgie run` (so the
// run itself is included) to node2's keeper reporting it (appear-ms, mean,
// and max-appear-ms), then removes it and measures the time from `rm`
// returning to node2 dropping it (gone-ms, max-gone-ms: the goodbye).
// Last, outside the timed loop, it kills node1's keeper (no goodbye) and
// reports when node2 dropped a container left running (killed-gone-s:
// the node record's TTL).
func BenchmarkTimeToDiscover(b *testing.B) {
	lab, err := startLab(2)
	if err != nil {
		b.Fatal(err)
	}
	defer lab.Close()
	w := watch(b, lab.Nodes[1])
	var total, worst, goneTotal, goneWorst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-%d", i)
		// The clock starts before `budgie run` is invoked: the task's
		// started-at label is written after the announcement is triggered,
		// so it could give zero or negative samples.
		invoked := time.Now()
		ids, _ := runContainers(b, lab.Nodes[0], name)
		seen := w.waitAll(b, models.PeerAppeared, ids, 10*time.Second)
		d := seen[name].Sub(invoked)
		total += d
		worst = max(worst, d)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := lab.Nodes[0].Budgie(ctx, "rm", "-f", name); err != nil {
			b.Fatal(err)
		}
		cancel()
		removed := time.Now()
		gone := w.waitAll(b, models.PeerExpired, ids, 10*time.Second)
		g := max(gone[name].Sub(removed), 0)
		goneTotal += g
		goneWorst = max(goneWorst, g)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "appear-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-appear-ms")
	b.ReportMetric(float64(goneTotal.Microseconds())/1000/float64(b.N), "gone-ms")
	b.ReportMetric(float64(goneWorst.Microseconds())/1000, "max-gone-ms")
	b.ReportMetric(killedGone(b, lab.Nodes[0], w).Seconds(), "killed-gone-s")
}
