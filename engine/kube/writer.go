package kube

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/models"
)

// The bundle writer: a container spec as the bundle YAML that parses back
// into that very spec (docs/bundle.md), field by field in the schema's
// order. Play writes what it makes of a manifest with it, and Generate the
// fields Kubernetes has no word for (the budgie.sh/bundle annotation).

// specNode returns the bundle mapping of s; fields left at their zero
// value are left out (a bundle's absent field means the same).
func specNode(s models.ContainerSpec) *yaml.Node {
	m := mapNode()
	put := func(key string, v *yaml.Node) {
		if v != nil {
			m.Content = append(m.Content, strNode(key), v)
		}
	}
	put("name", optStr(s.Name))
	put("image", optStr(s.Image))
	put("command", strList(s.Command))
	put("args", strList(s.Args))
	put("workdir", optStr(s.Workdir))
	put("user", optStr(s.User))
	put("hostname", optStr(s.Hostname))
	put("env", strList(s.Env))
	put("ports", portsNode(s.Ports))
	put("volumes", volumesNode(s.Volumes))
	put("resources", resourcesNode(s.Resources))
	put("restart_policy", restartNode(s.RestartPolicy))
	put("stop_timeout", durationNode(s.StopTimeout))
	put("stop_signal", optStr(s.StopSignal))
	put("tty", boolNode(s.Tty))
	put("stdin_open", boolNode(s.StdinOpen))
	put("health", healthNode(s.Health))
	put("depends_on", dependsNode(s.DependsOn))
	put("replicas", replicasNode(s.Replicas))
	put("networks", strList(s.Networks))
	put("secrets", strList(s.Secrets))
	put("labels", labelsNode(s.Labels))
	return m
}

// encodeNode writes a node as YAML text.
func encodeNode(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

// strNode is a string scalar, quoted when YAML would read it otherwise.
func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// intNode is an integer scalar.
func intNode(i int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(i, 10)}
}

func optStr(s string) *yaml.Node {
	if s == "" {
		return nil
	}
	return strNode(s)
}

func strList(items []string) *yaml.Node {
	if len(items) == 0 {
		return nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range items {
		seq.Content = append(seq.Content, strNode(it))
	}
	return seq
}

// boolNode is true, or nil for false (a bundle's default).
func boolNode(b bool) *yaml.Node {
	if !b {
		return nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}
}

func durationNode(d time.Duration) *yaml.Node {
	if d == 0 {
		return nil
	}
	return strNode(d.String())
}

// portString writes a published port as a bundle's ports entry.
func portString(p models.PortMapping) string {
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	c := fmt.Sprintf("%d/%s", p.ContainerPort, proto)
	switch {
	case p.HostIP != "":
		host := p.HostIP
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		hp := ""
		if p.HostPort != 0 {
			hp = strconv.Itoa(int(p.HostPort))
		}
		return host + ":" + hp + ":" + c
	case p.HostPort != 0:
		return strconv.Itoa(int(p.HostPort)) + ":" + c
	}
	return c
}

func portsNode(ports []models.PortMapping) *yaml.Node {
	items := make([]string, len(ports))
	for i, p := range ports {
		items[i] = portString(p)
	}
	return strList(items)
}

// volumesNode writes mounts in the long form, which takes any host path.
func volumesNode(vs []models.VolumeMount) *yaml.Node {
	if len(vs) == 0 {
		return nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, v := range vs {
		m := mapNode()
		m.Content = append(m.Content, strNode("type"), strNode(string(v.Kind)),
			strNode("source"), strNode(v.Source), strNode("target"), strNode(v.Target))
		if v.ReadOnly {
			m.Content = append(m.Content, strNode("read_only"), boolNode(true))
		}
		seq.Content = append(seq.Content, m)
	}
	return seq
}

func resourcesNode(r models.Resources) *yaml.Node {
	m := mapNode()
	add := func(key string, v int64) {
		if v != 0 {
			m.Content = append(m.Content, strNode(key), intNode(v))
		}
	}
	add("cpu_shares", int64(r.CPUShares))
	add("cpu_quota", r.CPUQuota)
	add("cpu_period", int64(r.CPUPeriod))
	add("memory", r.Memory)
	add("memory_swap", r.MemorySwap)
	add("blkio_weight", int64(r.BlkioWeight))
	add("pids_limit", r.PidsLimit)
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

func restartNode(rp models.RestartPolicy) *yaml.Node {
	switch {
	case rp.Name == "":
		return nil
	case rp.MaxRetries > 0:
		return strNode(fmt.Sprintf("%s:%d", rp.Name, rp.MaxRetries))
	}
	return strNode(rp.Name)
}

func healthNode(h *models.HealthCheck) *yaml.Node {
	if h == nil {
		return nil
	}
	m := mapNode()
	put := func(key string, v *yaml.Node) {
		if v != nil {
			m.Content = append(m.Content, strNode(key), v)
		}
	}
	put("cmd", strList(h.Cmd))
	put("http", optStr(h.HTTP))
	put("tcp", optStr(h.TCP))
	put("interval", durationNode(h.Interval))
	put("timeout", durationNode(h.Timeout))
	if h.Retries != 0 {
		put("retries", intNode(int64(h.Retries)))
	}
	put("start_period", durationNode(h.StartPeriod))
	put("on_unhealthy", optStr(h.OnUnhealthy))
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

func dependsNode(deps []models.Dependency) *yaml.Node {
	if len(deps) == 0 {
		return nil
	}
	m := mapNode()
	for _, d := range deps {
		dm := mapNode()
		if d.Condition != "" {
			dm.Content = append(dm.Content, strNode("condition"), strNode(d.Condition))
		}
		if d.Timeout != 0 {
			dm.Content = append(dm.Content, strNode("timeout"), strNode(d.Timeout.String()))
		}
		m.Content = append(m.Content, strNode(d.Name), dm)
	}
	return m
}

func replicasNode(r *models.Replicas) *yaml.Node {
	if r == nil {
		return nil
	}
	m := mapNode()
	if r.Count != 0 {
		m.Content = append(m.Content, strNode("count"), intNode(int64(r.Count)))
	}
	if r.Strategy != "" {
		m.Content = append(m.Content, strNode("strategy"), strNode(r.Strategy))
	}
	return m
}

func labelsNode(labels map[string]string) *yaml.Node {
	if len(labels) == 0 {
		return nil
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := mapNode()
	for _, k := range keys {
		m.Content = append(m.Content, strNode(k), strNode(labels[k]))
	}
	return m
}

// hostPort joins a host and a port, bracketing an IPv6 address.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
