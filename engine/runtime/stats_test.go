package runtime

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/protobuf"
	"github.com/containerd/containerd/protobuf/proto"
	"github.com/containerd/typeurl/v2"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// wireMetrics builds the answer of containerd's Tasks.Metrics the way the
// daemon does (each task's cgroup stats typeurl-wrapped with
// typeurl.MarshalAny into the Metric's Any) and sends it through the
// protobuf wire format, so the test decodes the bytes a client receives.
func wireMetrics(t *testing.T, ts time.Time, stats map[string]any) []*types.Metric {
	t.Helper()
	resp := &tasks.MetricsResponse{}
	for id, s := range stats {
		a, err := typeurl.MarshalAny(s)
		if err != nil {
			t.Fatal(err)
		}
		resp.Metrics = append(resp.Metrics, &types.Metric{ID: id, Timestamp: protobuf.ToTimestamp(ts), Data: protobuf.FromAny(a)})
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var got tasks.MetricsResponse
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return got.Metrics
}

// TestDecodeMetrics decodes task metrics of both cgroup hierarchies. This
// machine runs cgroup v1 and cannot produce a v2 cgroup, so the v2 messages
// (and, for symmetry and exact numbers, the v1 ones) are fakes built from
// containerd's own stats types; TestStats reads real v1 metrics from a
// running container.
func TestDecodeMetrics(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		stats any
		want  models.Stats
	}{{
		name: "cgroup v2",
		stats: &cgroup2.Metrics{
			CPU:    &cgroup2.CPUStat{UsageUsec: 1_500_000, UserUsec: 1_000_000, SystemUsec: 500_000},
			Memory: &cgroup2.MemoryStat{Usage: 50 << 20, UsageLimit: 64 << 20, InactiveFile: 10 << 20, Anon: 30 << 20},
			Pids:   &cgroup2.PidsStat{Current: 3, Limit: 42},
			Io: &cgroup2.IOStat{Usage: []*cgroup2.IOEntry{
				{Major: 8, Minor: 0, Rbytes: 4096, Wbytes: 8192, Rios: 1, Wios: 2},
				{Major: 8, Minor: 16, Rbytes: 100, Wbytes: 200},
			}},
		},
		want: models.Stats{CPUNanos: 1_500_000_000, MemoryUsage: 40 << 20, MemoryLimit: 64 << 20,
			Pids: 3, BlockRead: 4196, BlockWrite: 8392},
	}, {
		name: "cgroup v2 without limits",
		stats: &cgroup2.Metrics{
			CPU:    &cgroup2.CPUStat{UsageUsec: 7},
			Memory: &cgroup2.MemoryStat{Usage: 1 << 20, UsageLimit: math.MaxUint64},
			Pids:   &cgroup2.PidsStat{Current: 1, Limit: math.MaxUint64},
		},
		want: models.Stats{CPUNanos: 7000, MemoryUsage: 1 << 20, Pids: 1},
	}, {
		name: "cgroup v1",
		stats: &cgroup1.Metrics{
			CPU:    &cgroup1.CPUStat{Usage: &cgroup1.CPUUsage{Total: 2_000_000_000, User: 1, Kernel: 1}},
			Memory: &cgroup1.MemoryStat{TotalInactiveFile: 5 << 20, Usage: &cgroup1.MemoryEntry{Usage: 20 << 20, Limit: 128 << 20}},
			Pids:   &cgroup1.PidsStat{Current: 2, Limit: 42},
			Blkio: &cgroup1.BlkIOStat{IoServiceBytesRecursive: []*cgroup1.BlkIOEntry{
				{Op: "Read", Major: 8, Value: 1000}, {Op: "Write", Major: 8, Value: 3000},
				{Op: "Sync", Major: 8, Value: 4000}, {Op: "Total", Major: 8, Value: 4000},
			}},
			Network: []*cgroup1.NetworkStat{{Name: "eth0", RxBytes: 10, TxBytes: 20}},
		},
		want: models.Stats{CPUNanos: 2_000_000_000, MemoryUsage: 15 << 20, MemoryLimit: 128 << 20,
			Pids: 2, BlockRead: 1000, BlockWrite: 3000, NetRx: 10, NetTx: 20},
	}, {
		name: "cgroup v1 without limits",
		stats: &cgroup1.Metrics{
			Memory: &cgroup1.MemoryStat{Usage: &cgroup1.MemoryEntry{Usage: 4096, Limit: 0x7FFFFFFFFFFFF000}},
		},
		want: models.Stats{MemoryUsage: 4096},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeMetrics(wireMetrics(t, ts, map[string]any{"c1": tt.stats}), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.ContainerID, want.Time = "c1", ts
			if got["c1"] != want {
				t.Errorf("got  %+v\nwant %+v", got["c1"], want)
			}
		})
	}
}

// TestDecodeMetricsTypeURLs checks the type URLs the wrapped stats carry:
// containerd 1.6 daemons send the same names (the proto package names did
// not change from cgroups v1.x to v3).
func TestDecodeMetricsTypeURLs(t *testing.T) {
	for want, s := range map[string]any{
		"io.containerd.cgroups.v1.Metrics": &cgroup1.Metrics{},
		"io.containerd.cgroups.v2.Metrics": &cgroup2.Metrics{},
	} {
		a, err := typeurl.MarshalAny(s)
		if err != nil {
			t.Fatal(err)
		}
		if a.GetTypeUrl() != want {
			t.Errorf("type URL %s, want %s", a.GetTypeUrl(), want)
		}
	}
}

func TestDecodeMetricsUnknownType(t *testing.T) {
	ts := time.Now()
	only := wireMetrics(t, ts, map[string]any{"c1": &types.Mount{Type: "bind"}})
	got, err := decodeMetrics(only, ts)
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "containerd.types.Mount") {
		t.Fatalf("err = %v, want one naming the type", err)
	}
	if len(got) != 0 {
		t.Errorf("got %v, want none", got)
	}
	mixed := wireMetrics(t, ts, map[string]any{"c1": &types.Mount{}, "c2": &cgroup2.Metrics{Pids: &cgroup2.PidsStat{Current: 1}}})
	got, err = decodeMetrics(append(mixed, &types.Metric{ID: "c3"}), ts)
	if err != nil || len(got) != 1 || got["c2"].Pids != 1 {
		t.Fatalf("got %v, %v; want c2 alone", got, err)
	}
}

func TestParseNetDev(t *testing.T) {
	const table = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456      10    0    0    0     0          0         0   123456      10    0    0    0     0       0          0
  eth0:    2000      20    0    0    0     0          0         0     3000      30    0    0    0     0       0          0
  eth1: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0
`
	rx, tx, err := parseNetDev(strings.NewReader(table))
	if err != nil || rx != 2005 || tx != 3007 {
		t.Errorf("rx %d tx %d err %v, want 2005 3007 nil", rx, tx, err)
	}
	if _, _, err := parseNetDev(strings.NewReader("eth0: 1 2 3\n")); err == nil {
		t.Error("a short line parsed")
	}
}
