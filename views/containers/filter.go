package containers

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sahilm/fuzzy"
)

// haystack is the text a filter matches a row against.
func haystack(r row) string {
	return strings.Join([]string{r.c.Name, r.c.ShortID(), shortImage(r.c.Image), string(r.c.State), r.c.Node}, " ")
}

// filterRows returns the indices of rows that match query, in rows' order.
// An empty query keeps every row; a query starting with ~ is a regular
// expression (case-insensitive); anything else is a fuzzy match.
func filterRows(rows []row, query string) ([]int, error) {
	if query == "" {
		return allIndices(len(rows)), nil
	}
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = haystack(r)
	}
	if expr, ok := strings.CutPrefix(query, "~"); ok {
		re, err := regexp.Compile("(?i)" + expr)
		if err != nil {
			return nil, fmt.Errorf("bad regular expression %q: %w", expr, err)
		}
		var out []int
		for i, t := range texts {
			if re.MatchString(t) {
				out = append(out, i)
			}
		}
		return out, nil
	}
	matched := make([]bool, len(rows))
	for _, m := range fuzzy.Find(query, texts) {
		matched[m.Index] = true
	}
	var out []int
	for i, ok := range matched {
		if ok {
			out = append(out, i)
		}
	}
	return out, nil
}

func allIndices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
