package kube

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/models"
)

// workload is one Pod, Deployment or StatefulSet: one Budgie container.
type workload struct {
	d *decoded
	// meta is the object's metadata; podMeta its pods' (a Pod's own).
	meta, podMeta metav1.ObjectMeta
	pod           *corev1.PodSpec
	// podPath is the path of the pod spec in the object.
	podPath string
	// templates are a StatefulSet's volumeClaimTemplates, by name, with
	// their Budgie volume names.
	templates map[string]string
	spec      models.ContainerSpec
	// extras is the budgie.sh/bundle annotation's mapping, or nil.
	extras *yaml.Node
	// origin maps a bundle field ("ports[1]", "resources.memory") to the
	// manifest field it came from.
	origin map[string]origin
	// named are the container's named ports.
	named map[string]int32
}

// origin is a field of a document.
type origin struct {
	d    *decoded
	path string
}

// from records that the bundle field came from path in the workload's document.
func (w *workload) from(field, path string) { w.origin[field] = origin{w.d, path} }

// originOf returns where a bundle field came from: the field's own
// record, or its nearest enclosing field's, or the object's name.
func (w *workload) originOf(field string) origin {
	for f := field; f != ""; {
		if o, ok := w.origin[f]; ok {
			return o
		}
		cut := strings.LastIndexAny(f, ".[")
		if cut < 0 {
			break
		}
		f = f[:cut]
	}
	return origin{w.d, "metadata.name"}
}

// workload converts a Pod, Deployment or StatefulSet document; other
// kinds are left alone.
func (pl *player) workload(d *decoded) {
	w := &workload{d: d, origin: map[string]origin{}, named: map[string]int32{}}
	var replicas *int32
	switch o := d.obj.(type) {
	case *corev1.Pod:
		w.meta, w.podMeta, w.pod, w.podPath = o.ObjectMeta, o.ObjectMeta, &o.Spec, "spec"
	case *appsv1.Deployment:
		w.meta, w.podMeta, w.pod, w.podPath = o.ObjectMeta, o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec"
		replicas = o.Spec.Replicas
		w.checkSelector(o.Spec.Selector)
	case *appsv1.StatefulSet:
		w.meta, w.podMeta, w.pod, w.podPath = o.ObjectMeta, o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, "spec.template.spec"
		replicas = o.Spec.Replicas
		w.checkSelector(o.Spec.Selector)
		w.templates = map[string]string{}
		for i, t := range o.Spec.VolumeClaimTemplates {
			if name, ok := pl.claim(d, t, fmt.Sprintf("spec.volumeClaimTemplates[%d]", i)); ok {
				w.templates[t.Name] = name
			}
		}
	default:
		return
	}
	if w.podPath != "spec" {
		checkMeta(d, w.podMeta, "spec.template.metadata")
	}
	w.name(pl)
	w.replicas(replicas)
	if len(w.templates) > 0 && w.spec.Replicas != nil {
		pl.warn(d, "spec.volumeClaimTemplates", "Kubernetes gives each of the %d pods a volume of its own; Budgie's replicas share one volume per claim template",
			w.spec.Replicas.Count)
	}
	w.extras = w.readExtras()
	if len(w.pod.Containers) != 1 {
		d.problem(w.podPath+".containers", "split it: one Deployment per container (they reach each other by name on their network)",
			"a pod of %d containers: Budgie runs one container per pod (the containers of a pod share one network namespace, which Budgie cannot give)",
			len(w.pod.Containers))
		pl.refused = append(pl.refused, w) // its Services select it, and say nothing more
		return
	}
	w.podFields()
	pl.container(w, &w.pod.Containers[0], w.podPath+".containers[0]")
	pl.workloads = append(pl.workloads, w)
}

// name sets the container's name: the budgie.sh/name annotation, else
// metadata.name.
func (w *workload) name(pl *player) {
	w.spec.Name = w.meta.Name
	w.from("name", "metadata.name")
	if a, ok := w.meta.Annotations[AnnotationName]; ok {
		w.spec.Name = a
		w.from("name", "metadata.annotations")
	}
	if err := bundle.CheckContainerName(w.spec.Name); err != nil {
		w.d.problem(w.originOf("name").path, "a container name uses letters, digits, _, . and -, starting with a letter or digit, at most 63 characters",
			"invalid container name %q", w.spec.Name)
	}
}

// replicas sets the replica count: one container for none or 1, replicas
// behind the load balancer for more.
func (w *workload) replicas(n *int32) {
	w.from("replicas", "spec.replicas")
	switch {
	case n == nil || *n == 1:
	case *n < 1:
		w.d.problem("spec.replicas", "remove the object, or ask for at least 1", "replicas: %d runs no container", *n)
	default:
		w.spec.Replicas = &models.Replicas{Count: int(*n)}
	}
}

// checkSelector checks that the workload's selector selects its own pods.
func (w *workload) checkSelector(sel *metav1.LabelSelector) {
	if sel == nil {
		return
	}
	for k, v := range sel.MatchLabels {
		if got, ok := w.podMeta.Labels[k]; !ok || got != v {
			w.d.problem("spec.selector.matchLabels", "the selector must match spec.template.metadata.labels",
				"selects %s=%s, which the pod template does not carry", k, v)
		}
	}
}

