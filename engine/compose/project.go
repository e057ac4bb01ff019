package compose

import (
	"sort"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/budgie-sh/budgie/models"
)

// defaultNetwork is Budgie's default network, which compose's implicit
// default network becomes.
const defaultNetwork = models.DefaultNetwork

// project checks the project-level fields that no service names.
func (c *converter) project() {
	p := c.src.Project
	for _, name := range sortedKeys(p.Models) {
		c.unsupported("models."+name, "AI models are not supported")
	}
	for _, name := range sortedKeys(p.Jobs) {
		c.unsupported("jobs."+name, "run the job's container with budgie run --rm IMAGE, from cron or a systemd timer")
	}
}

// volume returns the node's name for the top-level volume key (checked
// once), noting an external one.
func (c *converter) volume(key string) (string, bool) {
	v, ok := c.src.Project.Volumes[key]
	if !ok {
		c.fail("volumes", "declare it under the top-level volumes:", "volume %q is not declared", key)
		return "", false
	}
	if c.volumes[key] {
		return v.Name, true
	}
	c.volumes[key] = true
	field := "volumes." + key
	rest := v
	rest.Name, rest.External = "", false
	if rest.Driver == "local" {
		rest.Driver = ""
	}
	c.refuseRest(field, rest, "a named volume is a plain directory on the node, created on first use")
	if v.External {
		c.res.Volumes = append(c.res.Volumes, v.Name)
		sort.Strings(c.res.Volumes)
	}
	return v.Name, true
}

// network returns the node's name for the top-level network key, checking
// and noting it once. The implicit default network (not declared, or
// declared with nothing set) is Budgie's default network.
func (c *converter) network(key string) (string, bool) {
	n, ok := c.src.Project.Networks[key]
	if !ok {
		c.fail("networks", "declare it under the top-level networks:", "network %q is not declared", key)
		return "", false
	}
	if key == "default" && n.Name == c.src.Project.Name+"_default" && len(leftovers(withoutName(n))) == 0 {
		return defaultNetwork, true
	}
	if c.networks[key] {
		return n.Name, true
	}
	c.networks[key] = true
	field := "networks." + key
	net := Network{Name: n.Name, Internal: n.Internal, External: bool(n.External)}
	rest := withoutName(n)
	rest.Internal, rest.External = false, false
	if rest.Driver == "bridge" {
		rest.Driver = ""
	}
	if rest.EnableIPv4 != nil && *rest.EnableIPv4 {
		rest.EnableIPv4 = nil
	}
	if rest.EnableIPv6 != nil && !*rest.EnableIPv6 {
		rest.EnableIPv6 = nil
	}
	ipam := rest.Ipam
	if ipam.Driver == "default" {
		ipam.Driver = ""
	}
	if len(ipam.Config) > 1 {
		c.refuse(field+".ipam.config", "give the network one subnet", "more than one address pool is not supported")
	} else if len(ipam.Config) == 1 && ipam.Config[0] != nil {
		pool := *ipam.Config[0]
		net.Subnet, net.Gateway = pool.Subnet, pool.Gateway
		pool.Subnet, pool.Gateway = "", ""
		c.refuseRest(field+".ipam.config[0]", pool, "Budgie networks take a subnet and a gateway")
	}
	ipam.Config = nil
	c.refuseRest(field+".ipam", ipam, "Budgie networks take a subnet and a gateway")
	rest.Ipam = types.IPAMConfig{}
	if net.External && (net.Subnet != "" || net.Gateway != "" || net.Internal) {
		c.refuse(field, "an external network is used as it is", "external networks take no settings")
	}
	c.refuseRest(field, rest, "Budgie networks are bridges with a subnet, a gateway and an internal flag (docs/networks.md)")
	c.res.Networks = append(c.res.Networks, net)
	return n.Name, true
}

func withoutName(n types.NetworkConfig) types.NetworkConfig {
	n.Name = ""
	return n
}

// secret checks the top-level secret key once and notes where its value
// comes from; it reports whether the secret can be mounted.
func (c *converter) secret(key string) bool {
	s, ok := c.src.Project.Secrets[key]
	if !ok {
		c.fail("secrets", "declare it under the top-level secrets:", "secret %q is not declared", key)
		return false
	}
	if c.secrets[key] {
		return true
	}
	c.secrets[key] = true
	field := "secrets." + key
	out := Secret{Name: key}
	switch {
	case bool(s.External):
		out.External = true
		if s.Name != key {
			c.refuse(field+".name", "the node's store mounts a secret at /run/secrets/NAME: name the external secret "+key,
				"an external secret named %q, not %q, is not supported", s.Name, key)
			return false
		}
	case s.File != "":
		out.File = s.File
	case s.Environment != "":
		// compose-go puts the variable's value in Content (or, in some
		// versions, leaves it in an extension).
		v := s.Content
		if x, ok := s.Extensions[types.SecretConfigXValue].(string); ok && v == "" {
			v = x
		}
		if v == "" {
			c.fail(field+".environment", "set it in the environment or the .env file", "the variable %s is not set", s.Environment)
			return false
		}
		out.Value = []byte(v)
	case s.Content != "":
		out.Value = []byte(s.Content)
	default:
		c.fail(field, "set file: or environment:", "the secret has no value")
		return false
	}
	rest := s
	rest.Name, rest.File, rest.Environment, rest.Content, rest.External = "", "", "", "", false
	c.refuseRest(field, types.FileObjectConfig(rest), "secrets are sealed in the node's store (docs/secrets.md)")
	c.res.Secrets = append(c.res.Secrets, out)
	return true
}

// dir notes a bind-mount source compose would create when missing.
func (c *converter) dir(path string) {
	if !c.dirs[path] {
		c.dirs[path] = true
		c.res.Dirs = append(c.res.Dirs, path)
		sort.Strings(c.res.Dirs)
	}
}
