package bundle

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// read returns the text of field path of container c (see Document.Read).
func read(c *yaml.Node, path string, k FieldKind) string {
	parent, key := split(path)
	var n *yaml.Node
	switch p := get(c, parent); {
	case parent == "":
		n = get(c, key)
	case parent == "replicas" && p != nil && p.Kind == yaml.ScalarNode:
		if key == "count" {
			n = p
		}
	default:
		n = get(p, key)
	}
	if n == nil {
		return ""
	}
	switch k {
	case FieldPolicy:
		if n.Kind == yaml.MappingNode {
			return joinNonEmpty(":", scalarOf(get(n, "name")), scalarOf(get(n, "max_retries")))
		}
	case FieldList, FieldArgv, FieldPairs, FieldDeps:
		return strings.Join(items(n, k), "\n")
	}
	return scalarOf(n)
}

// items returns the lines of a list or map field: one per item.
func items(n *yaml.Node, k FieldKind) []string {
	var out []string
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			out = append(out, itemText(it))
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, pairText(n.Content[i], n.Content[i+1], k))
		}
	}
	return out
}

// itemText is one list item as a line: a scalar's value, or a volume's long
// form as SOURCE:TARGET[:ro].
func itemText(n *yaml.Node) string {
	n = resolved(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return scalarOf(n)
	}
	ro := ""
	if v := strings.ToLower(scalarOf(get(n, "read_only"))); v == "true" || v == "yes" || v == "on" {
		ro = "ro"
	}
	return joinNonEmpty(":", scalarOf(get(n, "source")), scalarOf(get(n, "target")), ro)
}

// pairText is one map entry as a line: KEY=VALUE, or for depends_on
// "name condition timeout".
func pairText(k, v *yaml.Node, kd FieldKind) string {
	v = resolved(v)
	if kd == FieldDeps {
		if v == nil || v.Kind != yaml.MappingNode {
			return k.Value
		}
		cond, timeout := scalarOf(get(v, "condition")), scalarOf(get(v, "timeout"))
		if cond == "" && timeout != "" {
			cond = "started"
		}
		return joinNonEmpty(" ", k.Value, cond, timeout)
	}
	return k.Value + "=" + scalarOf(v)
}