// podFields converts the pod-level fields: restart policy, grace period,
// hostname, host network and labels.
func (w *workload) podFields() {
	p, d := w.pod, w.d
	w.from("restart_policy", w.podPath+".restartPolicy")
	switch rp := p.RestartPolicy; {
	case rp == "" || rp == corev1.RestartPolicyAlways:
		w.spec.RestartPolicy.Name = models.RestartAlways
	case d.kind != "Pod":
		d.problem(w.podPath+".restartPolicy", "a "+d.kind+"'s pods always restart: use a Pod for another policy",
			"restartPolicy %s is not allowed in a %s", rp, d.kind)
	case rp == corev1.RestartPolicyOnFailure:
		w.spec.RestartPolicy.Name = models.RestartOnFailure
	case rp == corev1.RestartPolicyNever:
		w.spec.RestartPolicy.Name = models.RestartNo
	default:
		d.problem(w.podPath+".restartPolicy", "write Always, OnFailure or Never", "unknown restartPolicy %q", rp)
	}
	w.from("stop_timeout", w.podPath+".terminationGracePeriodSeconds")
	grace := int64(30) // Kubernetes' default
	if p.TerminationGracePeriodSeconds != nil {
		grace = *p.TerminationGracePeriodSeconds
	}
	if s, ok := w.seconds(grace, w.podPath+".terminationGracePeriodSeconds"); ok && s != defaultStopTimeout {
		w.spec.StopTimeout = s
	}
	w.spec.Hostname = p.Hostname
	w.from("hostname", w.podPath+".hostname")
	if p.HostNetwork {
		w.spec.Networks = []string{models.HostNetwork}
		w.from("networks", w.podPath+".hostNetwork")
	}
	w.from("labels", metaPath(w.podPath)+".labels")
	for k, v := range w.podMeta.Labels {
		if strings.HasPrefix(k, "budgie.sh/") {
			if k != LabelService {
				w.d.problem(metaPath(w.podPath)+".labels", "Budgie's own label is "+LabelService, "unknown Budgie label %q", k)
			}
			continue
		}
		if w.spec.Labels == nil {
			w.spec.Labels = map[string]string{}
		}
		w.spec.Labels[k] = v
	}
}

// metaPath is the path of the metadata that goes with a pod spec path.
func metaPath(podPath string) string { return strings.TrimSuffix(podPath, "spec") + "metadata" }

// readExtras reads the budgie.sh/bundle annotation: a bundle mapping of
// the fields Kubernetes has no word for.
func (w *workload) readExtras() *yaml.Node {
	text, ok := w.meta.Annotations[AnnotationBundle]
	if !ok {
		return nil
	}
	const at = "metadata.annotations"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		w.d.problem(at, "it holds bundle fields as YAML, as budgie kube generate writes them", "annotation %s is not YAML: %v", AnnotationBundle, err)
		return nil
	}
	top := deref(topOf(&doc))
	if top == nil {
		return nil
	}
	if top.Kind != yaml.MappingNode {
		w.d.problem(at, "it holds a map of bundle fields", "annotation %s is not a map", AnnotationBundle)
		return nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key := top.Content[i].Value
		if !contains(extraFields, key) {
			w.d.problem(at, "it holds only the fields Kubernetes has no word for: "+strings.Join(extraFields, ", "),
				"annotation %s: field %q cannot be set here", AnnotationBundle, key)
		}
	}
	return top
}

// extraFields are the bundle fields the budgie.sh/bundle annotation may set.
var extraFields = []string{
	"user", "hostname", "resources", "restart_policy", "stop_timeout", "stop_signal",
	"health", "depends_on", "replicas", "networks", "labels",
}

// mergedFields are the extras that are maps merged key by key into what
// the manifest's own fields made.
var mergedFields = []string{"resources", "health", "replicas", "labels"}

// node returns the workload's bundle container: its spec, with the
// budgie.sh/bundle annotation's fields over it.
func (w *workload) node() *yaml.Node {
	m := specNode(w.spec)
	if w.extras != nil {
		const at = "metadata.annotations"
		for i := 0; i+1 < len(w.extras.Content); i += 2 {
			k, v := w.extras.Content[i], w.extras.Content[i+1]
			cur := valueAt(m, k.Value)
			if contains(mergedFields, k.Value) && cur != nil && cur.Kind == yaml.MappingNode && deref(v).Kind == yaml.MappingNode {
				src := deref(v)
				for j := 0; j+1 < len(src.Content); j += 2 {
					setKey(cur, src.Content[j].Value, src.Content[j+1])
					w.from(k.Value+"."+src.Content[j].Value, at)
				}
				continue
			}
			setKey(m, k.Value, v)
			w.from(k.Value, at)
		}
	}
	// Absent is "no": a bundle that says "no" stores the same as one that says nothing only in behaviour.
	if rp := valueAt(m, "restart_policy"); rp != nil && rp.Kind == yaml.ScalarNode && rp.Value == models.RestartNo {
		removeKey(m, "restart_policy")
	}
	return m
}

// setKey sets key in mapping m to v, replacing its value when present.
func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, strNode(key), v)
}

// removeKey removes key from mapping m.
func removeKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
