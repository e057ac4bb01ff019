package kube

import (
	"math"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/budgie-sh/budgie/models"
)

// resources writes the memory and CPU limits, and the CPU weight as a CPU
// request (the kubelet sets cpu.shares from it); what Kubernetes cannot
// say exactly travels in budgie.sh/bundle.
func (w *workloadGen) resources() corev1.ResourceRequirements {
	r, x := w.s.Resources, &w.extras.Resources
	var out corev1.ResourceRequirements
	limits := corev1.ResourceList{}
	if r.Memory > 0 {
		limits[corev1.ResourceMemory] = *resource.NewQuantity(r.Memory, resource.BinarySI)
	}
	limitMilli := int64(0)
	if r.CPUQuota > 0 {
		period := int64(r.CPUPeriod)
		if period == 0 {
			period = 100000
		}
		limitMilli = int64(math.Ceil(float64(r.CPUQuota) * 1000 / float64(period)))
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(limitMilli, resource.DecimalSI)
		if period != 100000 || r.CPUQuota%100 != 0 {
			x.CPUQuota, x.CPUPeriod = r.CPUQuota, r.CPUPeriod
		}
	}
	if len(limits) > 0 {
		out.Limits = limits
	}
	if r.CPUShares > 0 {
		milli := max(int64(math.Round(float64(r.CPUShares)*1000/1024)), 1)
		switch {
		case limitMilli > 0 && milli > limitMilli:
			x.CPUShares = r.CPUShares
			w.note("cpu_shares %d would be a CPU request above the CPU limit: %s keeps it for budgie kube play", r.CPUShares, AnnotationBundle)
		default:
			out.Requests = corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(milli, resource.DecimalSI)}
			if min(max(milli*1024/1000, 2), 262144) != int64(r.CPUShares) {
				x.CPUShares = r.CPUShares
			}
		}
	}
	x.MemorySwap, x.BlkioWeight, x.PidsLimit = r.MemorySwap, r.BlkioWeight, r.PidsLimit
	if r.MemorySwap != 0 || r.BlkioWeight != 0 || r.PidsLimit != 0 {
		w.note("memory_swap, blkio_weight and pids_limit have no Kubernetes field: %s keeps them for budgie kube play", AnnotationBundle)
	}
	return out
}

// numericUser matches a user Kubernetes can run as: uid[:gid].
var numericUser = regexp.MustCompile(`^(\d+)(?::(\d+))?$`)

// securityContext writes a numeric user as runAsUser/runAsGroup; a user
// name travels in budgie.sh/bundle.
func (w *workloadGen) securityContext() *corev1.SecurityContext {
	if w.s.User == "" {
		return nil
	}
	m := numericUser.FindStringSubmatch(w.s.User)
	if m == nil {
		w.extras.User = w.s.User
		w.note("user %s is a name: Kubernetes runs as a number (securityContext.runAsUser); %s keeps it for budgie kube play", w.s.User, AnnotationBundle)
		return nil
	}
	uid, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		w.extras.User = w.s.User
		return nil
	}
	sc := &corev1.SecurityContext{RunAsUser: &uid}
	if m[2] != "" {
		gid, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			w.extras.User = w.s.User
			return nil
		}
		sc.RunAsGroup = &gid
	}
	return sc
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// seconds32 writes a duration as a probe's seconds, or its default when
// zero, keeping the exact value in budgie.sh/bundle when it is not whole.
func seconds32(d, def time.Duration, exact *time.Duration) int32 {
	if d == 0 {
		d = def
	}
	if d%time.Second != 0 {
		*exact = d
	}
	return int32(min(ceilSeconds(d), math.MaxInt32))
}

// probe writes the health check as a probe: exec for cmd, httpGet for
// http, tcpSocket for tcp, with Budgie's timing (its defaults written out).
func (w *workloadGen) probe(h *models.HealthCheck) *corev1.Probe {
	x := &models.HealthCheck{}
	p := &corev1.Probe{SuccessThreshold: 1, FailureThreshold: int32(h.Retries)}
	if h.Retries == 0 {
		p.FailureThreshold = defaultRetries
	}
	p.PeriodSeconds = seconds32(h.Interval, defaultInterval, &x.Interval)
	p.TimeoutSeconds = seconds32(h.Timeout, defaultTimeout, &x.Timeout)
	if h.StartPeriod > 0 {
		p.InitialDelaySeconds = seconds32(h.StartPeriod, 0, &x.StartPeriod)
	}
	switch {
	case len(h.Cmd) > 0:
		p.Exec = &corev1.ExecAction{Command: h.Cmd}
	case h.HTTP != "":
		p.HTTPGet = w.httpGet(h.HTTP)
	case h.TCP != "":
		host, port := "", h.TCP
		if strings.Contains(h.TCP, ":") {
			host, port, _ = net.SplitHostPort(h.TCP)
		}
		n, _ := strconv.Atoi(port)
		p.TCPSocket = &corev1.TCPSocketAction{Host: host, Port: intstr.FromInt32(int32(n))}
	}
	if x.Interval != 0 || x.Timeout != 0 || x.StartPeriod != 0 {
		w.extras.Health = x
		w.note("the health check's timing is not in whole seconds: the probe rounds it up, %s keeps it for budgie kube play", AnnotationBundle)
	}
	return p
}