// scalarOf is a scalar's value, or "" for anything else (null included).
func scalarOf(n *yaml.Node) string {
	n = resolved(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// write sets field path of container c to text (see Document.Write).
func write(c *yaml.Node, path string, k FieldKind, text string) {
	parent, key := split(path)
	text = NormalizeField(k, text)
	if parent == "replicas" {
		writeReplicas(c, key, text)
		return
	}
	m := c
	if parent != "" {
		m = get(c, parent)
		if m == nil || m.Kind != yaml.MappingNode {
			if text == "" {
				return
			}
			m = mapping()
			set(c, parent, m, orderOf(""))
		}
	}
	if text == "" {
		remove(m, key)
		if parent != "" && len(m.Content) == 0 {
			remove(c, parent)
		}
		return
	}
	set(m, key, value(get(m, key), k, key, text), orderOf(parent))
}

// value builds the node for text, reusing old (and its items) where they
// still say the same.
func value(old *yaml.Node, k FieldKind, key, text string) *yaml.Node {
	ls := lines(text)
	oldKind := yaml.Kind(0)
	if old != nil {
		oldKind = old.Kind
	}
	switch {
	case k == FieldLine || k == FieldPolicy || (len(ls) == 1 && (k == FieldArgv || (k == FieldList && oldKind == yaml.ScalarNode))):
		if oldKind == yaml.ScalarNode {
			setScalar(old, text)
			return old
		}
		if k != FieldLine && k != FieldPolicy {
			return str(text)
		}
		return scalar(text)
	case k == FieldPairs && (oldKind == yaml.MappingNode || (old == nil && key == "labels")):
		return pairMap(old, ls, k)
	case k == FieldDeps && (oldKind == yaml.MappingNode || !namesOnly(ls)):
		return pairMap(old, ls, k)
	}
	return reuseSequence(old, ls)
}

// reuseSequence builds a list of ls, taking each line's node from old when an
// item there reads the same.
func reuseSequence(old *yaml.Node, ls []string) *yaml.Node {
	var pool []*yaml.Node
	if old != nil && old.Kind == yaml.SequenceNode {
		pool = append(pool, old.Content...)
	}
	out := make([]*yaml.Node, len(ls))
	for i, l := range ls {
		out[i] = str(l)
		for j, it := range pool {
			if it != nil && itemText(it) == l {
				out[i], pool[j] = it, nil
				break
			}
		}
	}
	return sequence(out, old)
}

// pairMap builds a map of ls (KEY=VALUE, or depends_on lines), taking each
// entry's nodes from old when an entry there reads the same.
func pairMap(old *yaml.Node, ls []string, k FieldKind) *yaml.Node {
	m := mapping()
	if old != nil && old.Kind == yaml.MappingNode {
		m.Style = old.Style
	}
	for _, l := range ls {
		if i := findPair(old, l, k); i >= 0 {
			m.Content = append(m.Content, old.Content[i], old.Content[i+1])
			old.Content[i] = &yaml.Node{} // used
			continue
		}
		m.Content = append(m.Content, newPair(l, k)...)
	}
	return m
}

// findPair returns the index of the key of old's entry that reads l, or -1.
func findPair(old *yaml.Node, l string, k FieldKind) int {
	if old == nil || old.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(old.Content); i += 2 {
		if old.Content[i].Kind == yaml.ScalarNode && pairText(old.Content[i], old.Content[i+1], k) == l {
			return i
		}
	}
	return -1
}

// newPair returns the key and value nodes of a new map entry.
func newPair(l string, k FieldKind) []*yaml.Node {
	if k != FieldDeps {
		key, val, _ := strings.Cut(l, "=")
		return []*yaml.Node{str(strings.TrimSpace(key)), str(val)}
	}
	words := strings.Fields(l)
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	if len(words) > 1 {
		v = mapping()
		set(v, "condition", scalar(words[1]), orderOf("depends_on"))
		if len(words) > 2 {
			set(v, "timeout", scalar(strings.Join(words[2:], " ")), orderOf("depends_on"))
		}
	}
	return []*yaml.Node{scalar(words[0]), v}
}

// namesOnly reports whether every depends_on line is a bare name.
func namesOnly(ls []string) bool {
	for _, l := range ls {
		if len(strings.Fields(l)) != 1 {
			return false
		}
	}
	return true
}

// writeReplicas sets replicas.count or replicas.strategy: a bare count stays
// (or becomes) "replicas: N"; a strategy needs the map form.
func writeReplicas(c *yaml.Node, key, text string) {
	r := get(c, "replicas")
	switch {
	case r == nil && text == "":
		return
	case r == nil && key == "count":
		set(c, "replicas", scalar(text), orderOf(""))
		return
	case r != nil && r.Kind == yaml.ScalarNode && key == "count":
		if text == "" {
			remove(c, "replicas")
		} else {
			setScalar(r, text)
		}
		return
	case r != nil && r.Kind == yaml.ScalarNode && text == "":
		return // no strategy to remove from a bare count
	case r == nil || r.Kind != yaml.MappingNode:
		m := mapping()
		if r != nil && r.Kind == yaml.ScalarNode {
			count := scalar(r.Value)
			count.LineComment = r.LineComment
			set(m, "count", count, orderOf("replicas"))
		}
		set(c, "replicas", m, orderOf(""))
		r = m
	}
	if text == "" {
		remove(r, key)
		if len(r.Content) == 0 {
			remove(c, "replicas")
		}
		return
	}
	set(r, key, value(get(r, key), FieldLine, key, text), orderOf("replicas"))
}
