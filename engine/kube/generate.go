package kube

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/budgie-sh/budgie/models"
)

// defaultStorage is the size Generate asks for a named volume's claim:
// Kubernetes needs one, and Budgie's volumes have none.
var defaultStorage = resource.MustParse("1Gi")

// Manifest is what Generate writes.
type Manifest struct {
	// YAML holds the documents, separated by ---; a document is headed by
	// comments saying what Kubernetes does differently from Budgie.
	YAML []byte
	// Objects are the objects, in the order written: *corev1.PersistentVolumeClaim
	// (volumes several containers share), then per container its
	// *appsv1.Deployment or *appsv1.StatefulSet and its *corev1.Service(s).
	Objects []any
	// Warnings are the comments of every document, each naming its container.
	Warnings []string
}

// object is one object to write with the comments that head it.
type object struct {
	obj   any
	notes []string
}

// generator holds the names taken while writing one manifest.
type generator struct {
	objects []object
	// workloads, services and claims are the Kubernetes names taken, per kind.
	workloads, services, claims map[string]bool
	// shared maps a named volume that several containers (or replicas)
	// mount to the PersistentVolumeClaim written for it.
	shared map[string]string
}

// Generate writes the Kubernetes objects that run specs (see the package
// doc and docs/interop.md for the mapping). A spec's secrets are
// written as references; their values are never read.
func Generate(specs []models.ContainerSpec) (*Manifest, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("nothing to generate: no container given")
	}
	g := &generator{workloads: map[string]bool{}, services: map[string]bool{}, claims: map[string]bool{}, shared: map[string]string{}}
	g.sharedClaims(specs)
	for _, s := range specs {
		g.spec(s)
	}
	return g.manifest(specs)
}

// sharedClaims writes a PersistentVolumeClaim for each named volume that
// more than one container mounts, or a replicated one: a StatefulSet's
// claim templates would give each pod its own volume, and Budgie's
// containers share it.
func (g *generator) sharedClaims(specs []models.ContainerSpec) {
	users := map[string]int{}
	var order []string
	for _, s := range specs {
		seen := map[string]bool{}
		for _, v := range s.Volumes {
			if v.Kind != models.VolumeNamed || seen[v.Source] {
				continue
			}
			seen[v.Source] = true
			if users[v.Source] == 0 {
				order = append(order, v.Source)
			}
			users[v.Source] += replicaCount(s)
		}
	}
	for _, v := range order {
		if users[v] < 2 {
			continue
		}
		pvc := claim(v, unique(k8sName(v), g.claims))
		pvc.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}
		g.shared[v] = pvc.Name
		g.objects = append(g.objects, object{obj: &pvc, notes: []string{
			fmt.Sprintf("volume %s is shared by several containers: ReadWriteOnce lets the pods of one node share it", v)}})
	}
}

// claim returns the PersistentVolumeClaim of a named volume; the
// volume's name is kept in budgie.sh/name when Kubernetes' differs.
func claim(volume, name string) corev1.PersistentVolumeClaim {
	pvc := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: defaultStorage}},
		},
	}
	if name != volume {
		pvc.Annotations = map[string]string{AnnotationName: volume}
	}
	return pvc
}

func replicaCount(s models.ContainerSpec) int {
	if s.Replicas == nil || s.Replicas.Count < 1 {
		return 1
	}
	return s.Replicas.Count
}

// workloadGen is one container's workload being written.
type workloadGen struct {
	g    *generator
	s    models.ContainerSpec
	name string
	// extras are the fields Kubernetes has no word for, written to the
	// budgie.sh/bundle annotation.
	extras models.ContainerSpec
	notes  []string
	// podVolumes are the pod's volume names taken.
	podVolumes map[string]bool
	templates  []corev1.PersistentVolumeClaim
}

func (w *workloadGen) note(format string, args ...any) {
	w.notes = append(w.notes, fmt.Sprintf(format, args...))
}

// spec writes one container's workload and Services.
func (g *generator) spec(s models.ContainerSpec) {
	w := &workloadGen{g: g, s: s, name: unique(k8sName(s.Name), g.workloads), podVolumes: map[string]bool{}}
	labels := w.labels()
	podLabels := map[string]string{LabelService: w.name}
	for k, v := range labels {
		podLabels[k] = v
	}
	pod := w.podSpec()
	services := w.services()
	meta := metav1.ObjectMeta{Name: w.name, Labels: labels, Annotations: w.annotations()}
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: pod}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{LabelService: w.name}}
	replicas := int32(replicaCount(s))
	var obj any
	if len(w.templates) > 0 || hasNamed(s) {
		serviceName := w.name
		if len(services) > 0 {
			serviceName = services[0].Name
		}
		obj = &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}, ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: &replicas, Selector: selector, Template: template,
				ServiceName: serviceName, VolumeClaimTemplates: w.templates}}
	} else {
		obj = &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: selector, Template: template}}
	}
	g.objects = append(g.objects, object{obj: obj, notes: w.notes})
	for i := range services {
		g.objects = append(g.objects, object{obj: &services[i]})
	}
}

func hasNamed(s models.ContainerSpec) bool {
	for _, v := range s.Volumes {
		if v.Kind == models.VolumeNamed {
			return true
		}
	}
	return false
}

