package kube

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/models"
)

// Budgie's defaults, which Play leaves out of the bundle when the
// manifest says the same.
const (
	defaultStopTimeout = 10 * time.Second
	defaultInterval    = 30 * time.Second
	defaultTimeout     = 30 * time.Second
	defaultRetries     = 3
)

// maxSeconds bounds a number of seconds in a manifest (11 days).
const maxSeconds = 1_000_000

// Bounds of the resources Play takes.
var (
	maxMemory = resource.MustParse("1Pi")
	maxCPU    = resource.MustParse("100k")
	minCPU    = resource.MustParse("10m")
)

// seconds converts a number of seconds at path, refusing what is out of bounds.
func (w *workload) seconds(n int64, path string) (time.Duration, bool) {
	if n < 0 || n > maxSeconds {
		w.d.problem(path, "", "%d is out of range (0 to %d seconds)", n, maxSeconds)
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// container converts the pod's one container into the workload's spec.
func (pl *player) container(w *workload, c *corev1.Container, path string) {
	d := w.d
	w.spec.Image = c.Image
	w.from("image", path+".image")
	if c.Image == "" {
		d.problem(path+".image", "name the image to run", "image is missing")
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullIfNotPresent:
	default:
		d.problem(path+".imagePullPolicy", "Budgie pulls an image only when it is missing (budgie pull IMAGE updates it): use IfNotPresent",
			"imagePullPolicy %s is not supported", c.ImagePullPolicy)
	}
	w.spec.Workdir = c.WorkingDir
	w.from("workdir", path+".workingDir")
	w.spec.Tty, w.spec.StdinOpen = c.TTY, c.Stdin
	w.from("tty", path+".tty")
	w.from("stdin_open", path+".stdin")
	w.ports(c, path)
	env := pl.env(w, c, path)
	w.spec.Command = pl.expandAll(w, c.Command, env, path+".command")
	w.from("command", path+".command")
	w.spec.Args = pl.expandAll(w, c.Args, env, path+".args")
	w.from("args", path+".args")
	pl.volumeMounts(w, c, path)
	pl.resources(w, c, path)
	w.health(c, path)
	w.user(c, path)
}

// expandAll expands $(VAR) in a command or its arguments with the
// container's env, as Kubernetes does, charging the play's budget.
func (pl *player) expandAll(w *workload, list []string, env map[string]string, path string) []string {
	var out []string
	for i, s := range list {
		v, ok := pl.expand(w, fmt.Sprintf("%s[%d]", path, i), s, 0, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if !ok {
			if pl.overBudget {
				return nil
			}
			continue
		}
		out = append(out, v)
	}
	return out
}

// ports reads the container's ports: a hostPort publishes the port on
// the host (as Kubernetes does on its node); a name is kept for Services
// and probes that name the port.
func (w *workload) ports(c *corev1.Container, path string) {
	for i, p := range c.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", path, i)
		proto, ok := protocol(p.Protocol)
		switch {
		case p.ContainerPort < 1 || p.ContainerPort > 65535:
			w.d.problem(pp+".containerPort", "", "port %d is out of range (1 to 65535)", p.ContainerPort)
			continue
		case !ok:
			w.d.problem(pp+".protocol", "write TCP or UDP", "protocol %s is not supported", p.Protocol)
			continue
		}
		if p.Name != "" {
			w.named[p.Name] = p.ContainerPort
		}
		switch {
		case p.HostPort == 0 && p.HostIP != "":
			w.d.problem(pp+".hostIP", "add hostPort, or leave hostIP out", "hostIP without hostPort publishes nothing")
		case p.HostPort == 0:
		case p.HostPort < 0 || p.HostPort > 65535:
			w.d.problem(pp+".hostPort", "", "port %d is out of range (1 to 65535)", p.HostPort)
		case p.HostIP != "" && !validIP(p.HostIP):
			w.d.problem(pp+".hostIP", "write an IP address such as 127.0.0.1", "invalid address %q", p.HostIP)
		default:
			w.from(fmt.Sprintf("ports[%d]", len(w.spec.Ports)), pp)
			w.spec.Ports = append(w.spec.Ports, models.PortMapping{HostIP: p.HostIP, HostPort: uint16(p.HostPort),
				ContainerPort: uint16(p.ContainerPort), Protocol: proto})
		}
	}
}

// protocol maps a Kubernetes protocol to a bundle's.
func protocol(p corev1.Protocol) (string, bool) {
	switch p {
	case "", corev1.ProtocolTCP:
		return "tcp", true
	case corev1.ProtocolUDP:
		return "udp", true
	}
	return "", false
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// env reads envFrom (ConfigMaps of the manifest) then env, as Kubernetes
// orders them (env wins), expanding $(VAR) in values; it returns the
// variables by name for the command's expansion.
func (pl *player) env(w *workload, c *corev1.Container, path string) map[string]string {
	var order []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for i, ef := range c.EnvFrom {
		p := fmt.Sprintf("%s.envFrom[%d]", path, i)
		if ef.ConfigMapRef == nil {
			w.d.problem(p, "name a ConfigMap of the manifest: configMapRef: {name: NAME}", "envFrom needs configMapRef")
			continue
		}
		cm := pl.configMapOf(w, ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional, p+".configMapRef.name")
		if cm == nil {
			continue
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if name := ef.Prefix + k; !bundle.ValidEnvKey(name) {
				w.d.problem(p, "", "ConfigMap %s's key %q is no variable name", cm.Name, name)
			} else if pl.charge(w, p, len(name)+1+len(cm.Data[k])) {
				set(name, cm.Data[k])
			} else {
				return vals
			}
		}
	}
	for i, e := range c.Env {
		p := fmt.Sprintf("%s.env[%d]", path, i)
		if !bundle.ValidEnvKey(e.Name) {
			w.d.problem(p+".name", "a name has no spaces, no = and is not empty", "invalid variable name %q", e.Name)
			continue
		}
		if e.ValueFrom == nil {
			v, ok := pl.expand(w, p+".value", e.Value, len(e.Name)+1, func(k string) (string, bool) { v, ok := vals[k]; return v, ok })
			if ok {
				set(e.Name, v)
			} else if pl.overBudget {
				return vals
			}
			continue
		}
		ref := e.ValueFrom.ConfigMapKeyRef
		if ref == nil {
			w.d.problem(p+".valueFrom", "take the value from a ConfigMap of the manifest: configMapKeyRef", "valueFrom needs configMapKeyRef")
			continue
		}
		cm := pl.configMapOf(w, ref.Name, ref.Optional, p+".valueFrom.configMapKeyRef.name")
		if cm == nil {
			continue
		}
		v, ok := cm.Data[ref.Key]
		switch {
		case ok && !pl.charge(w, p+".valueFrom", len(e.Name)+1+len(v)):
			return vals
		case ok:
			set(e.Name, v)
		case ref.Optional == nil || !*ref.Optional:
			w.d.problem(p+".valueFrom.configMapKeyRef.key", "", "ConfigMap %s has no key %q", cm.Name, ref.Key)
		}
	}
	for _, k := range order {
		w.spec.Env = append(w.spec.Env, k+"="+vals[k])
	}
	w.from("env", path+".env")
	return vals
}

// configMapOf returns the manifest's ConfigMap name; nil when it is not
// there (a problem, unless the reference is optional).
func (pl *player) configMapOf(w *workload, name string, optional *bool, path string) *corev1.ConfigMap {
	if cm, ok := pl.configMaps[name]; ok {
		return cm
	}
	if optional == nil || !*optional {
		w.d.problem(path, "put the ConfigMap in the same file: Budgie keeps no ConfigMaps", "ConfigMap %s is not in the manifest", name)
	}
	return nil
}

// resources reads limits (memory, cpu) and requests.cpu (the cgroup's CPU
// weight, as the kubelet sets it); requests.memory only guides a
// scheduler, which Budgie has not.
func (pl *player) resources(w *workload, c *corev1.Container, path string) {
	r, p := &w.spec.Resources, path+".resources"
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		w.from("resources.memory", p+".limits.memory")
		if q.Sign() <= 0 || q.Cmp(maxMemory) > 0 {
			w.d.problem(p+".limits.memory", "", "%s is out of range (above 0, at most 1Pi)", q.String())
		} else {
			r.Memory = q.Value()
		}
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		w.from("resources.cpu_quota", p+".limits.cpu")
		if q.Cmp(minCPU) < 0 || q.Cmp(maxCPU) > 0 {
			w.d.problem(p+".limits.cpu", "Budgie's least CPU limit is 10m (0.01 CPU)", "%s is out of range (10m to 100k)", q.String())
		} else {
			r.CPUQuota, r.CPUPeriod = q.MilliValue()*100, 100000
		}
	}
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		w.from("resources.cpu_shares", p+".requests.cpu")
		if q.Sign() <= 0 || q.Cmp(maxCPU) > 0 {
			w.d.problem(p+".requests.cpu", "", "%s is out of range (above 0, at most 100k)", q.String())
		} else {
			r.CPUShares = uint64(min(max(q.MilliValue()*1024/1000, 2), 262144))
		}
	}
	if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
		pl.warn(w.d, p+".requests.memory", "memory request %s is not enforced: it guides Kubernetes' scheduler, and Budgie has none", q.String())
	}
}

// user reads runAsUser and runAsGroup, the container's or else the pod's.
func (w *workload) user(c *corev1.Container, path string) {
	uid, gid := (*int64)(nil), (*int64)(nil)
	uidPath := w.podPath + ".securityContext.runAsUser"
	if sc := w.pod.SecurityContext; sc != nil {
		uid, gid = sc.RunAsUser, sc.RunAsGroup
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid, uidPath = sc.RunAsUser, path+".securityContext.runAsUser"
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
	}
	w.from("user", uidPath)
	switch {
	case uid == nil && gid == nil:
	case uid == nil:
		w.d.problem(path+".securityContext.runAsGroup", "add runAsUser: Budgie's user is uid[:gid]", "runAsGroup needs runAsUser")
	case *uid < 0 || *uid > 1<<32-1 || (gid != nil && (*gid < 0 || *gid > 1<<32-1)):
		w.d.problem(uidPath, "", "a user or group ID is 0 to 4294967295")
	case gid == nil:
		w.spec.User = fmt.Sprint(*uid)
	default:
		w.spec.User = fmt.Sprintf("%d:%d", *uid, *gid)
	}
}
