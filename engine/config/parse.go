package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/units"
)

// budgieError reads as msg and matches its sentinel with errors.Is, so
// messages stay free of the sentinel's own text.
type budgieError struct {
	msg      string
	sentinel error
}

func (e *budgieError) Error() string { return e.msg }
func (e *budgieError) Unwrap() error { return e.sentinel }

// newError returns an error reading as the formatted message and matching
// sentinel (one of errdefs').
func newError(sentinel error, format string, a ...any) error {
	return &budgieError{msg: fmt.Sprintf(format, a...), sentinel: sentinel}
}

// typeError says a value is not of the key's kind.
func typeError(k kind, got string, detail string) error {
	if detail != "" {
		detail = " (" + detail + ")"
	}
	return newError(errdefs.ErrInvalid, "want %s, got %s%s", k.want(), got, detail)
}

// parseBool accepts true/false, yes/no, on/off and 1/0 in any case.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// parseScalar parses one textual value of a scalar kind.
func parseScalar(k kind, s string) (any, error) {
	switch k {
	case kindBool:
		if b, ok := parseBool(s); ok {
			return b, nil
		}
		return nil, typeError(k, strconv.Quote(s), "")
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, typeError(k, strconv.Quote(s), "")
		}
		return n, nil
	case kindSize:
		n, err := units.ParseSize(s)
		if err != nil {
			return nil, typeError(k, strconv.Quote(s), err.Error())
		}
		return n, nil
	case kindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return nil, typeError(k, strconv.Quote(s), "")
		}
		return d, nil
	}
	return s, nil
}

// parseText parses a value given as an environment variable or a flag:
// lists are comma separated, keys a YAML flow mapping ({quit: [q, ctrl+c]}).
func (d *keyDef) parseText(s string) (any, error) {
	switch d.kind {
	case kindList:
		var list []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		return list, nil
	case kindKeys:
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil || len(doc.Content) == 0 {
			return nil, typeError(d.kind, strconv.Quote(s), "write it as {quit: [q, ctrl+c], logs: l}")
		}
		v, _, err := d.parseNode(doc.Content[0])
		return v, err
	}
	return parseScalar(d.kind, s)
}

// parseNode parses a YAML value. On error it also returns the line of the
// offending node (an element of a list, say).
func (d *keyDef) parseNode(n *yaml.Node) (any, int, error) {
	n = resolve(n)
	switch d.kind {
	case kindList:
		return parseStrings(d.kind, n)
	case kindKeys:
		return parseKeys(n)
	}
	if n.Kind != yaml.ScalarNode {
		return nil, n.Line, typeError(d.kind, describe(n), "")
	}
	v, err := parseScalar(d.kind, n.Value)
	return v, n.Line, err
}

// parseStrings parses a YAML list of strings.
func parseStrings(k kind, n *yaml.Node) (any, int, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, n.Line, typeError(k, describe(n), "")
	}
	var list []string // nil when empty, as in Default
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			return nil, item.Line, newError(errdefs.ErrInvalid, "want a string in the list, got %s", describe(item))
		}
		list = append(list, item.Value)
	}
	return list, n.Line, nil
}

// parseKeys parses keys: a mapping of action to one key or a list of keys.
func parseKeys(n *yaml.Node) (any, int, error) {
	if n.Kind != yaml.MappingNode {
		return nil, n.Line, typeError(kindKeys, describe(n), "")
	}
	var m map[string][]string // nil when empty, as in Default
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if m == nil {
			m = make(map[string][]string)
		}
		if k.Kind != yaml.ScalarNode {
			return nil, k.Line, newError(errdefs.ErrInvalid, "want an action name, got %s", describe(k))
		}
		if _, dup := m[k.Value]; dup {
			return nil, k.Line, newError(errdefs.ErrInvalid, "action %q is listed twice", k.Value)
		}
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			m[k.Value] = []string{v.Value}
			continue
		}
		list, line, err := parseStrings(kindList, v)
		if err != nil {
			return nil, line, newError(errdefs.ErrInvalid, "action %q: want a key or a list of keys, got %s", k.Value, describe(v))
		}
		m[k.Value] = list.([]string)
	}
	return m, n.Line, nil
}

// resolve follows YAML aliases (*name) to the node they point at.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty value ("key:" or "key: ~").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what a YAML node is, for type errors.
func describe(n *yaml.Node) string {
	switch resolve(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// yamlText writes v as one line of YAML: lists in flow style, strings
// quoted only where YAML needs it.
func yamlText(v any) string {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
	}
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(string(out), "\n")
}
