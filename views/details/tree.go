package details

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// node is one key of the inspect document: a scalar leaf, or an object or
// array whose children fold.
type node struct {
	key      string
	value    string // scalars only, as JSON
	children []*node
	isArray  bool
	open     bool
	depth    int
}

func (n *node) leaf() bool { return n.children == nil }

// buildTree turns any JSON-encodable value into a tree; the root's
// children are the document's top-level keys.
func buildTree(v any) (*node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode inspect document: %w", err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode inspect document: %w", err)
	}
	root := fromValue("", doc, -1)
	root.open = true
	return root, nil
}

func fromValue(key string, v any, depth int) *node {
	n := &node{key: key, depth: depth}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n.children = []*node{}
		for _, k := range keys {
			n.children = append(n.children, fromValue(k, v[k], depth+1))
		}
	case []any:
		n.isArray = true
		n.children = []*node{}
		for i, e := range v {
			n.children = append(n.children, fromValue(fmt.Sprint(i), e, depth+1))
		}
	default:
		b, _ := json.Marshal(v)
		n.value = string(b)
	}
	return n
}

// visible lists the nodes drawn: the root's children and, under every
// open node, its children.
func (n *node) visible(out []*node) []*node {
	for _, c := range n.children {
		out = append(out, c)
		if c.open {
			out = c.visible(out)
		}
	}
	return out
}

// setOpen opens or closes n and everything below it.
func (n *node) setOpen(open bool) {
	if !n.leaf() {
		n.open = open
	}
	for _, c := range n.children {
		c.setOpen(open)
	}
}

// summary is what a folded node shows after its key.
func (n *node) summary() string {
	switch {
	case n.leaf():
		return n.value
	case n.isArray && len(n.children) == 0:
		return "[]"
	case len(n.children) == 0:
		return "{}"
	case n.isArray:
		return fmt.Sprintf("[%d]", len(n.children))
	}
	keys := make([]string, 0, 3)
	for _, c := range n.children[:min(3, len(n.children))] {
		keys = append(keys, c.key)
	}
	more := ""
	if len(n.children) > 3 {
		more = ", …"
	}
	return "{" + strings.Join(keys, ", ") + more + "}"
}
