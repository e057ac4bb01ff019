package bundle

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/models"
)

const volumeHint = `write "NAME:/path", "NAME:/path:ro", "/host/path:/path" or "./dir:/path"`

// volumeFields are the keys of a volume's long form.
var volumeFields = []string{"type", "source", "target", "read_only"}

// volumes decodes volumes: a list of short strings or long-form maps.
func (c *container) volumes(field string, v *yaml.Node) {
	r := resolve(v)
	if r == nil || r.Kind != yaml.SequenceNode {
		c.wrongType(v, field, "a list of volumes")
		return
	}
	for i, item := range r.Content {
		f := index(field, i)
		c.mark(f, item)
		var vm models.VolumeMount
		var ok bool
		if ri := resolve(item); ri != nil && ri.Kind == yaml.MappingNode {
			vm, ok = c.volumeLong(item, f)
		} else if s, good := c.str(item, f); good {
			vm, ok = c.volumeShort(s, item, f)
		}
		if !ok {
			continue
		}
		if first, dup := c.targets[vm.Target]; dup {
			c.report(item, f, "", "%s is mounted twice (first at line %d)", vm.Target, first.Line)
			continue
		}
		c.targets[vm.Target] = item
		c.spec.Volumes = append(c.spec.Volumes, vm)
	}
}

// volumeShort parses "SOURCE:TARGET[:ro|rw]".
func (c *container) volumeShort(s string, n *yaml.Node, field string) (models.VolumeMount, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		c.report(n, field, volumeHint, "invalid volume %q", s)
		return models.VolumeMount{}, false
	}
	vm, err := c.mount("", parts[0], parts[1])
	if err != nil {
		c.fail(n, field, err)
		return vm, false
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			vm.ReadOnly = true
		case "rw":
		default:
			c.report(n, field, `the mode is "ro" or "rw"`, "invalid volume mode %q", parts[2])
			return vm, false
		}
	}
	return vm, true
}

// volumeLong decodes {type, source, target, read_only}.
func (c *container) volumeLong(n *yaml.Node, field string) (models.VolumeMount, bool) {
	var kind, source, target string
	var readOnly, ok = false, true
	set := map[string]bool{}
	c.each(n, field, volumeFields, func(key, f string, v *yaml.Node) {
		set[key] = true
		var good bool
		switch key {
		case "type":
			kind, good = c.str(v, f)
			if good && kind != string(models.VolumeNamed) && kind != string(models.VolumeBind) {
				c.report(v, f, `the type is "volume" or "bind"`, "invalid volume type %q", kind)
				good = false
			}
		case "source":
			source, good = c.str(v, f)
		case "target":
			target, good = c.str(v, f)
		case "read_only":
			readOnly, good = c.boolean(v, f)
		}
		ok = ok && good
	})
	for _, key := range []string{"source", "target"} {
		if !set[key] {
			c.report(n, join(field, key), "", "is required")
			ok = false
		}
	}
	if !ok {
		return models.VolumeMount{}, false
	}
	vm, err := c.mount(models.VolumeKind(kind), source, target)
	if err != nil {
		c.fail(n, field, err)
		return vm, false
	}
	vm.ReadOnly = readOnly
	return vm, true
}

// mount checks a source and target; an empty kind is guessed from the source:
// a path (starting with / or .) is a bind mount, anything else a volume name.
// A relative bind source is resolved against the bundle's directory.
func (c *container) mount(kind models.VolumeKind, source, target string) (models.VolumeMount, error) {
	vm := models.VolumeMount{Kind: kind, Source: source}
	isPath := strings.HasPrefix(source, "/") || source == "." || source == ".." ||
		strings.HasPrefix(source, "./") || strings.HasPrefix(source, "../")
	switch {
	case strings.HasPrefix(source, "~"):
		return vm, invalidf("write the full path", fmt.Sprintf("~ is not expanded in %q", source))
	case vm.Kind == "" && isPath:
		vm.Kind = models.VolumeBind
	case vm.Kind == "":
		vm.Kind = models.VolumeNamed
	}
	switch {
	case vm.Kind == models.VolumeNamed && isPath:
		return vm, invalidf("use type: bind for a host path", fmt.Sprintf("a volume name cannot be a path: %q", source))
	case vm.Kind == models.VolumeNamed:
		if err := checkName(source, 255); err != nil {
			return vm, invalidf(nameHint+"; a host path starts with / or ./", fmt.Sprintf("invalid volume name %q", source))
		}
	case !isPath:
		return vm, invalidf("start a host path with / or ./", fmt.Sprintf("bind source %q is not a path", source))
	case !filepath.IsAbs(source):
		vm.Source = filepath.Join(c.p.dir, source)
	default:
		vm.Source = filepath.Clean(source)
	}
	if !path.IsAbs(target) {
		return vm, invalidf("the path inside the container starts with /", fmt.Sprintf("target %q is not an absolute path", target))
	}
	if vm.Target = path.Clean(target); vm.Target == "/" {
		return vm, invalidf("", "cannot mount over /")
	}
	return vm, nil
}
