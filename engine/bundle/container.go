package bundle

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/models"
)

// containerFields are a container's fields, in the order docs/bundle.md
// describes them.
var containerFields = []string{
	"name", "image", "command", "args", "workdir", "user", "hostname",
	"env", "env_file", "ports", "volumes", "resources", "restart_policy",
	"stop_timeout", "stop_signal", "tty", "stdin_open", "health", "depends_on", "replicas",
	"networks", "secrets", "labels",
}

// fieldFuncs decode one container field each.
var fieldFuncs = map[string]func(c *container, field string, v *yaml.Node){
	"name":           (*container).name,
	"image":          (*container).image,
	"command":        func(c *container, f string, v *yaml.Node) { c.spec.Command = c.argv(v, f) },
	"args":           func(c *container, f string, v *yaml.Node) { c.spec.Args = c.argv(v, f) },
	"workdir":        (*container).workdir,
	"user":           (*container).user,
	"hostname":       (*container).hostname,
	"env":            (*container).env,
	"env_file":       (*container).envFile,
	"ports":          (*container).ports,
	"volumes":        (*container).volumes,
	"resources":      (*container).resources,
	"restart_policy": (*container).restartPolicy,
	"stop_timeout":   (*container).stopTimeout,
	"stop_signal":    (*container).stopSignal,
	"tty":            func(c *container, f string, v *yaml.Node) { c.spec.Tty, _ = c.boolean(v, f) },
	"stdin_open":     func(c *container, f string, v *yaml.Node) { c.spec.StdinOpen, _ = c.boolean(v, f) },
	"health":         (*container).health,
	"depends_on":     (*container).dependsOn,
	"replicas":       (*container).replicas,
	"networks":       func(c *container, f string, v *yaml.Node) { c.spec.Networks = c.names(v, f) },
	"secrets":        func(c *container, f string, v *yaml.Node) { c.spec.Secrets = c.names(v, f) },
	"labels":         (*container).labels,
}

// nameRE is what container, volume, network and secret names look like.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// maxNameLen keeps a container name usable as its default host name.
const maxNameLen = 63

const nameHint = "use letters, digits, _, . and -, starting with a letter or digit"

// container decodes one container of a bundle.
type container struct {
	walker
	p         *parser
	spec      models.ContainerSpec
	bundleEnv []string
	envSeen   map[string]*yaml.Node
	fileEnv   []string
	depNodes  map[string]fieldNode
	targets   map[string]*yaml.Node
	// misspelt holds the fields an unknown field was taken for, so that a
	// typo is not also reported as a missing field.
	misspelt map[string]bool
}

// fieldNode is a node and its field path.
type fieldNode struct {
	node  *yaml.Node
	field string
}

func newContainer(p *parser, prefix string) *container {
	return &container{
		walker:   walker{file: p.file, problems: &p.problems, prefix: prefix, pos: map[string]position{}},
		p:        p,
		envSeen:  map[string]*yaml.Node{},
		depNodes: map[string]fieldNode{},
		targets:  map[string]*yaml.Node{},
		misspelt: map[string]bool{},
	}
}

// decode walks the container's mapping, reporting whether it is one. Keys
// starting with "x-" are ignored, so that they can hold YAML anchors.
func (c *container) decode(n *yaml.Node) bool {
	ps, ok := c.pairs(n, "")
	if !ok {
		return false
	}
	for _, p := range ps {
		if strings.HasPrefix(p.key, "x-") {
			continue
		}
		c.mark(p.key, p.k)
		fn, known := fieldFuncs[p.key]
		if !known {
			hint := suggest(p.key, containerFields, true)
			c.report(p.k, p.key, hint, "unknown field %q", p.key)
			if meant, ok := strings.CutPrefix(hint, "did you mean "); ok {
				c.misspelt[strings.TrimSuffix(meant, "?")] = true
			}
			continue
		}
		fn(c, p.key, p.v)
	}
	return true
}

// finish checks required fields and what depends on several fields. n is the
// container's node, where missing fields are reported.
func (c *container) finish(n *yaml.Node, override string) {
	if override != "" {
		c.spec.Name = override
	}
	if _, set := c.pos["name"]; !set && override == "" && !c.misspelt["name"] {
		c.report(n, "name", "every container needs a name: field", "is required")
	}
	if _, set := c.pos["image"]; !set && !c.misspelt["image"] {
		c.report(n, "image", `add image: such as "busybox" or "localhost:5000/app:1.2"`, "is required")
	}
	if dep, self := c.depNodes[c.spec.Name]; self && c.spec.Name != "" {
		c.report(dep.node, dep.field, "", "container %q cannot depend on itself", c.spec.Name)
	}
	c.spec.Env = mergeEnv(c.fileEnv, c.bundleEnv)
}

// fail reports err at n; an *invalid error also gives its hint.
func (c *container) fail(n *yaml.Node, field string, err error) {
	var iv *invalid
	if errors.As(err, &iv) {
		c.report(n, field, iv.hint, "%s", iv.msg)
		return
	}
	c.report(n, field, "", "%s", err.Error())
}

// invalid is a validation failure with a hint.
type invalid struct{ msg, hint string }

