package compose

import (
	"bytes"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// lines finds where a field is written in the compose file: compose-go's
// model has no positions, so the file's YAML is decoded again into nodes.
type lines struct {
	root *yaml.Node
}

// newLines decodes data; YAML compose-go accepted but yaml.v3 does not
// (or an empty file) gives an index that finds nothing.
func newLines(data []byte) *lines {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return &lines{}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return &lines{root: doc.Content[0]}
	}
	return &lines{}
}

// find returns the line and column of the dotted field path
// ("services.web.deploy.resources", "services.web.ports[1]"): of the
// deepest part of it that is written in the file, or 0, 0 when not even
// its first part is (a field from an extends or include file).
func (l *lines) find(field string) (line, col int) {
	n := l.root
	for _, part := range splitPath(field) {
		next, at := child(n, part)
		if next == nil {
			break
		}
		line, col = at.Line, at.Column
		n = next
	}
	return line, col
}

// splitPath splits "a.b[2].c" into "a", "b", "2", "c". A key holding a dot
// (a label such as com.example.tier) cannot be told from a path; find then
// stops at the map that holds it.
func splitPath(field string) []string {
	var parts []string
	for _, p := range strings.Split(field, ".") {
		for {
			i := strings.IndexByte(p, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				parts = append(parts, p[:i])
			}
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				break
			}
			parts = append(parts, p[i+1:i+j])
			p = p[i+j+1:]
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// child returns the value under key (or list index) part of n, and the
// node whose position names it: the key of a map entry, the item of a
// list. Aliases are followed and YAML merge keys (<<) searched after the
// map's own keys, as compose-go merges them.
func child(n *yaml.Node, part string) (value, at *yaml.Node) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value == part && k.Tag != "!!merge" {
				return n.Content[i+1], k
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Tag != "!!merge" && n.Content[i].Value != "<<" {
				continue
			}
			for _, m := range merged(n.Content[i+1]) {
				if v, at := child(m, part); v != nil {
					return v, at
				}
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(part)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i]
		}
	}
	return nil, nil
}

// merged lists the maps a merge key's value names: one alias, or a list
// of them.
func merged(v *yaml.Node) []*yaml.Node {
	v = deref(v)
	if v != nil && v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

// deref follows aliases (bounded, as a hostile file may loop).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 64 {
			return nil
		}
		n = n.Alias
	}
	return n
}
