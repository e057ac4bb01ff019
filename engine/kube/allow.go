package kube

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// field is what the allow-list takes at one place of an object: an object
// with known keys, a list of items, or any value.
type field struct {
	// keys are an object's accepted keys.
	keys map[string]*field
	// items describes a list's items.
	items *field
	// any accepts the value whole (a scalar, a list of scalars, a map of
	// free keys such as labels).
	any bool
	// sources marks a volume: there an empty value ({}) still asks for
	// something (emptyDir: {}), so it is not taken as nothing.
	sources bool
}

func obj(keys map[string]*field) *field { return &field{keys: keys} }
func list(item *field) *field           { return &field{items: item} }

// leaf accepts any value.
var leaf = &field{any: true}

// The allow-list: the fields Play carries out, per kind.
var (
	metadataFields = obj(map[string]*field{"name": leaf, "namespace": leaf, "labels": leaf, "annotations": leaf})
	probeFields    = obj(map[string]*field{
		"exec":                obj(map[string]*field{"command": leaf}),
		"httpGet":             obj(map[string]*field{"path": leaf, "port": leaf, "host": leaf, "scheme": leaf}),
		"tcpSocket":           obj(map[string]*field{"port": leaf, "host": leaf}),
		"initialDelaySeconds": leaf, "periodSeconds": leaf, "timeoutSeconds": leaf,
		"failureThreshold": leaf, "successThreshold": leaf,
	})
	runAs           = obj(map[string]*field{"runAsUser": leaf, "runAsGroup": leaf})
	containerFields = obj(map[string]*field{
		"name": leaf, "image": leaf, "imagePullPolicy": leaf, "command": leaf, "args": leaf, "workingDir": leaf,
		"env": list(obj(map[string]*field{"name": leaf, "value": leaf, "valueFrom": obj(map[string]*field{
			"configMapKeyRef": obj(map[string]*field{"name": leaf, "key": leaf, "optional": leaf}),
		})})),
		"envFrom": list(obj(map[string]*field{"prefix": leaf,
			"configMapRef": obj(map[string]*field{"name": leaf, "optional": leaf})})),
		"ports":        list(obj(map[string]*field{"name": leaf, "containerPort": leaf, "protocol": leaf, "hostPort": leaf, "hostIP": leaf})),
		"volumeMounts": list(obj(map[string]*field{"name": leaf, "mountPath": leaf, "readOnly": leaf, "subPath": leaf})),
		"resources": obj(map[string]*field{
			"limits":   obj(map[string]*field{"cpu": leaf, "memory": leaf}),
			"requests": obj(map[string]*field{"cpu": leaf, "memory": leaf}),
		}),
		"livenessProbe": probeFields, "readinessProbe": probeFields,
		"securityContext": runAs, "tty": leaf, "stdin": leaf,
	})
	volumeFields = &field{sources: true, keys: map[string]*field{
		"name":                  leaf,
		"persistentVolumeClaim": obj(map[string]*field{"claimName": leaf, "readOnly": leaf}),
		"hostPath":              obj(map[string]*field{"path": leaf, "type": leaf}),
		"secret":                obj(map[string]*field{"secretName": leaf, "optional": leaf}),
	}}
	podSpecFields = obj(map[string]*field{
		"containers": list(containerFields), "volumes": list(volumeFields),
		"restartPolicy": leaf, "terminationGracePeriodSeconds": leaf, "hostname": leaf, "hostNetwork": leaf,
		"enableServiceLinks": leaf, "securityContext": runAs,
	})
	templateFields = obj(map[string]*field{"metadata": metadataFields, "spec": podSpecFields})
	selectorFields = obj(map[string]*field{"matchLabels": leaf})
	pvcSpecFields  = obj(map[string]*field{
		"accessModes": leaf, "volumeMode": leaf,
		"resources": obj(map[string]*field{"requests": obj(map[string]*field{"storage": leaf})}),
	})
	pvcFields = obj(map[string]*field{"metadata": metadataFields, "spec": pvcSpecFields})
	// templateClaimFields are a volumeClaimTemplates entry's: a claim,
	// whose apiVersion and kind an exported StatefulSet repeats.
	templateClaimFields = obj(map[string]*field{"apiVersion": leaf, "kind": leaf, "metadata": metadataFields, "spec": pvcSpecFields})

	// kinds maps each kind Play takes to its allow-list (apiVersion and
	// kind are checked before).
	kinds = map[string]*field{
		"Pod": obj(map[string]*field{"metadata": metadataFields, "spec": podSpecFields}),
		"Deployment": obj(map[string]*field{"metadata": metadataFields, "spec": obj(map[string]*field{
			"replicas": leaf, "selector": selectorFields, "template": templateFields})}),
		"StatefulSet": obj(map[string]*field{"metadata": metadataFields, "spec": obj(map[string]*field{
			"replicas": leaf, "selector": selectorFields, "template": templateFields,
			"serviceName": leaf, "volumeClaimTemplates": list(templateClaimFields)})}),
		"Service": obj(map[string]*field{"metadata": metadataFields, "spec": obj(map[string]*field{
			"type": leaf, "selector": leaf, "clusterIP": leaf,
			"ports": list(obj(map[string]*field{"name": leaf, "protocol": leaf, "appProtocol": leaf,
				"port": leaf, "targetPort": leaf, "nodePort": leaf})),
		})}),
		"PersistentVolumeClaim": pvcFields,
		"ConfigMap":             obj(map[string]*field{"metadata": metadataFields, "data": leaf, "immutable": leaf}),
	}
)