func (e *invalid) Error() string { return e.msg }

func invalidf(hint, msg string) error { return &invalid{msg: msg, hint: hint} }

func (c *container) name(field string, v *yaml.Node) {
	s, ok := c.str(v, field)
	if !ok {
		return
	}
	if err := checkName(s, maxNameLen); err != nil {
		c.fail(v, field, err)
		return
	}
	c.spec.Name = s
}

// checkName checks a container, volume, network or secret name.
func checkName(s string, maxLen int) error {
	switch {
	case !nameRE.MatchString(s):
		return invalidf(nameHint, fmt.Sprintf("invalid name %q", s))
	case len(s) > maxLen:
		return invalidf("", fmt.Sprintf("name %q is too long (at most %d characters)", s, maxLen))
	}
	return nil
}

func (c *container) image(field string, v *yaml.Node) {
	s, ok := c.str(v, field)
	if !ok {
		return
	}
	ref, err := NormalizeImage(s)
	if err != nil {
		c.report(v, field, `write a reference such as "busybox", "busybox:1.36" or "localhost:5000/app:1.2"`,
			"invalid image reference %q", s)
		return
	}
	c.spec.Image = ref
}

// argv decodes command or args: a list, or a string split like a shell would.
func (c *container) argv(v *yaml.Node, field string) []string {
	var words []string
	if r := resolve(v); r != nil && r.Kind == yaml.SequenceNode {
		list, ok := c.strList(v, field)
		if !ok {
			return nil
		}
		words = list
	} else {
		s, ok := c.str(v, field)
		if !ok {
			return nil
		}
		split, err := splitShell(s)
		if err != nil {
			c.report(v, field, "quote and escape as in sh, or write a list", "%s", err.Error())
			return nil
		}
		words = split
	}
	if len(words) == 0 {
		c.report(v, field, "leave the field out to use the image's", "is empty")
		return nil
	}
	return words
}

func (c *container) workdir(field string, v *yaml.Node) {
	s, ok := c.str(v, field)
	if !ok {
		return
	}
	if !path.IsAbs(s) {
		c.report(v, field, "write an absolute path such as /app", "%q is not an absolute path", s)
		return
	}
	c.spec.Workdir = path.Clean(s)
}

func (c *container) user(field string, v *yaml.Node) {
	s, ok := c.str(v, field)
	if !ok {
		return
	}
	u, g, hasGroup := strings.Cut(s, ":")
	if u == "" || strings.ContainsAny(s, " \t\n") || (hasGroup && (g == "" || strings.Contains(g, ":"))) {
		c.report(v, field, `write "uid", "uid:gid" or a user name from the image`, "invalid user %q", s)
		return
	}
	c.spec.User = s
}

// hostnameRE is one RFC 1123 host name label.
var hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

func (c *container) hostname(field string, v *yaml.Node) {
	s, ok := c.str(v, field)
	if !ok {
		return
	}
	good := len(s) <= 64 && s != ""
	for _, label := range strings.Split(s, ".") {
		good = good && hostnameRE.MatchString(label)
	}
	if !good {
		c.report(v, field, "use letters, digits and -, in dot-separated parts, at most 64 characters",
			"invalid host name %q", s)
		return
	}
	c.spec.Hostname = s
}

func (c *container) stopTimeout(field string, v *yaml.Node) {
	if d, ok := c.duration(v, field); ok {
		c.spec.StopTimeout = d
	}
}

func (c *container) stopSignal(field string, v *yaml.Node) {
	s, ok := c.str(v, field)
	if !ok {
		return
	}
	sig, err := normalizeSignal(s)
	if err != nil {
		c.fail(v, field, err)
		return
	}
	c.spec.StopSignal = sig
}

// names decodes networks or secrets: a list of distinct names.
func (c *container) names(v *yaml.Node, field string) []string {
	r := resolve(v)
	if r == nil || r.Kind != yaml.SequenceNode {
		c.wrongType(v, field, "a list of names")
		return nil
	}
	var out []string
	seen := map[string]*yaml.Node{}
	for i, item := range r.Content {
		f := index(field, i)
		c.mark(f, item)
		s, ok := c.str(item, f)
		if !ok {
			continue
		}
		if err := checkName(s, 255); err != nil {
			c.fail(item, f, err)
			continue
		}
		if first, dup := seen[s]; dup {
			c.report(item, f, "", "%q is listed twice (first at line %d)", s, first.Line)
			continue
		}
		seen[s] = item
		out = append(out, s)
	}
	return out
}

// Fields returns the keys of the bundle mapping at path, in the order
// docs/bundle.md describes them: "" for a container, or "resources",
// "health", "replicas", "depends_on" (one dependency's mapping). It is the
// bundle schema's one definition; nest's editor lays out its form and
// places new keys with it. Another path gives nil.
func Fields(path string) []string {
	var f []string
	switch path {
	case "":
		f = containerFields
	case "resources":
		f = resourceFields
	case "health":
		f = healthFields
	case "replicas":
		f = replicaFields
	case "depends_on":
		f = dependFields
	}
	return slices.Clone(f)
}
