package compose

import (
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
)

// resources maps the service's limits (cpus, cpu_shares, cpu_quota,
// cpu_period, mem_limit, memswap_limit, pids_limit, blkio_config.weight)
// and deploy.resources.limits to the bundle's resources, and checks the
// rest of deploy: (its replicas and restart_policy are mapped by replicas
// and restart).
func (k *container) resources(s types.ServiceConfig, rest *types.ServiceConfig) {
	res := mapping()
	put := func(key, value, from string) {
		res.Content = append(res.Content, str(key), plain(value))
		k.origin("resources."+key, from)
	}
	var limits types.Resource
	if s.Deploy != nil && s.Deploy.Resources.Limits != nil {
		limits = *s.Deploy.Resources.Limits
	}
	lim := k.svc + ".deploy.resources.limits"
	if cpus, from, ok := k.pick("cpus", float64(s.CPUS), "cpus", float64(limits.NanoCPUs), "deploy.resources.limits.cpus"); ok {
		put("cpus", strconv.FormatFloat(cpus, 'f', -1, 32), from)
	}
	if s.CPUShares != 0 {
		put("cpu_shares", strconv.FormatInt(s.CPUShares, 10), "cpu_shares")
	}
	if s.CPUQuota != 0 {
		put("cpu_quota", strconv.FormatInt(s.CPUQuota, 10), "cpu_quota")
	}
	if s.CPUPeriod != 0 {
		put("cpu_period", strconv.FormatInt(s.CPUPeriod, 10), "cpu_period")
	}
	if mem, from, ok := k.pick("mem_limit", float64(s.MemLimit), "mem_limit", float64(limits.MemoryBytes), "deploy.resources.limits.memory"); ok {
		put("memory", size(int64(mem)), from)
	}
	if s.MemSwapLimit != 0 {
		put("memory_swap", size(int64(s.MemSwapLimit)), "memswap_limit")
	}
	if s.BlkioConfig != nil {
		b := *s.BlkioConfig
		if b.Weight != 0 {
			put("blkio_weight", strconv.Itoa(int(b.Weight)), "blkio_config.weight")
		}
		b.Weight = 0
		k.c.refuseRest(k.svc+".blkio_config", b, "Budgie sets only the block I/O weight")
	}
	if pids, from, ok := k.pick("pids_limit", float64(s.PidsLimit), "pids_limit", float64(limits.Pids), "deploy.resources.limits.pids"); ok {
		put("pids_limit", strconv.FormatInt(int64(pids), 10), from)
	}
	limits.NanoCPUs, limits.MemoryBytes, limits.Pids = 0, 0, 0
	k.c.refuseRest(lim, limits, "Budgie limits cpus, memory and pids")
	rest.CPUS, rest.CPUShares, rest.CPUQuota, rest.CPUPeriod = 0, 0, 0, 0
	rest.MemLimit, rest.MemSwapLimit, rest.BlkioConfig, rest.PidsLimit = 0, 0, nil, 0
	if len(res.Content) > 0 {
		k.set("resources", res, "")
	}
	k.deploy(s, rest)
}

// pick chooses between a service-level limit and deploy.resources.limits'
// one: either, or both when they agree.
func (k *container) pick(what string, a float64, fromA string, b float64, fromB string) (float64, string, bool) {
	switch {
	case a == 0 && b == 0:
		return 0, "", false
	case b == 0:
		return a, fromA, true
	case a == 0 || a == b:
		return b, fromB, true
	}
	k.c.fail(k.svc+"."+fromB, "set the limit in one place", "conflicts with %s", what)
	return 0, "", false
}

// deploy checks what is left of deploy: mode, and the swarm-only fields.
// resources.limits, replicas and restart_policy are mapped elsewhere.
func (k *container) deploy(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Deploy = nil
	if s.Deploy == nil {
		return
	}
	d := *s.Deploy
	field := k.svc + ".deploy"
	if d.Mode != "" && d.Mode != "replicated" {
		k.c.refuse(field+".mode", "Budgie runs a service's replicas on one node (mode: replicated)", "mode %q is not supported", d.Mode)
	}
	d.Mode, d.Replicas, d.RestartPolicy = "", nil, nil
	r := d.Resources
	r.Limits = nil
	k.c.refuseRest(field+".resources", r, "Budgie sets limits only (deploy.resources.limits); it reserves nothing")
	d.Resources = types.Resources{}
	k.c.refuseRest(field, d, hintSwarm)
}

// replicas maps deploy.replicas or scale to the bundle's replicas; one
// replica is a plain container (named after the service).
func (k *container) replicas(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Scale = nil
	n, from := 0, ""
	switch {
	case s.Deploy != nil && s.Deploy.Replicas != nil:
		n, from = *s.Deploy.Replicas, "deploy.replicas"
	case s.Scale != nil:
		n, from = *s.Scale, "scale"
	default:
		return
	}
	if s.Scale != nil && s.Deploy != nil && s.Deploy.Replicas != nil && *s.Scale != *s.Deploy.Replicas {
		k.c.fail(k.svc+".scale", "set scale: or deploy.replicas, not both", "conflicts with deploy.replicas")
	}
	switch {
	case n == 0:
		k.c.refuse(k.svc+"."+from, "leave the service out of the file (or in an inactive profile) instead", "0 replicas is not supported: Budgie runs at least one")
	case n > 1:
		k.set("replicas", plain(strconv.Itoa(n)), from)
	}
}

// size writes a byte count in the largest binary unit that divides it
// (64MiB), or as bytes.
func size(n int64) string {
	for _, u := range []struct {
		unit  string
		bytes int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n > 0 && n%u.bytes == 0 {
			return strconv.FormatInt(n/u.bytes, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}
