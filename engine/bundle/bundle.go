package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// maxBundle bounds the size of a bundle file.
const maxBundle = 4 << 20

// Bundle is a parsed, valid bundle.
type Bundle struct {
	// Path is the bundle file's absolute path; empty when it was parsed
	// from memory with Parse.
	Path string
	// Dir is the absolute directory relative paths were resolved against.
	Dir string
	// Containers are the bundle's containers, in file order.
	Containers []models.ContainerSpec
	// Stack is true when the file holds a containers: list (even of one).
	Stack bool

	// positions holds, per container, where each field path was written.
	positions []map[string]position
	// starts is where each container begins.
	starts []position
}

// ParseOptions tune Parse and ParseFile.
type ParseOptions struct {
	// NameOverride replaces the container's name; it is only valid for a
	// bundle of exactly one container, which then needs no name: field.
	NameOverride string
	// Dir is the directory env_file and bind-mount paths are relative to.
	// Parse uses the working directory when it is empty; ParseFile always
	// uses the bundle file's directory.
	Dir string
}

// ParseFile reads and parses the bundle at path. Problems in it come back as
// an *Error; a file that cannot be read fails with errdefs.ErrNotFound or
// the read error.
func ParseFile(path string, opts ParseOptions) (*Bundle, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", path, err)
	}
	data, err := readBundle(abs, path)
	if err != nil {
		return nil, err
	}
	opts.Dir = filepath.Dir(abs)
	b, err := Parse(path, data, opts)
	if err != nil {
		return nil, err
	}
	b.Path = abs
	return b, nil
}

func readBundle(abs, shown string) ([]byte, error) {
	data, err := readRegular(abs, maxBundle)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("bundle %s does not exist (check the path): %w: %w", shown, errdefs.ErrNotFound, err)
	case errors.Is(err, errdefs.ErrInvalid):
		return nil, fmt.Errorf("bundle %s %w", shown, err)
	case err != nil:
		return nil, fmt.Errorf("read bundle %s: %w", shown, err)
	}
	return data, nil
}

// Parse parses the bundle text data; name is the file name used in
// messages. All problems found come back together as an *Error, which
// matches errdefs.ErrInvalid.
func Parse(name string, data []byte, opts ParseOptions) (*Bundle, error) {
	if opts.NameOverride != "" {
		if err := checkName(opts.NameOverride, maxNameLen); err != nil {
			return nil, fmt.Errorf("invalid container name %q (%s): %w", opts.NameOverride, nameHint, errdefs.ErrInvalid)
		}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve bundle directory %q: %w", opts.Dir, err)
	}
	p := &parser{file: name, dir: dir}
	b := &Bundle{Dir: dir}
	if root := p.document(data); root != nil {
		p.bundle(b, root, opts.NameOverride)
	}
	if err := newError(name, p.problems); err != nil {
		return nil, err
	}
	return b, nil
}

// parser holds the state of one Parse.
type parser struct {
	file     string
	dir      string
	problems []Problem
	ports    []portUse
}

func (p *parser) add(n *yaml.Node, field, hint, format string, args ...any) {
	pos := posOf(n)
	p.problems = append(p.problems, Problem{
		File: p.file, Line: pos.line, Column: pos.col, Field: field,
		Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

// yamlLineRE finds the line in yaml.v3's error messages.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document decodes the YAML, reporting syntax errors, an empty file and
// extra documents. It returns the top node, or nil.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && isNull(topNode(&doc))) {
		p.problems = append(p.problems, Problem{File: p.file, Line: 1, Column: 1,
			Message: "the bundle is empty", Hint: "a bundle needs at least name: and image:"})
		return nil
	}
	if err != nil {
		p.syntax(err)
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.add(&extra, "", "put the containers of a stack in a containers: list",
			"the file holds more than one YAML document")
		return nil
	case !errors.Is(err, io.EOF):
		p.syntax(err)
		return nil
	}
	return topNode(&doc)
}

func topNode(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return nil
}

// syntax reports a YAML syntax error at the line yaml.v3 names.
func (p *parser) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	p.problems = append(p.problems, Problem{File: p.file, Line: line,
		Message: "invalid YAML: " + msg, Hint: "check the indentation and quoting around this line"})
}

