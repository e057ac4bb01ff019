package compose

import (
	"errors"
	"regexp"
	"strings"

	"github.com/budgie-sh/budgie/engine/bundle"
)

// lineRef is a bundle problem's pointer to another line of the bundle
// text ("first at line 5"), which the compose file's reader never saw.
var lineRef = regexp.MustCompile(` \((first at )?line \d+\)| \(line \d+\)`)

// fieldRef is a bundle field path in a problem's message ("already
// published by containers[0].ports[1]").
var fieldRef = regexp.MustCompile(`containers\[\d+\](?:\.[a-z_]+|\[\d+\])*`)

// Explain rewrites the problems of the bundle text (as bundle.Parse
// reports them) to name the compose file, the compose field each bundle
// field came from and its line there. Other errors come back as they are.
func (r *Result) Explain(err error) error {
	var be *bundle.Error
	if !errors.As(err, &be) {
		return err
	}
	out := make([]bundle.Problem, len(be.Problems))
	for i, p := range be.Problems {
		field := r.origin(p.Field)
		line, col := 0, 0
		if field != "" {
			line, col = r.lines.find(field)
		}
		out[i] = bundle.Problem{File: r.File, Line: line, Column: col, Field: field,
			Message: r.rewrite(p.Message), Hint: p.Hint}
		if field == "" && p.File != r.File {
			// An env file's own problem keeps its file and line.
			out[i] = p
		}
	}
	sortProblems(out)
	return &bundle.Error{Problems: out}
}

// origin finds the compose field of a bundle field path: its own, or
// that of the closest enclosing field recorded.
func (r *Result) origin(field string) string {
	for f := field; f != ""; {
		if o, ok := r.origins[f]; ok {
			return o
		}
		cut := strings.LastIndexAny(f, ".[")
		if cut < 0 {
			break
		}
		f = f[:cut]
	}
	return ""
}

// rewrite names compose fields instead of the bundle's in a message.
func (r *Result) rewrite(msg string) string {
	msg = lineRef.ReplaceAllString(msg, "")
	return fieldRef.ReplaceAllStringFunc(msg, func(f string) string {
		if o := r.origin(f); o != "" {
			return o
		}
		return f
	})
}
