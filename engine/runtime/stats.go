package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3"
	cgroup1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cgroup2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/typeurl/v2"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Cgroup hierarchies, as CgroupHierarchy names them.
const (
	CgroupV1          = "v1"
	CgroupV2          = "v2"
	CgroupHybrid      = "hybrid"
	CgroupUnavailable = "unavailable"
)

// CgroupHierarchy says which cgroup hierarchy this host mounts at
// /sys/fs/cgroup: CgroupV2 (unified, Debian 12 and Ubuntu 22.04 on),
// CgroupV1 (legacy), CgroupHybrid (v1 controllers with a v2 mount beside
// them, which containerd treats as v1) or CgroupUnavailable.
func CgroupHierarchy() string {
	switch cgroups.Mode() {
	case cgroups.Unified:
		return CgroupV2
	case cgroups.Legacy:
		return CgroupV1
	case cgroups.Hybrid:
		return CgroupHybrid
	}
	return CgroupUnavailable
}

// unlimited is the smallest limit taken to mean "none": cgroup v1 reports
// an unlimited memory.limit_in_bytes as a page-rounded 2^63-1 and v2's
// "max" arrives as 2^64-1.
const unlimited = 1 << 62

// StatsOptions tune Stats.
type StatsOptions struct {
	// IDs limits the sample to these containers (full IDs); empty means
	// every running task. On containerd 1.6 each task sampled is a call to
	// its shim, so a screen of 40 rows should not pay for 500 containers.
	IDs []string
	// NoNetwork leaves the network counters out (NetRx, NetTx zero): they
	// need each task's pid, one more call to each shim, and a table that
	// does not show them (nest's containers) should not pay for them.
	NoNetwork bool
}

// Stats samples the resource use of the running tasks opts names (all by
// default): one containerd call for the cgroup metrics (v1 or v2,
// whichever the host runs) and the tasks' pids, whose network namespaces
// give the network counters. Containers without a running task are absent
// from the result. When containerd answers only with metrics of a type
// Budgie does not know, the error says which.
func (r *Runtime) Stats(ctx context.Context, opts StatsOptions) (map[string]models.Stats, error) {
	ctx = r.ns(ctx)
	req := &tasks.MetricsRequest{}
	for _, id := range opts.IDs {
		if !isFullID(id) {
			return nil, fmt.Errorf("stats of %q: not a full container ID: %w", id, errdefs.ErrInvalid)
		}
		req.Filters = append(req.Filters, "id=="+id)
	}
	resp, err := r.client.TaskService().Metrics(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("task metrics: %w", errdefs.FromContainerd(err))
	}
	if opts.NoNetwork {
		return decodeMetrics(resp.Metrics, time.Now())
	}
	pids := r.taskPids(ctx, opts.IDs)
	out, err := decodeMetrics(resp.Metrics, time.Now())
	for id, s := range out {
		if s.NetRx == 0 && s.NetTx == 0 && pids[id] != 0 {
			s.NetRx, s.NetTx = netDev(procRoot, pids[id])
			out[id] = s
		}
	}
	return out, err
}

// taskPids returns the pid of each task in ids (every task when ids is
// empty, with one listing). A listing asks every shim on containerd 1.6,
// so a few IDs are asked one by one.
func (r *Runtime) taskPids(ctx context.Context, ids []string) map[string]uint32 {
	pids := map[string]uint32{}
	if len(ids) == 0 {
		if list, err := r.client.TaskService().List(ctx, &tasks.ListTasksRequest{}); err == nil {
			for _, t := range list.Tasks {
				pids[t.ID] = t.Pid
			}
		}
		return pids
	}
	for _, id := range ids {
		if resp, err := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: id}); err == nil && resp.Process != nil {
			pids[id] = resp.Process.Pid
		}
	}
	return pids
}

// isFullID reports whether id is a container ID as Budgie makes them: 64
// lowercase hex digits (it goes into a containerd filter).
func isFullID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// decodeMetrics turns containerd's task metrics into samples; now stands
// in for a missing timestamp. Metrics of an unknown type are left out; the
// error names their type only when no metric at all could be read.
func decodeMetrics(metrics []*types.Metric, now time.Time) (map[string]models.Stats, error) {
	out := make(map[string]models.Stats, len(metrics))
	var unknown error
	for _, m := range metrics {
		if m.GetData() == nil {
			continue // a typed nil would pass for a typeurl.Any
		}
		s, err := decodeMetric(m.Data)
		if err != nil {
			unknown = err
			continue
		}
		s.ContainerID, s.Time = m.ID, now
		if m.Timestamp != nil {
			s.Time = m.Timestamp.AsTime()
		}
		out[m.ID] = s
	}
	if len(out) == 0 && unknown != nil {
		return out, fmt.Errorf("task metrics on a cgroup %s host: %w", CgroupHierarchy(), unknown)
	}
	return out, nil
}

