package config

import (
	"fmt"
	"strings"
)

// levenshtein returns the edit distance between a and b, ignoring case.
func levenshtein(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// suggest returns the candidate closest to name, or "" when none is close
// enough to be a likely typo.
func suggest(name string, candidates []string) string {
	limit := min(max(len(name)/3, 1), 3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := levenshtein(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// unknownKeyHint is the parenthesised hint for an unknown dotted key: a
// close key at the same level, else a key elsewhere with the same last
// segment, else the list of keys at that level.
func unknownKeyHint(name string, level []string) string {
	if s := suggest(name, level); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	last := name[strings.LastIndex(name, ".")+1:]
	for _, k := range Keys() {
		if strings.EqualFold(k[strings.LastIndex(k, ".")+1:], last) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return fmt.Sprintf(" (known keys: %s)", strings.Join(level, ", "))
}
