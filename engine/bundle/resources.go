package bundle

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/internal/units"

	"github.com/budgie-sh/budgie/models"
)

// resourceFields are the keys of resources.
var resourceFields = []string{
	"cpu_shares", "cpus", "cpu_quota", "cpu_period", "memory", "memory_swap", "blkio_weight", "pids_limit",
}

// minMemory is the smallest memory limit, as in docker.
const minMemory = 6 << 20

// defaultCPUPeriod is the CFS period cpus is expressed in, in microseconds.
const defaultCPUPeriod = 100000

// resources decodes resources and checks the fields that go together.
func (c *container) resources(field string, v *yaml.Node) {
	nodes := map[string]*yaml.Node{}
	r := &c.spec.Resources
	c.each(v, field, resourceFields, func(key, f string, n *yaml.Node) {
		if c.resource(r, key, f, n) {
			nodes[key] = n
		}
	})
	c.checkResources(r, field, nodes)
}

// resource decodes one resources field into r, reporting whether it was good.
func (c *container) resource(r *models.Resources, key, f string, n *yaml.Node) bool {
	var x int64
	ok := false
	switch key {
	case "cpu_shares":
		x, ok = c.integerIn(n, f, 2, 262144)
		r.CPUShares = uint64(x)
	case "cpus":
		if x, ok = c.cpus(n, f); ok {
			r.CPUQuota, r.CPUPeriod = x, defaultCPUPeriod
		}
	case "cpu_quota":
		r.CPUQuota, ok = c.integerIn(n, f, 1000, 1<<40)
	case "cpu_period":
		x, ok = c.integerIn(n, f, 1000, 1000000)
		r.CPUPeriod = uint64(x)
	case "memory":
		r.Memory, ok = c.size(n, f, minMemory)
	case "memory_swap":
		if s, good := c.scalar(n, f, "a size or -1"); good && strings.TrimSpace(s) == "-1" {
			r.MemorySwap, ok = -1, true
		} else if good {
			r.MemorySwap, ok = c.size(n, f, minMemory)
		}
	case "blkio_weight":
		x, ok = c.integerIn(n, f, 10, 1000)
		r.BlkioWeight = uint16(x)
	case "pids_limit":
		x, ok = c.integerIn(n, f, -1, math.MaxInt64)
		r.PidsLimit = max(x, 0)
	}
	return ok
}

// checkResources checks cpus against cpu_quota/cpu_period and memory_swap
// against memory. nodes holds the fields that decoded well.
func (c *container) checkResources(r *models.Resources, field string, nodes map[string]*yaml.Node) {
	if n := nodes["cpus"]; n != nil && (nodes["cpu_quota"] != nil || nodes["cpu_period"] != nil) {
		c.report(n, join(field, "cpus"), "cpus: 0.5 is cpu_quota: 50000 with cpu_period: 100000",
			"set either cpus or cpu_quota and cpu_period, not both")
	}
	if n := nodes["cpu_period"]; n != nil && nodes["cpu_quota"] == nil && nodes["cpus"] == nil {
		c.report(n, join(field, "cpu_period"), "add cpu_quota, or use cpus", "cpu_period has no effect without cpu_quota")
	}
	n := nodes["memory_swap"]
	switch {
	case n == nil || r.MemorySwap == -1:
	case nodes["memory"] == nil:
		c.report(n, join(field, "memory_swap"), "memory_swap is memory plus swap", "needs memory to be set")
	case r.MemorySwap < r.Memory:
		c.report(n, join(field, "memory_swap"), "memory_swap is memory plus swap",
			"must be at least memory (%d bytes)", r.Memory)
	}
}

// cpus decodes a number of CPUs into a CFS quota per 100 ms period.
func (c *container) cpus(n *yaml.Node, f string) (int64, bool) {
	s, ok := c.scalar(n, f, "a number")
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil || math.IsNaN(x) || math.IsInf(x, 0):
		c.report(n, f, "write a number of CPUs such as 0.5 or 2", "invalid number %q", s)
	case x < 0.01:
		c.report(n, f, "", "must be at least 0.01")
	case x > 1e6:
		c.report(n, f, "", "%s is too large", s)
	default:
		return int64(math.Round(x * defaultCPUPeriod)), true
	}
	return 0, false
}

// size decodes a size in bytes of at least least.
func (c *container) size(n *yaml.Node, f string, least int64) (int64, bool) {
	s, ok := c.scalar(n, f, "a size")
	if !ok {
		return 0, false
	}
	b, err := parseSize(s)
	switch {
	case err != nil:
		c.fail(n, f, err)
	case b < least:
		c.report(n, f, "", "%s is below the minimum of %s", s, formatSize(least))
	default:
		return b, true
	}
	return 0, false
}

// parseSize parses a size with the one rule bundles and the configuration
// share (engine/internal/units).
func parseSize(s string) (int64, error) {
	n, err := units.ParseSize(s)
	var ue *units.Error
	if errors.As(err, &ue) {
		return 0, invalidf(ue.Hint, ue.Msg)
	}
	return n, err
}

// formatSize writes a byte count in the largest binary unit that divides it.
func formatSize(b int64) string { return units.FormatSize(b) }
