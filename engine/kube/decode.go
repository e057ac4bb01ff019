package kube

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// decoded is one document of a manifest, decoded strictly into its
// k8s.io/api type and checked against the allow-list.
type decoded struct {
	file string
	doc  document
	// apiVersion, kind and name are the object's (name: metadata.name).
	apiVersion, kind, name string
	// obj is a *corev1.Pod, *appsv1.Deployment, *appsv1.StatefulSet,
	// *corev1.Service, *corev1.PersistentVolumeClaim or *corev1.ConfigMap.
	obj any
	// lines holds the file line of each field, by dotted path.
	lines    map[string]int
	problems *[]Problem
}

// problemAt records a problem at a file line, in this document.
func (d *decoded) problemAt(line int, field, hint, format string, args ...any) {
	*d.problems = append(*d.problems, Problem{
		File: d.file, Line: line, Doc: d.doc.index, Kind: d.kind, Name: d.name,
		Field: field, Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

// problem records a problem with the field at path (its line looked up).
func (d *decoded) problem(path, hint, format string, args ...any) {
	d.problemAt(d.lineOf(path), path, hint, format, args...)
}

// newObject returns an empty object of the k8s.io/api type for an
// apiVersion and kind Play takes, or nil.
func newObject(apiVersion, kind string) any {
	switch apiVersion + " " + kind {
	case "v1 Pod":
		return &corev1.Pod{}
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}
	case "v1 Service":
		return &corev1.Service{}
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}
	}
	return nil
}

// apiVersions are the apiVersion each kind Play takes is written with.
var apiVersions = map[string]string{
	"Pod": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1",
	"Service": "v1", "PersistentVolumeClaim": "v1", "ConfigMap": "v1",
}

// refusedKinds explain, by kind, why a common kind is refused.
var refusedKinds = map[string]string{
	"Secret": "kube play takes no secret values from a manifest: create the secret on the node " +
		"(budgie secret create NAME) and leave the Secret document out; pods that mount it still refer to it",
	"List":             "write each object as its own document, separated by ---",
	"DaemonSet":        "Budgie runs on one node: use a Deployment",
	"ReplicaSet":       "use a Deployment",
	"Job":              "run a one-off container with budgie run --rm IMAGE CMD",
	"CronJob":          "Budgie has no scheduler: run it from cron or a systemd timer",
	"Ingress":          "publish the port with a Service of type LoadBalancer (the keeper's proxy balances http per request)",
	"Namespace":        "Budgie has one namespace per node: leave the Namespace out",
	"PersistentVolume": "use a PersistentVolumeClaim: it becomes a named volume",
}

// unknownFieldRE finds the field an unknown-field error names.
var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

// decodeDocument decodes one document: its YAML, its kind, the strict
// k8s.io/api decode and the allow-list walk. It returns nil when the
// document cannot be used; its problems are recorded. *size sums the
// manifest's documents' sizes with aliases expanded (see checkSize).
func decodeDocument(file string, doc document, problems *[]Problem, size *int) *decoded {
	d := &decoded{file: file, doc: doc, lines: map[string]int{}, problems: problems}
	var root yaml.Node
	if err := yaml.Unmarshal(doc.text, &root); err != nil {
		d.syntax(err)
		return nil
	}
	top := deref(topOf(&root))
	if top == nil || top.Kind != yaml.MappingNode {
		d.problemAt(doc.line, "", "a Kubernetes object is a map with apiVersion:, kind: and metadata:", "is not a map")
		return nil
	}
	shiftLines(&root, doc.line-1)
	d.apiVersion, d.kind, d.name = scalarAt(top, "apiVersion"), scalarAt(top, "kind"), scalarAt(deref(valueAt(top, "metadata")), "name")
	if !d.checkKind(top) || !d.checkSize(&root, size) {
		return nil
	}
	d.obj = newObject(d.apiVersion, d.kind)
	unknown := ""
	if err := sigsyaml.UnmarshalStrict(doc.text, d.obj); err != nil {
		if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
			unknown = m[1]
		} else {
			d.problemAt(doc.line, "", "check the value's type against the Kubernetes API reference (kubectl explain "+strings.ToLower(d.kind)+")",
				"does not decode as a Kubernetes %s: %s", d.kind, cleanDecodeError(err))
			return nil
		}
	}
	before := len(*problems)
	d.walkTop(top, unknown)
	if unknown != "" && len(*problems) == before {
		d.problemAt(doc.line, "", "check its spelling against the Kubernetes API reference", "unknown field %q", unknown)
	}
	if len(*problems) > before {
		return nil
	}
	return d
}

