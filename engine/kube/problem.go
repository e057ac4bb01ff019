package kube

import (
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Problem is one thing in a manifest that Play refuses, at its place.
type Problem struct {
	// File is the manifest's name as given to Play.
	File string
	// Line is the 1-based line in the file; zero means unknown.
	Line int
	// Doc is the 1-based index of the YAML document in the file; zero for
	// problems with the whole file.
	Doc int
	// Kind and Name are the object's kind and metadata.name, when known.
	Kind, Name string
	// Field is the dotted path of the field inside the object, such as
	// spec.template.spec.containers[0].ports[1]; empty for the whole object.
	Field string
	// Message says what is wrong.
	Message string
	// Hint says how to fix it; empty when there is nothing useful to add.
	Hint string
}

// String formats the problem as
// "file:line: document N (Kind name): field: message (hint: …)", leaving
// out the parts that are unknown or empty.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Doc > 0 {
		fmt.Fprintf(&b, "document %d", p.Doc)
		if obj := strings.TrimSpace(p.Kind + " " + p.Name); obj != "" {
			fmt.Fprintf(&b, " (%s)", obj)
		}
		b.WriteString(": ")
	}
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

// Error holds every problem Play found in a manifest, in file order. It
// matches errdefs.ErrInvalid with errors.Is.
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

// Unwrap returns errdefs.ErrInvalid.
func (e *Error) Unwrap() error { return errdefs.ErrInvalid }
