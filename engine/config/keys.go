package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/units"
)

// kind is the type of a key's value, which decides how it is parsed from
// YAML and from environment variables and how it is shown.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindSize
	kindList
	kindKeys
	kindDuration
)

// want says what a value of the kind looks like, for type errors.
func (k kind) want() string {
	switch k {
	case kindBool:
		return "true or false"
	case kindInt:
		return "a whole number"
	case kindSize:
		return "a size such as 10MiB"
	case kindList:
		return "a list of strings"
	case kindKeys:
		return "a mapping of action names to a key or a list of keys"
	case kindDuration:
		return "a duration such as 1s or 500ms"
	}
	return "a string"
}

// keyDef describes one configuration key.
type keyDef struct {
	name  string              // dotted, as in Keys()
	kind  kind                // type of the value
	doc   string              // comment written above the key by WriteDefault
	field func(c *Config) any // pointer to the key's field in c
	check func(v any) error   // validates the effective value; nil accepts any
}

// keyDefs lists every key in the order budgie.yaml shows them.
var keyDefs = []keyDef{
	{"containerd.address", kindString,
		"Socket of an external containerd, tried first. When nothing answers\nthere, Budgie starts its own under data_dir. \"\" means always Budgie's own.",
		func(c *Config) any { return &c.Containerd.Address }, checkAddress},
	{"containerd.namespace", kindString,
		"The containerd namespace Budgie works in.",
		func(c *Config) any { return &c.Containerd.Namespace }, checkNamespace},
	{"data_dir", kindString,
		"Absolute directory for volumes, logs, the managed containerd and keeper state.",
		func(c *Config) any { return &c.DataDir }, checkAbsolute},
	{"node_name", kindString,
		"This node's name as peers see it. Empty: the host name.",
		func(c *Config) any { return &c.NodeName }, nil},
	{"log_level", kindString,
		"debug, info, warn or error.",
		func(c *Config) any { return &c.LogLevel }, oneOf("debug", "info", "warn", "error")},
	{"registries.insecure", kindList,
		"Registries (host:port) reached over plain HTTP. Loopback registries always are.",
		func(c *Config) any { return &c.Registries.Insecure }, checkHosts},
	{"logs.max_size", kindSize,
		"Size at which a container's log file is rotated: bytes or with a unit\n(k/KB/KiB, m/MB/MiB, g/GB/GiB, all in 1024s, as in bundles and docker).",
		func(c *Config) any { return &c.Logs.MaxSize }, checkPositive},
	{"logs.max_files", kindInt,
		"How many log files (current plus rotated) are kept per container; at least 1.",
		func(c *Config) any { return &c.Logs.MaxFiles }, checkPositive},
	{"ui.theme", kindString,
		"dark, light or auto (follow the terminal).",
		func(c *Config) any { return &c.UI.Theme }, oneOf("dark", "light", "auto")},
	{"ui.mouse", kindBool,
		"Turn on mouse support in nest.",
		func(c *Config) any { return &c.UI.Mouse }, nil},
	{"discovery.interfaces", kindList,
		"Network interfaces to announce and browse on (e.g. [eth0]). Empty: every\nup, multicast-capable, non-loopback interface with an IPv4 address.",
		func(c *Config) any { return &c.Discovery.Interfaces }, nil},
	{"discovery.sync_port", kindInt,
		"The replication port announced to peers.",
		func(c *Config) any { return &c.Discovery.SyncPort }, checkPort},
	{"discovery.interval", kindDuration,
		"First mDNS query interval; later queries back off (doubling, up to an\nhour) while the cache answers (RFC 6762).",
		func(c *Config) any { return &c.Discovery.Interval }, checkDurationAtLeast(100 * time.Millisecond)},
	{"discovery.expiry", kindDuration,
		"Ignored since discovery keeps records for their TTL and hears goodbyes\n(kept so that older budgie.yaml files still load).",
		func(c *Config) any { return &c.Discovery.Expiry }, checkDurationAtLeast(200 * time.Millisecond)},
	{"networks.default_bridge", kindString,
		"The Linux bridge of the default network, budgie0 (at most 15 characters,\nstarting with budgie). Read when budgie0 is first made.",
		func(c *Config) any { return &c.Networks.DefaultBridge }, checkBridge},
	{"networks.default_subnet", kindString,
		"The subnet of the default network, budgie0, in CIDR form. Read when\nbudgie0 is first made.",
		func(c *Config) any { return &c.Networks.DefaultSubnet }, checkCIDR},
	{"web.enabled", kindBool,
		"Serve the web dashboard from the keeper (budgie dashboard prints its URL).",
		func(c *Config) any { return &c.Web.Enabled }, nil},
	{"web.listen", kindString,
		"The dashboard's host:port. Loopback by default; any other address is\nserved over TLS with the node's certificate, and always needs a login.",
		func(c *Config) any { return &c.Web.Listen }, checkListen},
	{"web.tls", kindString,
		"auto (TLS beyond loopback), on (always) or off (loopback only).",
		func(c *Config) any { return &c.Web.TLS }, oneOf("auto", "on", "off")},
	{"keys", kindKeys,
		"Remaps nest's key bindings: an action and the key or keys that trigger it.\nFor example:\n  keys:\n    quit: [q, ctrl+c]\n    logs: l",
		func(c *Config) any { return &c.Keys }, checkKeys},
}