// refusedHints explain, by field name, why a common field is refused.
var refusedHints = map[string]string{
	"initContainers":      "Budgie runs one container per pod: run the init step in the container's command",
	"ephemeralContainers": "use budgie exec NAME sh to look inside a running container",
	"nodeSelector":        "Budgie runs on this node only: there is nothing to schedule",
	"nodeName":            "Budgie runs on this node only: there is nothing to schedule",
	"affinity":            "Budgie runs on this node only: there is nothing to schedule",
	"tolerations":         "Budgie runs on this node only: there is nothing to schedule",
	"priorityClassName":   "Budgie runs on this node only: there is nothing to schedule",
	"emptyDir":            "use a PersistentVolumeClaim: Budgie mounts named volumes, kept across runs",
	"configMap":           "Budgie mounts no ConfigMap files: take its keys as env (configMapKeyRef, envFrom) or use a hostPath",
	"startupProbe":        "Budgie has one health check: use readinessProbe, and livenessProbe to restart an unhealthy container",
	"lifecycle":           "Budgie runs no lifecycle hooks: run the step in the container's command",
	"secretKeyRef":        "Budgie mounts secrets as files, never as env: mount a secret volume at /run/secrets/NAME",
	"secretRef":           "Budgie mounts secrets as files, never as env: mount a secret volume at /run/secrets/NAME",
	"status":              "remove what a cluster adds when it exports an object (status, uid, resourceVersion, creationTimestamp, managedFields)",
	"uid":                 "remove what a cluster adds when it exports an object (status, uid, resourceVersion, creationTimestamp, managedFields)",
	"resourceVersion":     "remove what a cluster adds when it exports an object (status, uid, resourceVersion, creationTimestamp, managedFields)",
	"managedFields":       "remove what a cluster adds when it exports an object (status, uid, resourceVersion, creationTimestamp, managedFields)",
	"creationTimestamp":   "remove what a cluster adds when it exports an object (status, uid, resourceVersion, creationTimestamp, managedFields)",
	"stdinOnce":           "Budgie gives a container's stdin to an attached run only (budgie run -i): leave stdinOnce out",
	"strategy":            "Budgie recreates a changed container when the manifest is played again; it has no rollout strategy",
	"updateStrategy":      "Budgie recreates a changed container when the manifest is played again; it has no rollout strategy",
	"matchExpressions":    "select by matchLabels only",
	"storageClassName":    "Budgie has one kind of storage: a named volume under its data directory; leave storageClassName out",
}

// walk checks the object node against the allow-list f: every key that
// is not on it is refused with its line, unless its value is null or
// empty (it then asks for nothing). It records the line of every field it
// passes in lines, by dotted path.
func (d *decoded) walk(n *yaml.Node, f *field, path string) {
	n = deref(n)
	if n == nil {
		return
	}
	d.lines[path] = n.Line
	switch {
	case f.any:
	case f.items != nil:
		if n.Kind != yaml.SequenceNode {
			return // the strict decode reports the type
		}
		for i, item := range n.Content {
			d.walk(item, f.items, fmt.Sprintf("%s[%d]", path, i))
		}
	case f.keys != nil:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			d.lines[p] = k.Line
			if sub, ok := f.keys[k.Value]; ok {
				d.walk(v, sub, p)
				continue
			}
			if !f.sources && empty(v) {
				continue
			}
			d.refuse(p, k.Line, k.Value, f)
		}
	}
}

// refuse reports a field that is not on the allow-list of f.
func (d *decoded) refuse(path string, line int, key string, f *field) {
	hint := refusedHints[key]
	msg := "not supported by budgie kube play"
	for known := range f.keys {
		if strings.EqualFold(known, key) {
			msg, hint = fmt.Sprintf("unknown field %q", key), "did you mean "+known+"? Kubernetes' field names are case-sensitive"
		}
	}
	if key == "<<" {
		msg, hint = "YAML merge keys are not supported", "write the fields out"
	}
	if hint == "" {
		hint = "Budgie cannot carry it out; remove it (docs/interop.md lists what kube play takes)"
	}
	d.problemAt(line, path, hint, "%s", msg)
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// empty reports whether n asks for nothing: null, {} or [].
func empty(n *yaml.Node) bool {
	n = deref(n)
	switch {
	case n == nil:
		return true
	case n.Kind == yaml.ScalarNode:
		return n.Tag == "!!null"
	case n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode:
		return len(n.Content) == 0
	}
	return false
}

// joinPath appends key to a dotted path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lineOf returns the line of path, or of the nearest enclosing field
// that has one.
func (d *decoded) lineOf(path string) int {
	for p := path; ; {
		if l, ok := d.lines[p]; ok {
			return l
		}
		cut := strings.LastIndexAny(p, ".[")
		if cut < 0 {
			return d.doc.line
		}
		p = p[:cut]
	}
}