// bundle decodes the top node: one container, or a containers: list.
func (p *parser) bundle(b *Bundle, top *yaml.Node, override string) {
	if r := resolve(top); r == nil || r.Kind != yaml.MappingNode {
		p.add(top, "", "a bundle is a map of fields (name:, image:, …) or a containers: list",
			"must be a map, not %s", describe(top))
		return
	}
	if hasKey(resolve(top), "containers") {
		b.Stack = true
		p.stack(b, top, override)
	} else {
		p.containers(b, []*yaml.Node{top}, []string{""}, override)
	}
	p.checkNames(b)
	p.checkPorts()
}

// hasKey reports whether the mapping m has key among its own keys.
func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

// stack decodes a containers: list; the file may hold nothing else but x-
// keys (for YAML anchors).
func (p *parser) stack(b *Bundle, top *yaml.Node, override string) {
	w := walker{file: p.file, problems: &p.problems}
	ps, _ := w.pairs(top, "")
	var list pair
	for _, kv := range ps {
		if kv.key == "containers" {
			list = kv
		}
		switch {
		case kv.key == "containers" || strings.HasPrefix(kv.key, "x-"):
		case fieldFuncs[kv.key] != nil:
			p.add(kv.k, kv.key, "move it into a container of the list",
				"a stack file holds only the containers: list, not container fields")
		default:
			p.add(kv.k, kv.key, suggest(kv.key, []string{"containers"}, false), "unknown field %q", kv.key)
		}
	}
	r := resolve(list.v)
	if r == nil || r.Kind != yaml.SequenceNode {
		w.wrongType(list.v, "containers", "a list of containers")
		return
	}
	if len(r.Content) == 0 {
		p.add(list.k, "containers", "add at least one container", "is empty")
		return
	}
	prefixes := make([]string, len(r.Content))
	for i := range r.Content {
		prefixes[i] = index("containers", i)
	}
	if override != "" && len(r.Content) != 1 {
		p.add(list.k, "containers", "leave out the name override, or run the containers one by one",
			"a name override needs exactly one container, this stack has %d", len(r.Content))
		override = ""
	}
	p.containers(b, r.Content, prefixes, override)
}

// containers decodes each container node.
func (p *parser) containers(b *Bundle, nodes []*yaml.Node, prefixes []string, override string) {
	for i, n := range nodes {
		c := newContainer(p, prefixes[i])
		if c.decode(n) {
			c.finish(n, override)
		}
		b.Containers = append(b.Containers, c.spec)
		b.positions = append(b.positions, c.pos)
		b.starts = append(b.starts, posOf(n))
	}
}

// checkNames reports container names used twice in a stack.
func (p *parser) checkNames(b *Bundle) {
	first := map[string]int{}
	for i, spec := range b.Containers {
		if spec.Name == "" {
			continue
		}
		j, dup := first[spec.Name]
		if !dup {
			first[spec.Name] = i
			continue
		}
		pos := b.positions[i]["name"]
		p.problems = append(p.problems, Problem{
			File: p.file, Line: pos.line, Column: pos.col, Field: index("containers", i) + ".name",
			Message: fmt.Sprintf("duplicate name %q (first at line %d)", spec.Name, b.positions[j]["name"].line),
			Hint:    "container names are unique on a node",
		})
	}
}

// Position returns where field (a dotted path such as "health",
// "resources.memory" or "ports[1]") of container i is written in the file.
// For a field that is not written it returns the position of the closest
// enclosing field that is, or of the container itself; for an i out of
// range it returns 0, 0.
func (b *Bundle) Position(i int, field string) (line, col int) {
	if i < 0 || i >= len(b.positions) {
		return 0, 0
	}
	for field != "" {
		if p, ok := b.positions[i][field]; ok {
			return p.line, p.col
		}
		cut := strings.LastIndexAny(field, ".[")
		if cut < 0 {
			break
		}
		field = field[:cut]
	}
	return b.starts[i].line, b.starts[i].col
}