// decodeMetric reads one task's cgroup metrics: cgroup v1's
// io.containerd.cgroups.v1.Metrics or v2's io.containerd.cgroups.v2.Metrics.
func decodeMetric(data typeurl.Any) (models.Stats, error) {
	v, err := typeurl.UnmarshalAny(data)
	if err != nil {
		return models.Stats{}, fmt.Errorf("decode metrics of type %s: %w", data.GetTypeUrl(), err)
	}
	switch m := v.(type) {
	case *cgroup1.Metrics:
		return fromCgroup1(m), nil
	case *cgroup2.Metrics:
		return fromCgroup2(m), nil
	}
	return models.Stats{}, fmt.Errorf("metrics of type %s are not cgroup v1 or v2 metrics: %w", data.GetTypeUrl(), errdefs.ErrInvalid)
}

// fromCgroup1 reads cgroup v1 metrics. Memory is usage without the
// inactive page cache, as docker stats shows it.
func fromCgroup1(m *cgroup1.Metrics) models.Stats {
	var s models.Stats
	if m.CPU != nil && m.CPU.Usage != nil {
		s.CPUNanos = m.CPU.Usage.Total
	}
	if m.Memory != nil && m.Memory.Usage != nil {
		s.MemoryUsage = m.Memory.Usage.Usage - min(m.Memory.TotalInactiveFile, m.Memory.Usage.Usage)
		if lim := m.Memory.Usage.Limit; lim < unlimited {
			s.MemoryLimit = lim
		}
	}
	if m.Pids != nil {
		s.Pids = m.Pids.Current
	}
	if m.Blkio != nil {
		for _, e := range m.Blkio.IoServiceBytesRecursive {
			switch strings.ToLower(e.Op) {
			case "read":
				s.BlockRead += e.Value
			case "write":
				s.BlockWrite += e.Value
			}
		}
	}
	for _, n := range m.Network {
		s.NetRx += n.RxBytes
		s.NetTx += n.TxBytes
	}
	return s
}

// fromCgroup2 reads cgroup v2 metrics: cpu.stat's usage_usec,
// memory.current less inactive_file with memory.max, pids.current and
// io.stat's bytes summed over devices. v2 has no network counters.
func fromCgroup2(m *cgroup2.Metrics) models.Stats {
	var s models.Stats
	if m.CPU != nil {
		s.CPUNanos = m.CPU.UsageUsec * 1000
	}
	if m.Memory != nil {
		s.MemoryUsage = m.Memory.Usage - min(m.Memory.InactiveFile, m.Memory.Usage)
		if lim := m.Memory.UsageLimit; lim > 0 && lim < unlimited {
			s.MemoryLimit = lim
		}
	}
	if m.Pids != nil {
		s.Pids = m.Pids.Current
	}
	if m.Io != nil {
		for _, e := range m.Io.Usage {
			s.BlockRead += e.Rbytes
			s.BlockWrite += e.Wbytes
		}
	}
	return s
}

// procRoot is where procfs is mounted.
const procRoot = "/proc"

// maxNetDev bounds the read of a net/dev file (one line per interface).
const maxNetDev = 64 << 10

// netDev sums the bytes received and sent on every interface but loopback
// in pid's network namespace, from proc/<pid>/net/dev. A task in the host's
// namespace (host networking) or one that cannot be read gives zeros.
func netDev(proc string, pid uint32) (rx, tx uint64) {
	base := proc + "/" + strconv.FormatUint(uint64(pid), 10)
	ns, err := os.Readlink(base + "/ns/net")
	if err != nil {
		return 0, 0
	}
	if self, err := os.Readlink(proc + "/self/ns/net"); err != nil || self == ns {
		return 0, 0
	}
	f, err := os.Open(base + "/net/dev")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	rx, tx, _ = parseNetDev(io.LimitReader(f, maxNetDev))
	return rx, tx
}

// parseNetDev sums the receive and transmit byte columns of a
// /proc/net/dev table, loopback left out.
func parseNetDev(r io.Reader) (rx, tx uint64, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, fields, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(bytes.TrimSpace(name)) == "lo" {
			continue // the two header lines, and loopback
		}
		cols := strings.Fields(string(fields))
		if len(cols) < 9 {
			return rx, tx, errors.New("short line in net/dev")
		}
		r, err1 := strconv.ParseUint(cols[0], 10, 64)
		t, err2 := strconv.ParseUint(cols[8], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return rx, tx, fmt.Errorf("net/dev: %w", err)
		}
		rx, tx = rx+r, tx+t
	}
	return rx, tx, sc.Err()
}
