package config

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// maxProblems caps how many mistakes in one file are reported.
const maxProblems = 20

// fileLoader merges one budgie.yaml into a Config, collecting mistakes.
type fileLoader struct {
	path     string
	cfg      *Config
	sources  map[string]Source
	problems []error
}

// loadFile merges the YAML in data (read from path) into cfg, recording
// each value's path:line in sources. Keys left empty ("key:") keep their
// value.
func loadFile(path string, data []byte, cfg *Config, sources map[string]Source) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return newError(errdefs.ErrInvalid, "%s: %s (budgie.yaml must be YAML)", path, msg)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	f := &fileLoader{path: path, cfg: cfg, sources: sources}
	f.section(doc.Content[0], "")
	if len(f.problems) > maxProblems {
		f.problems = append(f.problems[:maxProblems], fmt.Errorf("%s: and %d more problems", path, len(f.problems)-maxProblems))
	}
	return errors.Join(f.problems...)
}

// problem records a mistake at a line of the file.
func (f *fileLoader) problem(line int, format string, a ...any) {
	f.problems = append(f.problems, newError(errdefs.ErrInvalid, "%s:%d: %s", f.path, line, fmt.Sprintf(format, a...)))
}

// section merges a mapping whose keys are under prefix ("" or "logs.").
func (f *fileLoader) section(n *yaml.Node, prefix string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		where := "the top level"
		if prefix != "" {
			where = strings.TrimSuffix(prefix, ".")
		}
		f.problem(n.Line, "%s: want a mapping of keys, got %s", where, describe(n))
		return
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		name := prefix + k.Value
		if first, dup := seen[k.Value]; dup {
			f.problem(k.Line, "%s: set twice (first on line %d)", name, first)
			continue
		}
		seen[k.Value] = k.Line
		switch d := findKey(name); {
		case d != nil:
			f.value(d, k, v)
		case isSection(name):
			f.section(v, name+".")
		default:
			f.problem(k.Line, "unknown key %q%s", name, unknownKeyHint(name, levelKeys(prefix)))
		}
	}
}

// value merges one key's value.
func (f *fileLoader) value(d *keyDef, k, v *yaml.Node) {
	if isNull(resolve(v)) {
		return
	}
	val, line, err := d.parseNode(v)
	if err != nil {
		f.problem(line, "%s: %v", d.name, err)
		return
	}
	d.set(f.cfg, val)
	f.sources[d.name] = Source{Kind: SourceFile, Detail: fmt.Sprintf("%s:%d", f.path, k.Line)}
	if d.kind != kindKeys {
		return
	}
	v = resolve(v)
	for i := 0; i+1 < len(v.Content); i += 2 {
		action := resolve(v.Content[i])
		f.sources["keys."+action.Value] = Source{Kind: SourceFile, Detail: fmt.Sprintf("%s:%d", f.path, action.Line)}
	}
}