// sectionDocs are the comments written above each section by WriteDefault.
var sectionDocs = map[string]string{
	"containerd": "Which containerd Budgie talks to.",
	"registries": "Image registries.",
	"logs":       "Container log files (Docker's json-file format).",
	"ui":         "nest, the TUI.",
	"discovery":  "Discovery of containers on the LAN (mDNS, in the keeper).",
	"networks":   "Container networks (see docs/networks.md).",
	"web":        "The web dashboard, served by the keeper (see docs/web.md).",
}

// Keys returns every configuration key, dotted ("containerd.namespace"), in
// the order budgie.yaml lists them.
func Keys() []string {
	keys := make([]string, len(keyDefs))
	for i, d := range keyDefs {
		keys[i] = d.name
	}
	return keys
}

// EnvName returns the environment variable that overrides key:
// "containerd.namespace" → "BUDGIE_CONTAINERD_NAMESPACE".
func EnvName(key string) string {
	return "BUDGIE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// findKey returns the definition of a dotted key, or nil.
func findKey(name string) *keyDef {
	for i := range keyDefs {
		if keyDefs[i].name == name {
			return &keyDefs[i]
		}
	}
	return nil
}

// lookupKey is findKey with an error that says what was meant.
func lookupKey(name string) (*keyDef, error) {
	if d := findKey(name); d != nil {
		return d, nil
	}
	if sub := levelKeys(name + "."); len(sub) > 0 {
		return nil, newError(errdefs.ErrInvalid, "%q is a section, not a key; its keys are %s", name, strings.Join(sub, ", "))
	}
	return nil, newError(errdefs.ErrInvalid, "unknown configuration key %q%s", name, unknownKeyHint(name, Keys()))
}

// levelKeys returns the names directly under a section prefix ("" for the
// top level, "logs." for logs): keys and section names, without repeats.
func levelKeys(prefix string) []string {
	var names []string
	for _, d := range keyDefs {
		rest, ok := strings.CutPrefix(d.name, prefix)
		if !ok {
			continue
		}
		if i := strings.Index(rest, "."); i >= 0 {
			rest = rest[:i]
		}
		if name := prefix + rest; !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// isSection reports whether name is a section holding keys.
func isSection(name string) bool {
	return findKey(name) == nil && len(levelKeys(name+".")) > 0
}

// Get returns key's value: a string, bool, int, int64 (a size in bytes),
// []string or map[string][]string (never nil), copied so changes do not reach c. An
// unknown key is an error wrapping errdefs.ErrInvalid with a suggestion.
func (c *Config) Get(key string) (any, error) {
	d, err := lookupKey(key)
	if err != nil {
		return nil, err
	}
	return d.get(c), nil
}

// Format returns key's value as text: sizes with a unit (10MiB), lists as a
// comma list (the form BUDGIE_ variables take), keys as YAML lines
// ("quit: [q, ctrl+c]"), sorted by action.
func (c *Config) Format(key string) (string, error) {
	d, err := lookupKey(key)
	if err != nil {
		return "", err
	}
	return d.text(c), nil
}

// get returns a copy of the key's value in c.
func (d *keyDef) get(c *Config) any {
	switch p := d.field(c).(type) {
	case *string:
		return *p
	case *bool:
		return *p
	case *int:
		return *p
	case *int64:
		return *p
	case *time.Duration:
		return *p
	case *[]string:
		return append([]string{}, *p...)
	case *map[string][]string:
		m := make(map[string][]string, len(*p))
		for k, v := range *p {
			m[k] = slices.Clone(v)
		}
		return m
	}
	panic(fmt.Sprintf("config: key %s has an unhandled field type", d.name))
}

// set stores v, a value returned by parseText or parseNode, in c.
func (d *keyDef) set(c *Config, v any) {
	switch p := d.field(c).(type) {
	case *string:
		*p = v.(string)
	case *bool:
		*p = v.(bool)
	case *int:
		*p = v.(int)
	case *int64:
		*p = v.(int64)
	case *time.Duration:
		*p = v.(time.Duration)
	case *[]string:
		*p = v.([]string)
	case *map[string][]string:
		*p = v.(map[string][]string)
	}
}

// text formats the key's value in c as Format describes.
func (d *keyDef) text(c *Config) string {
	switch v := d.get(c).(type) {
	case string:
		return v
	case bool:
		return fmt.Sprint(v)
	case int:
		return fmt.Sprint(v)
	case int64:
		return units.FormatSize(v)
	case time.Duration:
		return v.String()
	case []string:
		return strings.Join(v, ",")
	case map[string][]string:
		actions := make([]string, 0, len(v))
		for a := range v {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		lines := make([]string, len(actions))
		for i, a := range actions {
			lines[i] = yamlText(a) + ": " + yamlText(v[a])
		}
		return strings.Join(lines, "\n")
	}
	return ""
}
