package kube

import (
	"gopkg.in/yaml.v3"
)

// maxDecoded bounds the size of a manifest's documents with their aliases
// (*name) expanded, summed over the manifest: the strict decode expands
// every alias into a copy of its anchor's value, so a 1 MiB scalar
// aliased a thousand times would take a GiB. Twice the manifest's own
// bound: a manifest without aliases stays well under it.
const maxDecoded = 2 * maxManifest

// checkSize adds the size of the document's tree, aliases expanded (its
// scalars' bytes and one per node), to *total, and refuses the document
// when the total passes maxDecoded.
func (d *decoded) checkSize(root *yaml.Node, total *int) bool {
	left := maxDecoded - *total
	n := treeSize(root, map[*yaml.Node]int{}, map[*yaml.Node]bool{}, left)
	if n > left {
		d.problemAt(d.doc.line, "", "write the values out instead of aliasing them many times, or split the manifest",
			"with its aliases (*name) expanded, the manifest passes %d MiB here", maxDecoded>>20)
		return false
	}
	*total += n
	return true
}

// treeSize returns the size of n's tree with aliases expanded, or a number
// above limit as soon as it passes limit. sizes memoizes anchored nodes;
// open holds the anchored nodes being measured, so a cycle counts as too
// large.
func treeSize(n *yaml.Node, sizes map[*yaml.Node]int, open map[*yaml.Node]bool, limit int) int {
	if n == nil {
		return 0
	}
	if s, ok := sizes[n]; ok {
		return s
	}
	if n.Anchor != "" {
		if open[n] {
			return limit + 1
		}
		open[n] = true
		defer delete(open, n)
	}
	size := 1 + len(n.Value)
	if n.Kind == yaml.AliasNode {
		size += treeSize(n.Alias, sizes, open, limit)
	}
	for _, c := range n.Content {
		if size > limit {
			break
		}
		size += treeSize(c, sizes, open, limit-size)
	}
	if n.Anchor != "" && size <= limit {
		sizes[n] = size
	}
	return size
}
