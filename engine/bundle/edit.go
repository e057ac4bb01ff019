package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// FieldKind says how a bundle field's YAML is read as, and written from,
// lines of text (nest's editor shows one input per field).
type FieldKind int

// The kinds of field.
const (
	// FieldLine is a scalar on one line.
	FieldLine FieldKind = iota
	// FieldList is one item per line: a list, or a scalar when the file
	// had one and one line is left (env_file).
	FieldList
	// FieldArgv is one line for a string (split like a shell, or run by
	// sh -c for health.cmd) or one argument per line for a list.
	FieldArgv
	// FieldPairs is one KEY=VALUE per line: a map or a list, as the file had it.
	FieldPairs
	// FieldDeps is one "name [condition [timeout]]" per line (depends_on).
	FieldDeps
	// FieldPolicy is restart_policy: "name[:max_retries]".
	FieldPolicy
)

// fieldKinds are the fields that are not FieldLine, by dotted path.
var fieldKinds = map[string]FieldKind{
	"command": FieldArgv, "args": FieldArgv, "health.cmd": FieldArgv,
	"env": FieldPairs, "labels": FieldPairs,
	"env_file": FieldList, "secrets": FieldList, "ports": FieldList, "volumes": FieldList, "networks": FieldList,
	"restart_policy": FieldPolicy, "depends_on": FieldDeps,
}

// KindOf returns how the field at a dotted path ("resources.memory") is
// edited as text: part of the bundle schema, with Fields.
func KindOf(path string) FieldKind { return fieldKinds[path] }

// Document is a bundle's YAML node tree, edited field by field so that
// what is left alone keeps its nodes, comments, order and style: nest's
// editor reads and writes bundles through it. Of a stack (containers:),
// the first container is edited.
type Document struct {
	root *yaml.Node // the DocumentNode
	// stack is the number of containers when the file is a containers:
	// list (the editor edits the first), 0 for a one-container bundle.
	stack int
}

// NewDocument returns a clean document for a new bundle.
func NewDocument() *Document {
	top := mapping()
	top.HeadComment = "Budgie bundle: docs/bundle.md describes every field."
	return &Document{root: &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top}}}
}

// ParseDocument decodes bundle text into nodes. An empty file gives a
// clean document; YAML that is not a map of fields (or whose containers:
// is not a list of maps) is refused.
func ParseDocument(data []byte) (*Document, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); errors.Is(err, io.EOF) {
		return NewDocument(), nil
	} else if err != nil {
		return nil, fmt.Errorf("cannot edit the bundle, its YAML is invalid (fix it in a text editor): %v: %w", err, errdefs.ErrInvalid)
	}
	d := &Document{root: &root}
	top := d.top()
	if top == nil || top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("cannot edit the bundle: it is not a map of fields: %w", errdefs.ErrInvalid)
	}
	if get(top, "services") != nil && get(top, "containers") == nil {
		return nil, fmt.Errorf("cannot edit a compose file as a bundle (convert it: budgie convert -o app.bun FILE, then edit app.bun): %w", errdefs.ErrInvalid)
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
func (d *Document) top() *yaml.Node {
	if len(d.root.Content) == 0 {
		return nil
	}
	return resolved(d.root.Content[0])
}

// container is the mapping of the container being edited.
func (d *Document) container() *yaml.Node {
	if d.stack > 0 {
		return resolved(get(d.top(), "containers").Content[0])
	}
	return d.top()
}

// Encode writes the document as YAML, indented by two spaces.
func (d *Document) Encode() ([]byte, error) {
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

// Clone returns a deep copy, for trying edits without touching d.
func (d *Document) Clone() *Document {
	return &Document{root: deepCopy(d.root), stack: d.stack}
}

// Containers is the number of containers when the file is a stack
// (containers:), of which the first is edited; 0 for a one-container
// bundle.
func (d *Document) Containers() int { return d.stack }

// Read returns the text of the edited container's field at a dotted path
// ("resources.memory"), as kind KindOf(path) shows it: "" when absent.
func (d *Document) Read(path string) string { return read(d.container(), path, KindOf(path)) }

// Write sets the edited container's field at a dotted path to text (as
// KindOf(path) reads it), reusing the nodes of items that still read the
// same and placing a new key in schema order (Fields). Empty text deletes
// the field, and a parent mapping left empty goes too.
func (d *Document) Write(path, text string) { write(d.container(), path, KindOf(path), text) }

// NormalizeField trims what a form adds or a person leaves by accident:
// surrounding spaces, and empty lines in multi-line fields. Two texts of a
// field that normalize the same write the same YAML.
func NormalizeField(k FieldKind, v string) string {
	if k == FieldLine || k == FieldPolicy {
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
