package editor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// document is a bundle's YAML node tree and the container being edited.
type document struct {
	root *yaml.Node // the DocumentNode
	// stack is the number of containers when the file is a containers:
	// list (the editor edits the first), 0 for a one-container bundle.
	stack int
}

// newDocument returns a clean document for a new bundle.
func newDocument() *document {
	top := mapping()
	top.HeadComment = "Budgie bundle: docs/bundle.md describes every field."
	return &document{root: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top}}}
}

// parseDocument decodes bundle text into nodes. An empty file gives a
// clean document.
func parseDocument(data []byte) (*document, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); errors.Is(err, io.EOF) {
		return newDocument(), nil
	} else if err != nil {
		return nil, fmt.Errorf("cannot edit the bundle, its YAML is invalid (fix it in a text editor): %v: %w", err, errdefs.ErrInvalid)
	}
	d := &document{root: &root}
	top := d.top()
	if top == nil || top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("cannot edit the bundle: it is not a map of fields: %w", errdefs.ErrInvalid)
	}
	if list := get(top, "containers"); list != nil {
		if list.Kind != yaml.SequenceNode || len(list.Content) == 0 || resolved(list.Content[0]).Kind != yaml.MappingNode {
			return nil, fmt.Errorf("cannot edit the bundle: containers: is not a list of containers: %w", errdefs.ErrInvalid)
		}
		d.stack = len(list.Content)
	}
	return d, nil
}

// top is the document's top mapping.
func (d *document) top() *yaml.Node {
	if len(d.root.Content) == 0 {
		return nil
	}
	return resolved(d.root.Content[0])
}

// container is the mapping of the container being edited.
func (d *document) container() *yaml.Node {
	if d.stack > 0 {
		return resolved(get(d.top(), "containers").Content[0])
	}
	return d.top()
}

// encode writes the document as YAML, indented by two spaces.
func (d *document) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(d.root); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return b.Bytes(), nil
}

// clone returns a deep copy, for validating edits without touching d.
func (d *document) clone() *document {
	return &document{root: deepCopy(d.root), stack: d.stack}
}

// values reads every form field from the container.
func (d *document) values() map[string]string {
	out := map[string]string{}
	for _, f := range allFields() {
		out[f.id] = read(d.container(), f)
	}
	return out
}

// apply writes the fields whose value differs from before into the
// container; fields left alone keep their nodes, comments and style.
func (d *document) apply(before, after map[string]string) {
	c := d.container()
	for _, f := range allFields() {
		if normalize(f, before[f.id]) != normalize(f, after[f.id]) {
			write(c, f, after[f.id])
		}
	}
}

// normalize trims what the form adds or the user leaves by accident:
// surrounding spaces, and empty lines in multi-line fields.
func normalize(f field, v string) string {
	if f.kind == line || f.kind == policy {
		return strings.TrimSpace(v)
	}
	return strings.Join(lines(v), "\n")
}

// lines splits multi-line text into its non-empty, trimmed lines.
func lines(v string) []string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// split cuts a field id into its parent mapping ("" for the container) and key.
func split(id string) (parent, key string) {
	if p, k, ok := strings.Cut(id, "."); ok {
		return p, k
	}
	return "", id
}
