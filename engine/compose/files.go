package compose

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/paths"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/bundle"
)

// Bounds of the files a compose file makes compose-go read besides itself
// (.env, env_file, label_file, include, extends): compose-go opens and
// reads them whole, so a FIFO, a device such as /dev/zero or a huge file
// would block it or fill the memory. Each must be a regular file.
const (
	maxReadFile  = 1 << 20
	maxReadTotal = 16 << 20
	// maxIncludeDepth bounds include and extends files that include or
	// extend others in turn.
	maxIncludeDepth = 8
)

// fileCheck checks the files a compose file refers to before compose-go
// reads them.
type fileCheck struct {
	env      map[string]string
	total    int
	seen     map[string]bool
	problems []bundle.Problem
}

func newFileCheck(env []string) *fileCheck {
	c := &fileCheck{env: map[string]string{}, seen: map[string]bool{}}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			c.env[k] = v
		}
	}
	return c
}

// err returns the problems found as a *bundle.Error, or nil.
func (c *fileCheck) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &bundle.Error{Problems: c.problems}
}

// check checks the file at path (absolute), which the field of file at
// n's line refers to: it must be a regular file (a symbolic link to one
// is followed once) of at most maxReadFile bytes, and all of them
// together at most maxReadTotal. A missing file is left to compose-go,
// which knows whether it is required. It reports whether the file may be
// read.
func (c *fileCheck) check(file, field, path string, n *yaml.Node) bool {
	at := bundle.Problem{File: file, Field: field,
		Hint: "a compose file's " + fieldKind(field) + " names a small regular file (at most 1 MiB)"}
	if n != nil {
		at.Line, at.Column = n.Line, n.Column
	}
	fail := func(format string, args ...any) bool {
		at.Message = fmt.Sprintf(format, args...)
		c.problems = append(c.problems, at)
		return false
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		fi, err = os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	switch {
	case err != nil:
		return fail("cannot read %s: %v", path, err)
	case fi.IsDir():
		return fail("%s is a directory, not a file", path)
	case !fi.Mode().IsRegular():
		return fail("%s is not a regular file (%s)", path, fileType(fi.Mode()))
	case fi.Size() > maxReadFile:
		return fail("%s is larger than %d MiB", path, maxReadFile>>20)
	}
	if c.seen[path] {
		return false
	}
	c.seen[path] = true
	c.total += int(fi.Size())
	if c.total > maxReadTotal {
		at.Hint = "split the project"
		return fail("the files this compose file reads pass %d MiB together at %s", maxReadTotal>>20, path)
	}
	return true
}

// fieldKind names the kind of reference a field is, for hints.
func fieldKind(field string) string {
	for _, k := range []string{"env_file", "label_file", "include", "extends"} {
		if strings.Contains(field, k) {
			return k
		}
	}
	return field
}

// fileType names what a file that is not regular is.
func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// interpolate expands ${VAR} in a path as compose-go will; a path it
// cannot expand is left as written (compose-go then refuses it).
func (c *fileCheck) interpolate(s string) string {
	out, err := template.Substitute(s, func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
	if err != nil {
		return s
	}
	return out
}

// abs makes a path of the file relative to dir absolute.
func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// candidates are the files a path relative to dir may be read as:
// compose-go expands a leading ~ to the home directory in some places and
// not in others, so both are checked.
func candidates(dir, p string) []string {
	out := []string{abs(dir, p)}
	if strings.HasPrefix(p, "~") {
		if e := paths.ExpandUser(p); e != p {
			out = append(out, abs(dir, e))
		}
	}
	return out
}

// scan finds the files the compose file (its top mapping root, its paths
// relative to dir) makes compose-go read and checks each; include and
// extends files are scanned in turn.
func (c *fileCheck) scan(file, dir string, root *yaml.Node, depth int) {
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	if services := deref(mapValue(root, "services")); services != nil && services.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(services.Content); i += 2 {
			name, svc := services.Content[i].Value, deref(services.Content[i+1])
			field := "services." + name
			for _, key := range []string{"env_file", "label_file"} {
				for _, ref := range c.paths(mapValue(svc, key), field+"."+key) {
					for _, p := range candidates(dir, ref.path) {
						c.check(file, ref.field, p, ref.node)
					}
				}
			}
			if ext := deref(mapValue(svc, "extends")); ext != nil && ext.Kind == yaml.MappingNode {
				if f := deref(mapValue(ext, "file")); f != nil && f.Kind == yaml.ScalarNode {
					for _, p := range candidates(dir, c.interpolate(f.Value)) {
						c.follow(file, field+".extends.file", p, filepath.Dir(p), f, depth)
					}
				}
			}
		}
	}
	inc := deref(mapValue(root, "include"))
	if inc == nil || inc.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range inc.Content {
		item = deref(item)
		field := fmt.Sprintf("include[%d]", i)
		var included []ref
		var envFiles []ref
		projectDir := ""
		switch item.Kind {
		case yaml.ScalarNode:
			included = []ref{{c.interpolate(item.Value), field, item}}
		case yaml.MappingNode:
			included = c.paths(mapValue(item, "path"), field+".path")
			envFiles = c.paths(mapValue(item, "env_file"), field+".env_file")
			if pd := deref(mapValue(item, "project_directory")); pd != nil && pd.Kind == yaml.ScalarNode {
				projectDir = abs(dir, c.interpolate(pd.Value))
			}
		}
		if len(included) == 0 {
			continue
		}
		if projectDir == "" {
			projectDir = filepath.Dir(abs(dir, included[0].path))
		}
		for _, e := range envFiles {
			for _, p := range candidates(dir, e.path) {
				c.check(file, e.field, p, e.node)
			}
		}
		if len(envFiles) == 0 {
			c.check(file, field+" (its project's .env)", filepath.Join(projectDir, ".env"), item)
		}
		for _, p := range included {
			for _, cand := range candidates(dir, p.path) {
				c.follow(file, p.field, cand, projectDir, p.node, depth)
			}
		}
	}
}

// follow checks an include or extends file and scans it, its paths
// relative to dir.
func (c *fileCheck) follow(file, field, path, dir string, n *yaml.Node, depth int) {
	if c.seen[path] {
		return // read already (or a cycle, which compose-go reports)
	}
	if !c.check(file, field, path, n) {
		return
	}
	if depth >= maxIncludeDepth {
		c.problems = append(c.problems, bundle.Problem{File: file, Line: n.Line, Column: n.Column, Field: field,
			Message: fmt.Sprintf("include and extends files nest more than %d deep", maxIncludeDepth), Hint: "flatten the project"})
		return
	}
	data, err := os.ReadFile(path) // a regular file of at most maxReadFile bytes, checked above
	if err != nil {
		return // compose-go reports it
	}
	l := newLines(data)
	c.scan(path, dir, l.root, depth+1)
}

// ref is a path a field names.
type ref struct {
	path, field string
	node        *yaml.Node
}

// paths reads a field that is a path, a list of paths or a list of
// {path: …} maps (env_file's long form), interpolated.
func (c *fileCheck) paths(n *yaml.Node, field string) []ref {
	n = deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []ref{{c.interpolate(n.Value), field, n}}
	case yaml.SequenceNode:
		var out []ref
		for i, e := range n.Content {
			e = deref(e)
			f := fmt.Sprintf("%s[%d]", field, i)
			if e.Kind == yaml.MappingNode {
				e, f = deref(mapValue(e, "path")), f+".path"
			}
			if e != nil && e.Kind == yaml.ScalarNode {
				out = append(out, ref{c.interpolate(e.Value), f, e})
			}
		}
		return out
	}
	return nil
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
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

// checkProject checks the env_file and label_file paths of the loaded
// project's services (and their pre_start hooks), absolute and
// interpolated by compose-go, before they are read: the scan of the YAML
// may have missed one that an include or extends brought.
func (c *fileCheck) checkProject(file string, l *lines, p *types.Project) {
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		specs := []*types.ContainerSpec{&s.ContainerSpec}
		for j := range s.PreStart {
			specs = append(specs, &s.PreStart[j].ContainerSpec)
		}
		for _, spec := range specs {
			for i, e := range spec.EnvFiles {
				c.checkLoaded(file, l, fmt.Sprintf("services.%s.env_file[%d]", name, i), e.Path)
			}
			for i, f := range spec.LabelFiles {
				c.checkLoaded(file, l, fmt.Sprintf("services.%s.label_file[%d]", name, i), f)
			}
		}
	}
}

// checkLoaded checks a path of the loaded project at its field's line in
// the compose file; a file the scan checked already is not counted twice.
func (c *fileCheck) checkLoaded(file string, l *lines, field, path string) {
	if c.seen[path] {
		return
	}
	before := len(c.problems)
	c.check(file, field, path, nil)
	if len(c.problems) > before {
		p := &c.problems[len(c.problems)-1]
		p.Line, p.Column = l.find(field)
	}
}
