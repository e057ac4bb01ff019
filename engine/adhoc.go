package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/bundle"
)

// AdhocFile is the file name an ad-hoc container's bundle text is parsed
// under (RunBundleText's name): its problems are reported by flag instead.
const AdhocFile = "budgie run"

// AdhocOptions describe one container the way docker run's flags do
// (budgie run IMAGE [CMD ARG…]). Each value is written into a bundle as
// the text it was given and checked by the bundle parser, so a bad value
// gets the message a bundle would, named after its flag. Zero values mean
// what the bundle field's absence means.
type AdhocOptions struct {
	// Image is the image reference as docker takes it (busybox, acme/api:1).
	Image string
	// Args replace the image's cmd (docker run IMAGE CMD ARG…): the
	// bundle's args; empty keeps the image's.
	Args []string
	// Name is the container name (--name); empty means one made of the
	// image's name and a random suffix (busybox-3fa9c1).
	Name string
	// Env are KEY=VALUE pairs (-e).
	Env []string
	// Publish are ports as -p takes them ("8080:80", "127.0.0.1::53/udp").
	Publish []string
	// Volumes are mounts as -v takes them: NAME:/PATH[:ro] or
	// HOST-PATH:/PATH[:ro]; a relative host path (./site) is made
	// absolute against Dir.
	Volumes []string
	// Networks are the networks to join (--network); empty means the
	// default network.
	Networks []string
	// Restart is the restart policy (--restart): no, always,
	// unless-stopped, on-failure[:N].
	Restart string
	// Memory is the memory limit (--memory 64m).
	Memory string
	// CPUs is the CPU limit (--cpus 0.5).
	CPUs string
	// Tty gives the process a terminal (-t): the bundle's tty: true.
	Tty bool
	// StdinOpen gives it the caller's stdin when run attached (-i): the
	// bundle's stdin_open: true.
	StdinOpen bool
	// Dir is the directory relative host paths are relative to; empty
	// means the working directory.
	Dir string
}

// AdhocBundle returns the bundle (.bun YAML) that opts describe, after the
// bundle parser has checked it: `budgie run FILE` of that text makes the
// same container (the same spec) as RunBundleText of it. Problems come
// back as a *bundle.Error (errdefs.ErrInvalid) whose problems name the
// flag ("-p 70000:80: port 70000 is out of range (1 to 65535)").
func AdhocBundle(opts AdhocOptions) ([]byte, error) {
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("find the working directory for relative volume paths: %w", err)
		}
		dir = wd
	}
	if opts.Name == "" {
		opts.Name = adhocName(opts.Image)
	}
	top, flags := adhocNode(opts, dir)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top}}); err != nil {
		return nil, fmt.Errorf("write the bundle of budgie run's flags: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write the bundle of budgie run's flags: %w", err)
	}
	if _, err := bundle.Parse(AdhocFile, b.Bytes(), bundle.ParseOptions{Dir: dir}); err != nil {
		return nil, byFlag(err, flags)
	}
	return b.Bytes(), nil
}

