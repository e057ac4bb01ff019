//go:build integration

package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// TestStats samples a busy container through the real containerd: CPU time
// grows, memory is in use under its limit, pids are counted. Which cgroup
// hierarchy's metrics are checked is the host's (v1 on the project's
// machines; v2 decoding is covered by TestDecodeMetrics).
func TestStats(t *testing.T) {
	ctx := context.Background()
	s := spec(t, "sh", "-c", "while :; do :; done")
	s.Resources = models.Resources{Memory: 64 << 20, PidsLimit: 42}
	c := run(t, s)
	waitState(t, c.ID, models.StateRunning)

	resp, err := env.Client().TaskService().Metrics(env.Context(), &tasks.MetricsRequest{Filters: []string{"id==" + c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range resp.Metrics {
		t.Logf("containerd sends task metrics of type %s (cgroup %s host)", m.Data.GetTypeUrl(), runtime.CgroupHierarchy())
	}

	first := sample(t, c.ID)
	time.Sleep(500 * time.Millisecond)
	second := sample(t, c.ID)
	if second.CPUNanos <= first.CPUNanos || first.CPUNanos == 0 {
		t.Errorf("CPU time %d then %d, want growing from non-zero", first.CPUNanos, second.CPUNanos)
	}
	// No percentage floor: the machine is shared, a busy loop may get little of a CPU.
	t.Logf("CPU %.1f%% of one CPU", models.CPUPercent(first, second))
	if second.MemoryUsage == 0 || second.MemoryLimit != 64<<20 {
		t.Errorf("memory %d of %d, want non-zero of %d", second.MemoryUsage, second.MemoryLimit, 64<<20)
	}
	if second.Pids == 0 {
		t.Error("pids = 0, want the shell counted")
	}
	t.Logf("sample: %+v", second)

	stop := time.Second
	if _, err := rt.Stop(ctx, c.ID, runtime.StopOptions{Timeout: &stop}); err != nil {
		t.Fatal(err)
	}
	all, err := rt.Stats(ctx, runtime.StatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all[c.ID]; ok {
		t.Error("a stopped container still has stats")
	}
}

// sample returns the container's stats, failing the test when absent.
func sample(t *testing.T, id string) models.Stats {
	t.Helper()
	all, err := rt.Stats(context.Background(), runtime.StatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := all[id]
	if !ok {
		t.Fatalf("no stats for running container %s in %v", id, all)
	}
	return s
}

// TestStatsNetwork checks the network counters, read from the task's own
// network namespace: a container knocking on a closed port of its gateway
// (ARP, SYN, the host's RST; no NET_RAW needed) has sent and received.
func TestStatsNetwork(t *testing.T) {
	r, _, n := netRuntime(t)
	s := spec(t, "sh", "-c", "while :; do wget -q -T 1 -O /dev/null http://"+n.Gateway+":9/; sleep 0.2; done")
	s.Networks = []string{n.Name}
	c := runOn(t, r, s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, err := r.Stats(context.Background(), runtime.StatsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st := all[c.ID]; st.NetRx > 0 && st.NetTx > 0 {
			t.Logf("network: %d bytes in, %d out", st.NetRx, st.NetTx)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("network counters still zero: %+v", all[c.ID])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestStatsOfSome: StatsOptions.IDs samples only the containers named (a
// screen of rows, `budgie stats NAME`), and refuses what is not an ID
// before it reaches containerd's filter.
func TestStatsOfSome(t *testing.T) {
	ctx := context.Background()
	a, b := run(t, spec(t, "sleep", "3600")), run(t, spec(t, "sleep", "3600"))
	waitState(t, a.ID, models.StateRunning)
	waitState(t, b.ID, models.StateRunning)
	got, err := rt.Stats(ctx, runtime.StatsOptions{IDs: []string{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got[a.ID]; !ok || len(got) != 1 {
		t.Fatalf("stats of %s alone: got %d samples (has it: %v)", a.ShortID(), len(got), ok)
	}
	if got[a.ID].MemoryUsage == 0 {
		t.Errorf("sample of %s has no memory figure: %+v", a.ShortID(), got[a.ID])
	}
	quick, err := rt.Stats(ctx, runtime.StatsOptions{IDs: []string{a.ID}, NoNetwork: true})
	if err != nil || quick[a.ID].MemoryUsage == 0 || quick[a.ID].NetRx != 0 || quick[a.ID].NetTx != 0 {
		t.Errorf("NoNetwork sample of %s: %+v, %v; want memory and no network counters", a.ShortID(), quick[a.ID], err)
	}
	all, err := rt.Stats(ctx, runtime.StatsOptions{})
	if err != nil || len(all) < 2 {
		t.Fatalf("stats of every container: %d samples, %v", len(all), err)
	}
	for _, bad := range []string{"id==x", a.ID[:12], a.ID + ",id~=.*"} {
		if _, err := rt.Stats(ctx, runtime.StatsOptions{IDs: []string{bad}}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("IDs %q: err %v, want ErrInvalid", bad, err)
		}
	}
}
