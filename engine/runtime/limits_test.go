package runtime

import (
	"context"
	"testing"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/budgie-sh/budgie/models"
)

// TestResourceOptsAreHierarchyNeutral checks that a bundle's limits land in
// the OCI spec's linux.resources, which runc writes to cgroup v1 files
// (memory.limit_in_bytes, cpu.cfs_quota_us, pids.max; checked live by
// TestResourceLimitsInCgroup on this v1 machine) and converts for cgroup v2
// (memory.max, memory.swap.max, cpu.max, cpu.weight, pids.max, io.weight).
// Nothing in Budgie writes cgroup files itself, so there is no v1-only path.
func TestResourceOptsAreHierarchyNeutral(t *testing.T) {
	res := models.Resources{Memory: 64 << 20, MemorySwap: 128 << 20, CPUShares: 512,
		CPUQuota: 50000, CPUPeriod: 100000, PidsLimit: 42, BlkioWeight: 300}
	s := &oci.Spec{Linux: &specs.Linux{}}
	for _, o := range resourceOpts(res) {
		if err := o(context.Background(), nil, &containers.Container{}, s); err != nil {
			t.Fatal(err)
		}
	}
	r := s.Linux.Resources
	if r == nil || r.Memory == nil || r.CPU == nil || r.Pids == nil || r.BlockIO == nil {
		t.Fatalf("resources not all set: %+v", r)
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"memory.limit", deref(r.Memory.Limit), 64 << 20},
		{"memory.swap", deref(r.Memory.Swap), 128 << 20},
		{"cpu.shares", int64(derefU(r.CPU.Shares)), 512},
		{"cpu.quota", deref(r.CPU.Quota), 50000},
		{"cpu.period", int64(derefU(r.CPU.Period)), 100000},
		{"pids.limit", r.Pids.Limit, 42},
		{"blockIO.weight", int64(derefU16(r.BlockIO.Weight)), 300},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func derefU(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefU16(p *uint16) uint16 {
	if p == nil {
		return 0
	}
	return *p
}
