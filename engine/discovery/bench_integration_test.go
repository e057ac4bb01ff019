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
// a 2-node lab and measures the time from the container's start (its
// task's start time) to node2's keeper reporting it; it reports the mean
// and the worst as appear-ms and max-appear-ms.
func BenchmarkTimeToDiscover(b *testing.B) {
	lab, err := startLab(2)
	if err != nil {
		b.Fatal(err)
	}
	defer lab.Close()
	w := watch(b, lab.Nodes[1])
	var total, worst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-%d", i)
		ids, started := runContainers(b, lab.Nodes[0], name)
		seen := w.waitAll(b, models.PeerAppeared, ids, 10*time.Second)
		d := seen[name].Sub(started[name])
		total += d
		worst = max(worst, d)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := lab.Nodes[0].Budgie(ctx, "rm", "-f", name); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "appear-ms")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-appear-ms")
}