// adhocNode builds the bundle's YAML, in the schema's field order, and
// notes which flag each field path came from.
func adhocNode(opts AdhocOptions, dir string) (*yaml.Node, map[string]string) {
	top := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map",
		HeadComment: "Budgie bundle written by budgie run --print-bundle: docs/bundle.md describes every field."}
	flags := map[string]string{"name": "--name " + opts.Name, "image": "image " + opts.Image, "args": "the command"}
	set := func(key string, v *yaml.Node) { top.Content = append(top.Content, yamlString(key), v) }
	list := func(key, flag string, items []string) {
		if len(items) == 0 {
			return
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i, it := range items {
			seq.Content = append(seq.Content, yamlString(it))
			flags[fmt.Sprintf("%s[%d]", key, i)] = flag + " " + it
		}
		set(key, seq)
	}
	set("name", yamlString(opts.Name))
	set("image", yamlString(opts.Image))
	list("args", "the command:", opts.Args)
	list("env", "-e", opts.Env)
	list("ports", "-p", opts.Publish)
	volumes := make([]string, len(opts.Volumes))
	for i, v := range opts.Volumes {
		volumes[i] = absVolume(v, dir)
	}
	list("volumes", "-v", volumes)
	for i, v := range opts.Volumes {
		flags[fmt.Sprintf("volumes[%d]", i)] = "-v " + v
	}
	if opts.Memory != "" || opts.CPUs != "" {
		res := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if opts.Memory != "" {
			res.Content = append(res.Content, yamlString("memory"), yamlPlain(opts.Memory))
			flags["resources.memory"] = "--memory " + opts.Memory
		}
		if opts.CPUs != "" {
			res.Content = append(res.Content, yamlString("cpus"), yamlPlain(opts.CPUs))
			flags["resources.cpus"] = "--cpus " + opts.CPUs
		}
		set("resources", res)
	}
	if opts.Restart != "" {
		set("restart_policy", yamlString(opts.Restart))
		flags["restart_policy"] = "--restart " + opts.Restart
	}
	if opts.Tty {
		set("tty", yamlTrue())
		flags["tty"] = "-t"
	}
	if opts.StdinOpen {
		set("stdin_open", yamlTrue())
		flags["stdin_open"] = "-i"
	}
	list("networks", "--network", opts.Networks)
	return top, flags
}

// yamlString is a string scalar: quoted when YAML would read it as something else.
func yamlString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// yamlTrue is the boolean true.
func yamlTrue() *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}
}

// yamlPlain is a scalar written as is (cpus: 0.5, memory: 64m); the parser
// takes any scalar's text.
func yamlPlain(s string) *yaml.Node {
	if n := yamlString(s); strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`\n") || strings.TrimSpace(s) != s {
		return n
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Value: s}
}

// absVolume makes a relative host path of a -v value (./site:/var/www)
// absolute against dir, so that the printed bundle means the same
// wherever it is saved.
func absVolume(v, dir string) string {
	src, rest, ok := strings.Cut(v, ":")
	if !ok || !(src == "." || src == ".." || strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../")) {
		return v
	}
	return filepath.Join(dir, src) + ":" + rest
}

// adhocName makes a container name of the image's last path element and
// a random suffix: docker.io/library/busybox:1.36 → busybox-3fa9c1.
func adhocName(image string) string {
	base := image[strings.LastIndexByte(image, '/')+1:]
	base, _, _ = strings.Cut(base, "@")
	base, _, _ = strings.Cut(base, ":")
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || ((r == '-' || r == '_' || r == '.') && b.Len() > 0) {
			b.WriteRune(r)
		}
	}
	base = b.String()
	if len(base) > 48 {
		base = base[:48]
	}
	if base == "" {
		base = "ctr"
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	return base + "-" + hex.EncodeToString(suffix)
}

// lineRef is a problem's pointer to another line of the bundle ("A is set
// twice (first at line 5)"), which means nothing on a command line.
var lineRef = regexp.MustCompile(` \((first at )?line \d+\)`)

// byFlag rewrites the problems of an ad-hoc bundle to name the flag each
// field came from instead of a line of text the user never wrote.
func byFlag(err error, flags map[string]string) error {
	var be *bundle.Error
	if !errors.As(err, &be) {
		return err
	}
	out := make([]bundle.Problem, len(be.Problems))
	for i, p := range be.Problems {
		msg := lineRef.ReplaceAllString(p.Message, "")
		out[i] = bundle.Problem{File: flagOf(p.Field, flags), Message: msg, Hint: p.Hint}
	}
	return &bundle.Error{Problems: out}
}

// flagOf returns the flag of field, or of the closest enclosing field
// that has one.
func flagOf(field string, flags map[string]string) string {
	for f := field; f != ""; {
		if flag, ok := flags[f]; ok {
			return flag
		}
		cut := strings.LastIndexAny(f, ".[")
		if cut < 0 {
			break
		}
		f = f[:cut]
	}
	if field == "" {
		return AdhocFile
	}
	return AdhocFile + ": " + field
}