// walkTop walks the object's top-level fields (apiVersion and kind are
// checked already) against the kind's allow-list; a field the strict
// decode found unknown is named so.
func (d *decoded) walkTop(top *yaml.Node, unknown string) {
	f := kinds[d.kind]
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		d.lines[k.Value] = k.Line
		switch sub, ok := f.keys[k.Value]; {
		case k.Value == "apiVersion" || k.Value == "kind":
		case ok:
			d.walk(v, sub, k.Value)
		case empty(v):
		default:
			d.refuse(k.Value, k.Line, k.Value, f)
		}
	}
	if unknown == "" {
		return
	}
	for i, p := range (*d.problems)[:] {
		if p.Doc == d.doc.index && lastKey(p.Field) == unknown && p.Message == "not supported by budgie kube play" {
			(*d.problems)[i].Message = fmt.Sprintf("unknown field %q", unknown)
			(*d.problems)[i].Hint = "check its spelling against the Kubernetes API reference (kubectl explain " + strings.ToLower(d.kind) + ")"
		}
	}
}

// checkKind refuses a kind (or apiVersion) Play does not take.
func (d *decoded) checkKind(top *yaml.Node) bool {
	line := d.doc.line
	if k := keyAt(top, "kind"); k != nil {
		line = k.Line
	}
	want, known := apiVersions[d.kind]
	switch {
	case d.kind == "":
		d.problemAt(line, "kind", "every object names its kind: Pod, Deployment, StatefulSet, Service, PersistentVolumeClaim or ConfigMap", "is missing")
	case !known:
		hint := refusedKinds[d.kind]
		if hint == "" {
			hint = "kube play takes Pod, Deployment, StatefulSet, Service, PersistentVolumeClaim and ConfigMap"
		}
		d.problemAt(line, "kind", hint, "kind %s is not supported by budgie kube play", d.kind)
	case d.apiVersion != want:
		d.problemAt(d.lineOf("apiVersion"), "apiVersion", "write apiVersion: "+want, "%s is not served as %q", d.kind, d.apiVersion)
	default:
		return true
	}
	return false
}

// syntax records a YAML syntax error at the line it names.
func (d *decoded) syntax(err error) {
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), d.doc.line
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		line, msg = d.doc.line+n-1, m[2]
	}
	d.problemAt(line, "", "check the indentation and quoting around this line", "invalid YAML: %s", msg)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// cleanDecodeError drops the layers sigs.k8s.io/yaml wraps a decode error in.
func cleanDecodeError(err error) string {
	msg := err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// topOf returns the document's top node.
func topOf(root *yaml.Node) *yaml.Node {
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		return root.Content[0]
	}
	return nil
}

// shiftLines moves every node's line by delta (a document's lines count
// from its own start; the file's from the file's).
func shiftLines(n *yaml.Node, delta int) {
	if n == nil || delta == 0 {
		return
	}
	seen := map[*yaml.Node]bool{}
	var shift func(*yaml.Node)
	shift = func(n *yaml.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		n.Line += delta
		for _, c := range n.Content {
			shift(c)
		}
	}
	shift(n)
}

// keyAt returns the key node of key in mapping m, or nil.
func keyAt(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// valueAt returns the value of key in mapping m, or nil.
func valueAt(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalarAt returns the scalar value of key in mapping m, or "".
func scalarAt(m *yaml.Node, key string) string {
	if v := deref(valueAt(m, key)); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// lastKey returns the last key of a dotted path ("a.b[0].c" → "c").
func lastKey(path string) string {
	return path[strings.LastIndexAny(path, ".")+1:]
}
