package bundle

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

// orderOf returns the canonical key order of the mapping at parent ("" for
// the container itself): the bundle schema's (Fields). A key added
// to a mapping goes after the last key present that comes before it there.
func orderOf(parent string) []string { return Fields(parent) }

// numberRE matches scalars written as numbers, which stay untagged.
var (
	numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	intRE    = regexp.MustCompile(`^-?[0-9]+$`)
)

// scalar returns a new scalar node. Numbers are plain; everything else is
// tagged as a string so that values such as "no" or "0755" stay strings.
func scalar(value string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: "!!str"}
	if numberRE.MatchString(value) {
		n.Tag = "!!int"
		if !intRE.MatchString(value) {
			n.Tag = "!!float"
		}
	}
	return n
}

// str returns a new scalar node tagged as a string, for list items and map
// values, which are strings even when they look like numbers.
func str(value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: "!!str"}
}

// setScalar changes the value of an existing scalar in place, keeping its
// style (quotes) and comments.
func setScalar(n *yaml.Node, value string) {
	fresh := scalar(value)
	n.Value = value
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		n.Tag = "!!str"
		return
	}
	n.Tag = fresh.Tag
	n.Style &^= yaml.LiteralStyle | yaml.FoldedStyle
}

// resolved follows aliases.
func resolved(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// get returns the value node of key in the mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if i := keyIndex(m, key); i >= 0 {
		return resolved(m.Content[i+1])
	}
	return nil
}

// keyIndex returns the index in m.Content of key's key node, or -1.
func keyIndex(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// set makes v the value of key in m. An existing value is replaced, and v
// takes over its comments; a new key goes where order says.
func set(m *yaml.Node, key string, v *yaml.Node, order []string) {
	if i := keyIndex(m, key); i >= 0 {
		old := m.Content[i+1]
		if v != old {
			v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
		}
		m.Content[i+1] = v
		return
	}
	at := 0
	rank := indexOf(order, key)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if r := indexOf(order, m.Content[i].Value); r >= 0 && r < rank {
			at = i + 2
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	if at == len(m.Content) && at >= 2 {
		// A comment at the end of the mapping stays at its end.
		last := m.Content[at-2]
		k.FootComment, last.FootComment = last.FootComment, ""
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{k, v}, m.Content[at:]...)...)
}

// remove deletes key from m.
func remove(m *yaml.Node, key string) {
	if i := keyIndex(m, key); i >= 0 {
		m.Content = append(m.Content[:i], m.Content[i+2:]...)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return len(list)
}

// sequence returns a block sequence of items, in the style of like (if any).
func sequence(items []*yaml.Node, like *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
	if like != nil && like.Kind == yaml.SequenceNode {
		n.Style = like.Style
	}
	return n
}

// mapping returns an empty block mapping.
func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }

// deepCopy copies a node tree; aliases keep pointing into the copy when
// their anchor is inside it.
func deepCopy(n *yaml.Node) *yaml.Node {
	seen := map[*yaml.Node]*yaml.Node{}
	var walk func(*yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		if n == nil {
			return nil
		}
		if c, ok := seen[n]; ok {
			return c
		}
		c := *n
		seen[n] = &c
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = walk(child)
		}
		c.Alias = walk(n.Alias)
		return &c
	}
	return walk(n)
}