// labels returns the container's labels that Kubernetes takes; the
// others travel in budgie.sh/bundle.
func (w *workloadGen) labels() map[string]string {
	var out map[string]string
	for k, v := range w.s.Labels {
		if validLabel(k, v) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
			continue
		}
		if w.extras.Labels == nil {
			w.extras.Labels = map[string]string{}
		}
		w.extras.Labels[k] = v
	}
	if len(w.extras.Labels) > 0 {
		keys := make([]string, 0, len(w.extras.Labels))
		for k := range w.extras.Labels {
			keys = append(keys, strconv.Quote(k))
		}
		sort.Strings(keys)
		w.note("labels %s are not valid Kubernetes labels: %s keeps them for budgie kube play", strings.Join(keys, ", "), AnnotationBundle)
	}
	return out
}

// annotations returns budgie.sh/name (when the Kubernetes name differs)
// and budgie.sh/bundle (when some field has no Kubernetes word).
func (w *workloadGen) annotations() map[string]string {
	a := map[string]string{}
	if w.name != w.s.Name {
		a[AnnotationName] = w.s.Name
	}
	if n := specNode(w.extras); len(n.Content) > 0 {
		if text, err := encodeNode(n); err == nil {
			a[AnnotationBundle] = string(text)
		}
	}
	if len(a) == 0 {
		return nil
	}
	return a
}

// podSpec writes the pod: its one container and its volumes, and the
// pod-level fields.
func (w *workloadGen) podSpec() corev1.PodSpec {
	s := w.s
	c := corev1.Container{
		Name: w.name, Image: s.Image, ImagePullPolicy: corev1.PullIfNotPresent,
		Command: escapeAll(s.Command), Args: escapeAll(s.Args), WorkingDir: s.Workdir, TTY: s.Tty, Stdin: s.StdinOpen,
		Env: env(s.Env), Ports: containerPorts(s.Ports), Resources: w.resources(),
		SecurityContext: w.securityContext(),
	}
	if s.Health != nil {
		c.ReadinessProbe = w.probe(s.Health)
		if s.Health.OnUnhealthy == "restart" {
			c.LivenessProbe = c.ReadinessProbe.DeepCopy()
		}
	}
	volumes := w.volumes(&c)
	grace := w.grace()
	noLinks := false
	pod := corev1.PodSpec{Containers: []corev1.Container{c}, Volumes: volumes, TerminationGracePeriodSeconds: &grace,
		EnableServiceLinks: &noLinks}
	w.podFields(&pod)
	return pod
}

// env writes KEY=VALUE pairs, escaped against Kubernetes' $(VAR) expansion.
func env(pairs []string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, kv := range pairs {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, corev1.EnvVar{Name: k, Value: escape(v)})
	}
	return out
}

// containerPorts lists the container's published ports once each (the
// Services publish them).
func containerPorts(ports []models.PortMapping) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	seen := map[string]bool{}
	for _, p := range ports {
		proto := k8sProtocol(p.Protocol)
		key := fmt.Sprint(p.ContainerPort, proto)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, corev1.ContainerPort{ContainerPort: int32(p.ContainerPort), Protocol: proto})
	}
	return out
}

func k8sProtocol(p string) corev1.Protocol {
	if p == "udp" {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// services writes a Service per set of published ports: those on a fixed
// host port (LoadBalancer: k3s's ServiceLB binds the port on the node),
// those on a random one (NodePort), per host address.
func (w *workloadGen) services() []corev1.Service {
	type group struct {
		typ    corev1.ServiceType
		hostIP string
	}
	var order []group
	ports := map[group][]corev1.ServicePort{}
	names := map[group]map[string]bool{}
	for _, p := range w.s.Ports {
		gr := group{corev1.ServiceTypeLoadBalancer, p.HostIP}
		port := int32(p.HostPort)
		if p.HostPort == 0 {
			gr.typ, port = corev1.ServiceTypeNodePort, int32(p.ContainerPort)
		}
		if _, ok := ports[gr]; !ok {
			order = append(order, gr)
			names[gr] = map[string]bool{}
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		sp := corev1.ServicePort{Name: unique(fmt.Sprintf("%s-%d", proto, port), names[gr]), Protocol: k8sProtocol(p.Protocol),
			Port: port, TargetPort: intstr.FromInt32(int32(p.ContainerPort))}
		if proto == "http" {
			http := "http"
			sp.AppProtocol = &http
		}
		ports[gr] = append(ports[gr], sp)
	}
	var out []corev1.Service
	for _, gr := range order {
		svc := corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: unique(w.name, w.g.services)},
			Spec:       corev1.ServiceSpec{Type: gr.typ, Selector: map[string]string{LabelService: w.name}, Ports: ports[gr]}}
		if gr.hostIP != "" {
			svc.Annotations = map[string]string{AnnotationHostIP: gr.hostIP}
			w.note("Service %s: Kubernetes publishes on every address; %s keeps %s for budgie kube play", svc.Name, AnnotationHostIP, gr.hostIP)
		}
		if gr.typ == corev1.ServiceTypeNodePort {
			w.note("Service %s: a random host port is a NodePort (Kubernetes picks it from 30000-32767)", svc.Name)
		}
		out = append(out, svc)
	}
	return out
}
