package kube

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/budgie-sh/budgie/models"
)

// health reads the readiness and liveness probes into the one health
// check Budgie has: a readinessProbe is the check (the load balancer
// leaves an unhealthy replica out, as a Service leaves an unready pod
// out), a livenessProbe the same check with on_unhealthy: restart; both
// must then be the same probe.
func (w *workload) health(c *corev1.Container, path string) {
	ready, live := c.ReadinessProbe, c.LivenessProbe
	probe, ppath := ready, path+".readinessProbe"
	switch {
	case ready == nil && live == nil:
		return
	case ready == nil:
		probe, ppath = live, path+".livenessProbe"
	case live != nil && !reflect.DeepEqual(ready, live):
		w.d.problem(path+".livenessProbe", "make the two probes the same, or keep one: Budgie has one health check",
			"the liveness probe differs from the readiness probe")
		return
	}
	w.from("health", ppath)
	h := w.probe(probe, ppath)
	if h == nil {
		return
	}
	if live != nil {
		h.OnUnhealthy = "restart"
	}
	w.spec.Health = h
}

// probe converts one probe at path.
func (w *workload) probe(p *corev1.Probe, path string) *models.HealthCheck {
	h := &models.HealthCheck{}
	n := 0
	if p.Exec != nil {
		n++
		h.Cmd = p.Exec.Command
		if len(h.Cmd) == 0 {
			w.d.problem(path+".exec.command", "", "is empty")
		}
	}
	if g := p.HTTPGet; g != nil {
		n++
		h.HTTP = w.httpProbe(g, path+".httpGet")
	}
	if t := p.TCPSocket; t != nil {
		n++
		if port, ok := w.probePort(t.Port, path+".tcpSocket.port"); ok && w.probeHost(t.Host, path+".tcpSocket.host") {
			h.TCP = strconv.Itoa(port)
			if t.Host != "" {
				h.TCP = hostPort(t.Host, port)
			}
		}
	}
	if n != 1 {
		w.d.problem(path, "give exactly one of exec, httpGet and tcpSocket", "a probe needs exactly one handler, this one has %d", n)
		return nil
	}
	if p.SuccessThreshold > 1 {
		w.d.problem(path+".successThreshold", "Budgie's check is healthy after one success: leave it out", "successThreshold %d is not supported", p.SuccessThreshold)
	}
	h.Interval = w.probeSeconds(p.PeriodSeconds, 10, defaultInterval, path+".periodSeconds")
	h.Timeout = w.probeSeconds(p.TimeoutSeconds, 1, defaultTimeout, path+".timeoutSeconds")
	h.StartPeriod = w.probeSeconds(p.InitialDelaySeconds, 0, 0, path+".initialDelaySeconds")
	switch f := p.FailureThreshold; {
	case f < 0 || f > 1000:
		w.d.problem(path+".failureThreshold", "", "%d is out of range (1 to 1000)", f)
	case f == 0 || f == defaultRetries:
	default:
		h.Retries = int(f)
	}
	return h
}

// probeSeconds converts a probe's seconds field: zero (unset) is
// Kubernetes' default k8sDefault; Budgie's own default budgieDefault is
// left out (zero).
func (w *workload) probeSeconds(n, k8sDefault int32, budgieDefault time.Duration, path string) time.Duration {
	if n == 0 {
		n = k8sDefault
	}
	d, ok := w.seconds(int64(n), path)
	if !ok || d == budgieDefault {
		return 0
	}
	return d
}

// httpProbe converts an httpGet: without a host it is ":PORT/path" (the
// container's own address); with one (a loopback address), a URL fetched
// from the node.
func (w *workload) httpProbe(g *corev1.HTTPGetAction, path string) string {
	port, ok := w.probePort(g.Port, path+".port")
	if !ok || !w.probeHost(g.Host, path+".host") {
		return ""
	}
	p := g.Path
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	switch g.Scheme {
	case "", corev1.URISchemeHTTP:
		if g.Host == "" {
			return ":" + strconv.Itoa(port) + p
		}
		return "http://" + hostPort(g.Host, port) + p
	case corev1.URISchemeHTTPS:
		if g.Host == "" {
			w.d.problem(path+".scheme", "Budgie probes the container's own port over http; for https, give host: 127.0.0.1 and publish the port on it",
				"HTTPS without host is not supported")
			return ""
		}
		return "https://" + hostPort(g.Host, port) + p
	}
	w.d.problem(path+".scheme", "write HTTP or HTTPS", "unknown scheme %q", g.Scheme)
	return ""
}

// probePort resolves a probe's port: a number, or the name of one of the
// container's ports.
func (w *workload) probePort(p intstr.IntOrString, path string) (int, bool) {
	n := int(p.IntVal)
	if p.Type == intstr.String {
		named, ok := w.named[p.StrVal]
		if !ok {
			w.d.problem(path, "name one of the container's ports, or write the number", "no container port is named %q", p.StrVal)
			return 0, false
		}
		n = int(named)
	}
	if n < 1 || n > 65535 {
		w.d.problem(path, "", "port %d is out of range (1 to 65535)", n)
		return 0, false
	}
	return n, true
}

// probeHost refuses a probe's host (at path) other than the loopback
// addresses: the node's keeper runs the probe, and a manifest from a
// download must not make it reach another address.
func (w *workload) probeHost(host, path string) bool {
	if loopbackHost(host) {
		return true
	}
	w.d.problem(path, "Budgie's health check runs against the container itself: leave host out (or write 127.0.0.1 for a port published on the node)",
		"a probe of host %q is not supported: the node would probe that address", host)
	return false
}

// loopbackHost reports whether a probe's host is empty or the node's own
// loopback address.
func loopbackHost(host string) bool {
	switch strings.Trim(host, "[]") {
	case "", "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}
