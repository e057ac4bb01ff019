package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/budgie-sh/budgie/models"
)

// manifest writes the objects as YAML documents, each headed by its notes.
func (g *generator) manifest(specs []models.ContainerSpec) (*Manifest, error) {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	m := &Manifest{}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Kubernetes manifests of %s, written by budgie kube generate.\n", strings.Join(names, ", "))
	b.WriteString("# budgie kube play runs them again; docs/interop.md maps every field.\n")
	for i, o := range g.objects {
		if i > 0 {
			b.WriteString("---\n")
		}
		for _, n := range o.notes {
			b.WriteString("# NOTE: " + n + "\n")
			m.Warnings = append(m.Warnings, objectName(o.obj)+": "+n)
		}
		text, err := marshal(o.obj)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", objectName(o.obj), err)
		}
		b.Write(text)
		m.Objects = append(m.Objects, o.obj)
	}
	m.YAML = b.Bytes()
	return m, nil
}

// marshal writes one object as YAML, without the empty fields the
// k8s.io/api types always write (creationTimestamp: null, status: {}).
func marshal(obj any) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "status") // a cluster's report, never the object's wish
	}
	return sigsyaml.Marshal(prune(v))
}

// prune drops nulls and empty maps, recursively.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			x = prune(x)
			if m, ok := x.(map[string]any); x == nil || (ok && len(m) == 0) {
				delete(t, k)
				continue
			}
			t[k] = x
		}
	case []any:
		for i, x := range t {
			t[i] = prune(x)
		}
	}
	return v
}

// objectName names an object for a message: "Deployment web".
func objectName(obj any) string {
	raw, _ := json.Marshal(obj)
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &head)
	return head.Kind + " " + head.Metadata.Name
}