// httpGet writes an http probe: ":PORT/path" on the pod's own address,
// or a URL (host, port, scheme).
func (w *workloadGen) httpGet(probe string) *corev1.HTTPGetAction {
	if rest, ok := strings.CutPrefix(probe, ":"); ok {
		port, p, hasPath := strings.Cut(rest, "/")
		n, _ := strconv.Atoi(port)
		g := &corev1.HTTPGetAction{Port: intstr.FromInt32(int32(n))}
		if hasPath {
			g.Path = "/" + p
		}
		return g
	}
	u, err := url.Parse(probe)
	if err != nil {
		return &corev1.HTTPGetAction{}
	}
	g := &corev1.HTTPGetAction{Host: u.Hostname(), Scheme: corev1.URISchemeHTTP, Path: u.RequestURI()}
	port := 80
	if u.Scheme == "https" {
		g.Scheme, port = corev1.URISchemeHTTPS, 443
	}
	if n, err := strconv.Atoi(u.Port()); err == nil {
		port = n
	}
	g.Port = intstr.FromInt32(int32(port))
	return g
}

// grace writes stop_timeout as the pod's termination grace period.
func (w *workloadGen) grace() int64 {
	d := w.s.StopTimeout
	if d == 0 {
		d = defaultStopTimeout
	}
	if d%time.Second != 0 {
		w.extras.StopTimeout = d
	}
	return ceilSeconds(d)
}

// volumes writes the container's mounts and the pod's volumes: a named
// volume is a volumeClaimTemplate (or the shared claim written for it), a
// bind mount a hostPath, a secret the key NAME of Secret NAME at
// /run/secrets/NAME.
func (w *workloadGen) volumes(c *corev1.Container) []corev1.Volume {
	var vols []corev1.Volume
	templates := map[string]string{}
	for _, v := range w.s.Volumes {
		m := corev1.VolumeMount{MountPath: v.Target, ReadOnly: v.ReadOnly}
		switch {
		case v.Kind == models.VolumeNamed && w.g.shared[v.Source] != "":
			claim := w.g.shared[v.Source]
			if !w.podVolumes[claim] {
				w.podVolumes[claim] = true
				vols = append(vols, corev1.Volume{Name: claim, VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
			}
			m.Name = claim
		case v.Kind == models.VolumeNamed:
			name, ok := templates[v.Source]
			if !ok {
				name = unique(k8sName(v.Source), w.podVolumes)
				templates[v.Source] = name
				w.templates = append(w.templates, claim(v.Source, name))
			}
			m.Name = name
		default:
			m.Name = unique("host-"+k8sName(path.Base(v.Source)), w.podVolumes)
			vols = append(vols, corev1.Volume{Name: m.Name, VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: v.Source}}})
			w.note("mounts the host path %s (hostPath): it must exist on the node the pod runs on, and holds that node's files", v.Source)
		}
		c.VolumeMounts = append(c.VolumeMounts, m)
	}
	for _, s := range w.s.Secrets {
		secret := s
		if !validSecretName(s) {
			secret = k8sName(s)
		}
		name := unique("secret-"+k8sName(s), w.podVolumes)
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: secretsDir + "/" + s, SubPath: secret, ReadOnly: true})
		w.note("mounts secret %s: create it in the cluster first, its value is not in this file (kubectl create secret generic %s --from-file=%s=FILE)",
			s, secret, secret)
	}
	return vols
}

// podFields writes the pod-level fields and keeps in budgie.sh/bundle
// what Kubernetes has no word for.
func (w *workloadGen) podFields(pod *corev1.PodSpec) {
	s, x := w.s, &w.extras
	switch {
	case s.Hostname == "":
	case validDNSLabel(s.Hostname):
		pod.Hostname = s.Hostname
	default:
		x.Hostname = s.Hostname
	}
	switch {
	case len(s.Networks) == 1 && s.Networks[0] == models.HostNetwork:
		pod.HostNetwork = true
	case len(s.Networks) > 0:
		x.Networks = s.Networks
		w.note("networks %s: a pod has one network in Kubernetes; %s keeps them for budgie kube play", strings.Join(s.Networks, ", "), AnnotationBundle)
	}
	switch rp := s.RestartPolicy; rp.Name {
	case models.RestartAlways:
	case "", models.RestartNo:
		x.RestartPolicy = models.RestartPolicy{Name: models.RestartNo}
		w.note("Kubernetes restarts a %s's pods whatever their exit; restart_policy: no holds for budgie kube play only", w.kind())
	default:
		x.RestartPolicy = rp
		w.note("Kubernetes restarts a %s's pods whatever their exit; restart_policy: %s holds for budgie kube play only", w.kind(), restartNode(rp).Value)
	}
	if s.StopSignal != "" && s.StopSignal != "SIGTERM" {
		x.StopSignal = s.StopSignal
		w.note("stop_signal %s: Kubernetes sends the image's STOPSIGNAL; %s keeps it for budgie kube play", s.StopSignal, AnnotationBundle)
	} else if s.StopSignal != "" {
		x.StopSignal = s.StopSignal
	}
	if len(s.DependsOn) > 0 {
		x.DependsOn = s.DependsOn
		w.note("depends_on: Kubernetes starts pods in no order; %s keeps it for budgie kube play", AnnotationBundle)
	}
	if r := s.Replicas; r != nil && (r.Count == 1 || r.Strategy != "") {
		x.Replicas = &models.Replicas{Strategy: r.Strategy}
		if r.Count == 1 {
			x.Replicas.Count = 1
		}
		if r.Strategy != "" {
			w.note("replicas.strategy %s: a Service spreads connections its own way; %s keeps it for budgie kube play", r.Strategy, AnnotationBundle)
		}
	}
}

// kind is the workload's kind.
func (w *workloadGen) kind() string {
	if hasNamed(w.s) {
		return "StatefulSet"
	}
	return "Deployment"
}
