package bundle

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// position is a 1-based line and column in the bundle file.
type position struct{ line, col int }

func posOf(n *yaml.Node) position {
	if n == nil {
		return position{}
	}
	return position{n.Line, n.Column}
}

// walker collects problems while walking the YAML tree of one file, and the
// positions of the fields it visits. prefix is prepended to every field path
// it reports ("containers[1]" in a stack).
type walker struct {
	file     string
	problems *[]Problem
	prefix   string
	pos      map[string]position
}

// pair is one key and value of a YAML mapping.
type pair struct {
	key  string
	k, v *yaml.Node
}

// join appends a key to a dotted field path.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// index appends a list index to a field path.
func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// isNull reports whether n is missing or an explicit YAML null.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// describe names the kind of value n holds, for type errors.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case isNull(n):
		return "empty"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a map"
	case n.Tag == "!!int" || n.Tag == "!!float":
		return "a number"
	case n.Tag == "!!bool":
		return "true/false"
	}
	return fmt.Sprintf("the string %q", n.Value)
}

// report records a problem at n.
func (w *walker) report(n *yaml.Node, field, hint, format string, args ...any) {
	p := posOf(n)
	path := field
	if w.prefix != "" {
		path = w.prefix
		if field != "" {
			path = join(w.prefix, field)
		}
	}
	*w.problems = append(*w.problems, Problem{
		File: w.file, Line: p.line, Column: p.col, Field: path,
		Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

// wrongType reports that n is not of the wanted kind.
func (w *walker) wrongType(n *yaml.Node, field, want string) {
	if isNull(n) {
		w.report(n, field, "", "needs a value (%s)", want)
		return
	}
	w.report(n, field, "", "must be %s, not %s", want, describe(n))
}

// mark remembers where field is, the first time it is seen.
func (w *walker) mark(field string, n *yaml.Node) {
	if w.pos == nil {
		return
	}
	if _, ok := w.pos[field]; !ok {
		w.pos[field] = posOf(n)
	}
}

// pairs returns the keys and values of the mapping n, with YAML merge keys
// (<<) expanded, reporting duplicate and non-string keys.
func (w *walker) pairs(n *yaml.Node, field string) ([]pair, bool) {
	m := resolve(n)
	if m == nil || m.Kind != yaml.MappingNode {
		w.wrongType(n, field, "a map")
		return nil, false
	}
	st := &mergeState{seen: map[string]*yaml.Node{}, budget: maxMerged}
	return w.collect(m, field, st, 0), true
}

// maxMerged bounds the keys one map may visit through merges, so that
// merges of merges cannot blow up.
const maxMerged = 10000

// mergeState is what collect and merge share while expanding one map.
type mergeState struct {
	seen     map[string]*yaml.Node
	budget   int
	reported bool
}

// stop ends the expansion with one problem.
func (w *walker) stop(st *mergeState, n *yaml.Node, field, msg string) {
	if !st.reported {
		w.report(n, field, "", "%s", msg)
	}
	st.budget, st.reported = -1, true
}

// collect adds m's own keys, then those of the maps it merges that are not
// set already. depth counts merge levels.
func (w *walker) collect(m *yaml.Node, field string, st *mergeState, depth int) []pair {
	var out []pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if st.budget--; st.budget < 0 {
			break
		}
		rk := resolve(k)
		switch {
		case rk == nil || rk.Kind != yaml.ScalarNode:
			w.report(k, field, "", "a key must be a string, not %s", describe(k))
		case rk.Tag == "!!merge":
			merges = append(merges, v)
		case st.seen[rk.Value] != nil:
			if depth == 0 {
				w.report(k, join(field, rk.Value), "", "appears twice (first at line %d)", st.seen[rk.Value].Line)
			}
		default:
			st.seen[rk.Value] = k
			out = append(out, pair{key: rk.Value, k: k, v: v})
		}
	}
	for _, src := range merges {
		out = append(out, w.merge(src, field, st, depth)...)
	}
	if depth == 0 && st.budget < 0 {
		w.stop(st, m, field, "the map is too large or merges (<<) too much")
	}
	return out
}

// merge expands the value of a << key: a map or a list of maps.
func (w *walker) merge(src *yaml.Node, field string, st *mergeState, depth int) []pair {
	r := resolve(src)
	switch {
	case st.budget < 0:
		return nil
	case depth >= 8 || r == nil:
		w.stop(st, src, field, "merge (<<) nests too deep")
		return nil
	case r.Kind == yaml.MappingNode:
		return w.collect(r, field, st, depth+1)
	case r.Kind == yaml.SequenceNode:
		var out []pair
		for _, item := range r.Content {
			if ri := resolve(item); ri == nil || ri.Kind != yaml.MappingNode {
				w.report(item, field, "", "merge (<<) needs a map, not %s", describe(item))
				continue
			}
			out = append(out, w.merge(item, field, st, depth)...)
		}
		return out
	}
	w.report(src, field, "", "merge (<<) needs a map, not %s", describe(src))
	return nil
}

// each walks the mapping n, calling fn for the keys in known and reporting the
// others with a did-you-mean hint.
func (w *walker) each(n *yaml.Node, field string, known []string, fn func(key, path string, v *yaml.Node)) bool {
	ps, ok := w.pairs(n, field)
	if !ok {
		return false
	}
	for _, p := range ps {
		path := join(field, p.key)
		w.mark(path, p.k)
		if !contains(known, p.key) {
			w.report(p.k, path, suggest(p.key, known, false), "unknown field %q", p.key)
			continue
		}
		fn(p.key, path, p.v)
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str returns the scalar n as a string. Numbers and booleans are taken as
// written; null and collections are errors.
func (w *walker) str(n *yaml.Node, field string) (string, bool) {
	return w.scalar(n, field, "a string")
}

// scalar returns the text of the scalar n, reporting that it must be want
// when n is null or a collection.
func (w *walker) scalar(n *yaml.Node, field, want string) (string, bool) {
	r := resolve(n)
	if isNull(r) || r.Kind != yaml.ScalarNode {
		w.wrongType(n, field, want)
		return "", false
	}
	return r.Value, true
}

// strList returns a list of scalars as strings, reporting bad items.
func (w *walker) strList(n *yaml.Node, field string) ([]string, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		w.wrongType(n, field, "a list")
		return nil, false
	}
	out := make([]string, 0, len(r.Content))
	ok := true
	for i, item := range r.Content {
		w.mark(index(field, i), item)
		s, good := w.str(item, index(field, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// integer returns the scalar n as a whole number.
func (w *walker) integer(n *yaml.Node, field string) (int64, bool) {
	s, ok := w.scalar(n, field, "a whole number")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		w.report(n, field, "", "must be a whole number, not %q", s)
		return 0, false
	}
	return v, true
}

// integerIn returns the scalar n as a whole number between lo and hi.
func (w *walker) integerIn(n *yaml.Node, field string, lo, hi int64) (int64, bool) {
	v, ok := w.integer(n, field)
	if ok && (v < lo || v > hi) {
		w.report(n, field, "", "%d is out of range (%d to %d)", v, lo, hi)
		return 0, false
	}
	return v, ok
}

// boolean returns the scalar n as true or false.
func (w *walker) boolean(n *yaml.Node, field string) (bool, bool) {
	s, ok := w.scalar(n, field, "true or false")
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	w.report(n, field, "", "must be true or false, not %q", s)
	return false, false
}

// duration returns n as a non-negative duration: a Go duration ("10s",
// "1m30s") or a whole number of seconds.
func (w *walker) duration(n *yaml.Node, field string) (time.Duration, bool) {
	s, ok := w.scalar(n, field, "a duration")
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		if secs < 0 || secs > math.MaxInt64/int64(time.Second) {
			w.report(n, field, "", "%d seconds is out of range", secs)
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		w.report(n, field, `write a duration such as "10s", "1m30s" or "500ms", or whole seconds`,
			"invalid duration %q", s)
		return 0, false
	}
	if d < 0 {
		w.report(n, field, "", "must not be negative")
		return 0, false
	}
	return d, true
}
