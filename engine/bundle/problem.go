package bundle

import (
	"fmt"
	"sort"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Problem is one thing wrong with a bundle (or an env file), at a position in
// its file.
type Problem struct {
	// File is the file's name as given to Parse, ParseFile or ParseEnvFile.
	File string
	// Line and Column are 1-based; zero means unknown.
	Line, Column int
	// Field is the dotted path of the field, such as
	// containers[1].resources.memory; empty for problems with the whole file.
	Field string
	// Message says what is wrong.
	Message string
	// Hint says how to fix it; empty when there is nothing useful to add.
	Hint string
}

// String formats the problem as "file:line:col: field: message (hint: …)",
// leaving out the parts that are unknown or empty.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(p.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Error holds every problem found in a bundle, in file order. It matches
// errdefs.ErrInvalid with errors.Is.
type Error struct {
	// Problems is never empty.
	Problems []Problem
}

// Error prints one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns errdefs.ErrInvalid, so that errors.Is(err, errdefs.ErrInvalid)
// holds for every bundle error.
func (e *Error) Unwrap() error { return errdefs.ErrInvalid }

// newError sorts problems by file (primary first, then the others in order
// of first appearance) and position, file-wide ones first, and wraps them;
// nil when there are none.
func newError(primary string, problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	rank := map[string]int{primary: 0}
	for _, p := range problems {
		if _, ok := rank[p.File]; !ok {
			rank[p.File] = len(rank)
		}
	}
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &Error{Problems: problems}
}

// composeAliases maps field names from docker compose and docker run to the
// bundle field that does the same, for hints on unknown fields.
var composeAliases = map[string]string{
	"environment":       "env",
	"entrypoint":        "command",
	"working_dir":       "workdir",
	"container_name":    "name",
	"healthcheck":       "health",
	"restart":           "restart_policy",
	"stop_grace_period": "stop_timeout",
	"mem_limit":         "resources.memory",
	"memory":            "resources.memory",
	"memswap_limit":     "resources.memory_swap",
	"cpus":              "resources.cpus",
	"cpu_shares":        "resources.cpu_shares",
	"cpu_quota":         "resources.cpu_quota",
	"cpu_period":        "resources.cpu_period",
	"pids_limit":        "resources.pids_limit",
	"blkio_weight":      "resources.blkio_weight",
	"deploy":            "replicas and resources",
	"services":          "containers",
	"expose":            "ports",
	"interactive":       "stdin_open",
	"open_stdin":        "stdin_open",
}

// suggest returns a hint for an unknown field: the nearest known name, if
// one is near enough. At container level it also knows docker compose's
// names for the same things; elsewhere it falls back to listing the known
// names.
func suggest(unknown string, known []string, containerLevel bool) string {
	lower := strings.ToLower(unknown)
	best, bestDist := "", 1+len([]rune(unknown))/4
	consider := func(name string) {
		if d := distance(lower, name); d <= bestDist && (best == "" || d < bestDist) {
			best, bestDist = name, d
		}
	}
	for _, k := range known {
		consider(k)
	}
	if containerLevel {
		for _, alias := range sortedAliases {
			consider(alias)
		}
	}
	switch {
	case composeAliases[best] != "" && !contains(known, best):
		return "use " + composeAliases[best]
	case best != "":
		return "did you mean " + best + "?"
	case !containerLevel:
		return "known fields: " + strings.Join(known, ", ")
	}
	return "the fields are listed in docs/bundle.md"
}

// sortedAliases are the keys of composeAliases, sorted for stable hints.
var sortedAliases = func() []string {
	keys := make([]string, 0, len(composeAliases))
	for k := range composeAliases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}()

// distance is the optimal-string-alignment edit distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours cost one.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
