package bundle

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

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

const sizeHint = `write a size such as "64MiB", "1.5GiB", "512m" or a number of bytes`

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

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$`)

// sizeUnits are the size suffixes, lower-cased. As in docker, KB, MB, GB
// and TB are powers of 1024, like KiB, MiB, GiB and TiB.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// parseSize parses a size such as "256MiB", "1.5g" or "1048576".
func parseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, invalidf(sizeHint, fmt.Sprintf("invalid size %q", s))
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, invalidf("the units are B, KB/KiB/k, MB/MiB/m, GB/GiB/g and TB/TiB/t",
			fmt.Sprintf("unknown unit %q in %q", m[2], s))
	}
	tooLarge := invalidf("", fmt.Sprintf("size %q is too large", s))
	if !strings.Contains(m[1], ".") {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > math.MaxInt64/unit {
			return 0, tooLarge
		}
		return n * unit, nil
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || f*float64(unit) >= math.MaxInt64 {
		return 0, tooLarge
	}
	return int64(f * float64(unit)), nil
}

// formatSize writes a byte count in the largest binary unit that divides it.
func formatSize(b int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b >= u.size && b%u.size == 0 {
			return fmt.Sprintf("%d%s", b/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", b)
}
