package compose

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/bundle"
)

// ConvertOptions tune Convert.
type ConvertOptions struct {
	// IgnoreUnsupported leaves out the fields Budgie cannot honour, each
	// listed in Result.Warnings, instead of failing on them. Problems that
	// leave nothing sensible to run (a service without an image, a bad
	// value) fail either way.
	IgnoreUnsupported bool
}

// Network is a compose network the containers join: one a compose run
// creates when it is missing, or an external one that must exist.
type Network struct {
	// Name is the network's name on the node: compose's (PROJECT_KEY
	// unless the file sets name:).
	Name string
	// Subnet and Gateway are ipam.config's; empty means chosen.
	Subnet, Gateway string
	// Internal networks have no route out of the host.
	Internal bool
	// External networks are not created: they must exist.
	External bool
}

// Secret is a compose secret a container mounts at /run/secrets/Name.
type Secret struct {
	// Name is the secret's name in the node's store: the compose key.
	Name string
	// File is the absolute path of the file the value is read from (file:);
	// empty when Value holds it or the secret is external.
	File string
	// Value is the value of an environment: or content: secret.
	Value []byte
	// External secrets must already be in the store.
	External bool
}

// Result is a converted compose file.
type Result struct {
	// File is the compose file as given; Dir its absolute directory.
	File, Dir string
	// Project is the compose project's name.
	Project string
	// Bundle is the bundle text (a containers: stack, one container per
	// service, in file order).
	Bundle []byte
	// Warnings are the fields left out under IgnoreUnsupported, one each,
	// with the compose file's line.
	Warnings []bundle.Problem
	// Networks, Secrets, Volumes and Dirs are what must exist before the
	// containers start, which a bundle cannot say: networks and secrets to
	// create or find, external named volumes that must exist (the others
	// are created on first use), and bind-mount sources that compose
	// creates when missing (create_host_path).
	Networks []Network
	Secrets  []Secret
	Volumes  []string
	Dirs     []string
	// Skipped are the services left out because none of their profiles is
	// active (COMPOSE_PROFILES), as docker compose leaves them.
	Skipped []string

	// origins maps a bundle field path ("containers[1].ports[0]") to the
	// compose field it came from ("services.api.ports[0]").
	origins map[string]string
	lines   *lines
}

// converter holds the state of one Convert.
type converter struct {
	src      *Source
	opts     ConvertOptions
	res      *Result
	problems []bundle.Problem
	networks map[string]bool
	secrets  map[string]bool
	volumes  map[string]bool
	dirs     map[string]bool
}

// Convert maps the loaded project to bundle text. Fields Budgie cannot
// honour fail the conversion as a *bundle.Error (errdefs.ErrInvalid), one
// problem per field with the compose file's line and a hint, unless
// opts.IgnoreUnsupported makes them warnings.
func Convert(src *Source, opts ConvertOptions) (*Result, error) {
	c := &converter{
		src: src, opts: opts,
		res: &Result{File: src.File, Dir: src.Dir, Project: src.Project.Name,
			origins: map[string]string{}, lines: src.lines},
		networks: map[string]bool{}, secrets: map[string]bool{}, volumes: map[string]bool{}, dirs: map[string]bool{},
	}
	c.project()
	names := c.serviceOrder()
	if len(names) == 0 {
		c.fail("services", "add a service with an image:", "the file has no service to run")
	}
	stack := mapping()
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i, name := range names {
		list.Content = append(list.Content, c.service(i, src.Project.Services[name]))
	}
	stack.Content = append(stack.Content, str("containers"), list)
	stack.HeadComment = c.header()
	for name := range src.Project.DisabledServices {
		c.res.Skipped = append(c.res.Skipped, name)
	}
	sort.Strings(c.res.Skipped)
	if err := c.err(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{stack}}); err != nil {
		return nil, fmt.Errorf("write the bundle of %s: %w", src.File, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write the bundle of %s: %w", src.File, err)
	}
	c.res.Bundle = b.Bytes()
	return c.res, nil
}

// serviceOrder lists the services in the order the file writes them;
// those from other files (extends, include) follow, by name.
func (c *converter) serviceOrder() []string {
	names := make([]string, 0, len(c.src.Project.Services))
	for name := range c.src.Project.Services {
		names = append(names, name)
	}
	sort.SliceStable(names, func(i, j int) bool {
		li, _ := c.src.lines.find("services." + names[i])
		lj, _ := c.src.lines.find("services." + names[j])
		li, lj = orLast(li), orLast(lj)
		if li != lj {
			return li < lj
		}
		return names[i] < names[j]
	})
	return names
}

// orLast puts a service that is not written under services: itself (the
// line lookup then finds only services:) after the file's own.
func orLast(line int) int {
	if line == 0 {
		return 1 << 30
	}
	return line
}

// header is the comment at the top of the bundle: where it came from, and
// what it needs that a bundle cannot say.
func (c *converter) header() string {
	lines := []string{
		fmt.Sprintf("Budgie bundle converted from %s (compose project %s): docs/bundle.md describes every field.", c.src.File, c.res.Project),
	}
	var needs []string
	for _, n := range c.res.Networks {
		if n.External {
			needs = append(needs, "network "+n.Name+" must exist")
		} else {
			cmd := "budgie network create " + n.Name
			if n.Subnet != "" {
				cmd += " --subnet " + n.Subnet
			}
			if n.Gateway != "" {
				cmd += " --gateway " + n.Gateway
			}
			if n.Internal {
				cmd += " --internal"
			}
			needs = append(needs, cmd)
		}
	}
	for _, s := range c.res.Secrets {
		switch {
		case s.External:
			needs = append(needs, "secret "+s.Name+" must exist")
		case s.File != "":
			needs = append(needs, "budgie secret create "+s.Name+" "+s.File)
		default:
			needs = append(needs, "budgie secret create "+s.Name+" (its value comes from the compose file's environment)")
		}
	}
	for _, v := range c.res.Volumes {
		needs = append(needs, "volume "+v+" must exist (external)")
	}
	for _, d := range c.res.Dirs {
		needs = append(needs, "mkdir -p "+d)
	}
	if len(needs) > 0 {
		lines = append(lines, "Before running this bundle (budgie run of the compose file does it itself):")
		for _, n := range needs {
			lines = append(lines, "  "+n)
		}
	}
	return strings.Join(lines, "\n")
}

// refuse reports a field Budgie cannot honour: an error, or under
// IgnoreUnsupported a warning (the caller leaves the field out either way).
func (c *converter) refuse(field, hint, format string, args ...any) {
	p := c.problem(field, hint, format, args...)
	if c.opts.IgnoreUnsupported {
		p.Message = "left out: " + p.Message
		c.res.Warnings = append(c.res.Warnings, p)
		return
	}
	c.problems = append(c.problems, p)
}

// unsupported refuses field with the usual message.
func (c *converter) unsupported(field, hint string) {
	if hint == "" {
		hint = hintGeneric
	}
	c.refuse(field, hint, "not supported by Budgie")
}

// fail reports a problem that no option turns into a warning.
func (c *converter) fail(field, hint, format string, args ...any) {
	c.problems = append(c.problems, c.problem(field, hint, format, args...))
}

func (c *converter) problem(field, hint, format string, args ...any) bundle.Problem {
	line, col := c.src.lines.find(field)
	return bundle.Problem{File: c.src.File, Line: line, Column: col, Field: field,
		Message: fmt.Sprintf(format, args...), Hint: hint}
}

// err returns the problems found, sorted by position, or nil.
func (c *converter) err() error {
	if len(c.problems) == 0 {
		sortProblems(c.res.Warnings)
		return nil
	}
	sortProblems(c.problems)
	return &bundle.Error{Problems: c.problems}
}

func sortProblems(ps []bundle.Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		if ps[i].Column != ps[j].Column {
			return ps[i].Column < ps[j].Column
		}
		return ps[i].Field < ps[j].Field
	})
}

// container builds one container's mapping, field by field, in the
// bundle schema's order, remembering where each field came from.
type container struct {
	c      *converter
	prefix string // containers[i]
	svc    string // services.NAME
	fields map[string]*yaml.Node
}

// set puts the bundle field key, which came from the compose field from
// (relative to the service; "" is the service itself).
func (k *container) set(key string, v *yaml.Node, from string) {
	k.fields[key] = v
	k.origin(key, from)
}

// origin records that bundle field key (relative to the container) came
// from compose field from (relative to the service).
func (k *container) origin(key, from string) {
	f := k.svc
	if from != "" {
		f += "." + from
	}
	k.c.res.origins[k.prefix+"."+key] = f
}

// node lays the fields out in bundle.Fields order.
func (k *container) node() *yaml.Node {
	m := mapping()
	for _, key := range bundle.Fields("") {
		if v, ok := k.fields[key]; ok {
			m.Content = append(m.Content, str(key), v)
		}
	}
	return m
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

// str is a string scalar, quoted when YAML would read it as another type.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// plain is a number or other scalar written as is.
func plain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// strList is a list of strings, one per line.
func strList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, it := range items {
		n.Content = append(n.Content, str(it))
	}
	return n
}

// flowList is a list of strings on one line ([sh, -c, "…"]) when they
// are short words, else one per line.
func flowList(items []string) *yaml.Node {
	n := strList(items)
	total := 0
	for _, it := range items {
		total += len(it)
		if !wordRE.MatchString(it) {
			return n
		}
	}
	if total < 60 {
		n.Style = yaml.FlowStyle
	}
	return n
}

// wordRE is an item that reads well in a one-line list.
var wordRE = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]*$`)

// strMap is a map of strings, keys sorted.
func strMap(m map[string]string) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := mapping()
	for _, k := range keys {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

// refuseRest refuses every set field of v, a struct the mapper has
// consumed what it could of, under the compose field prefix.
func (c *converter) refuseRest(prefix string, v any, hint string) {
	for _, name := range leftovers(v) {
		c.unsupported(prefix+"."+name, hint)
	}
}
