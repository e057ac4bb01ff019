package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// rowTitlePrefix names, for each -rows entry, how the titles of the
// sections it writes begin (proxy and sync write several).
var rowTitlePrefix = map[string]string{
	"run": "run → running", "ps": "ps with", "nest": "nest with", "web": "web dashboard",
	"discovery": "discovery", "proxy": "proxy:", "sync": "sync:",
}

// groupOf is the -rows entry a section or goal line titled title belongs
// to, or "" for none.
func groupOf(title string) string {
	for _, name := range rowNames {
		if strings.HasPrefix(title, rowTitlePrefix[name]) {
			return name
		}
	}
	return ""
}

// benchDoc is docs/BENCHMARKS.md cut at its headings: the text up to the
// first row section, the row sections, and the goal lines.
type benchDoc struct {
	head      string
	sections  []docPart
	goalsHead string
	goals     []docPart
}

// docPart is one section or one goal line, with its row group.
type docPart struct {
	group, text string
}

// parseBenchDoc cuts a document RenderDocument wrote; ok is false when
// its headings are not there.
func parseBenchDoc(doc string) (benchDoc, bool) {
	results := strings.Index(doc, "## Results\n\n")
	goals := strings.Index(doc, "## Goals\n\n")
	if results < 0 || goals < results {
		return benchDoc{}, false
	}
	var d benchDoc
	d.head = doc[:results+len("## Results\n\n")]
	body := doc[len(d.head):goals]
	for _, sec := range strings.SplitAfter(body, "\n### ") {
		if sec == "" {
			continue
		}
		if !strings.HasPrefix(sec, "### ") {
			sec = "### " + sec
		}
		sec = strings.TrimSuffix(sec, "### ")
		title, _, _ := strings.Cut(strings.TrimPrefix(sec, "### "), "\n")
		d.sections = append(d.sections, docPart{groupOf(title), sec})
	}
	rest := doc[goals:]
	cut := strings.Index(rest, "\n- ")
	if cut < 0 {
		d.goalsHead = rest
		return d, true
	}
	d.goalsHead = rest[:cut+1]
	for _, line := range strings.SplitAfter(rest[cut+1:], "\n") {
		if line == "" {
			continue
		}
		title := strings.TrimPrefix(line, "- ")
		d.goals = append(d.goals, docPart{groupOf(title), line})
	}
	return d, true
}

// splice replaces in old the parts of the groups in fresh by fresh's
// parts, keeping the document's row order: a group old lacks goes after
// the groups that come before it in rowNames.
func splice(old, fresh []docPart, groups []string) []docPart {
	var out []docPart
	for _, p := range old {
		if !slices.Contains(groups, p.group) {
			out = append(out, p)
		}
	}
	rank := func(g string) int { return slices.Index(rowNames, g) }
	for _, p := range fresh {
		at := len(out)
		for i := len(out) - 1; i >= 0; i-- {
			if rank(out[i].group) <= rank(p.group) {
				break
			}
			at = i
		}
		out = slices.Insert(out, at, p)
	}
	return out
}

// mergeDocument writes into the document old the rows of a run that
// measured only groups: their sections and goal lines replace the old
// ones, each section saying when it was measured, and the rest stays as
// the full run wrote it.
func mergeDocument(old string, m Machine, rows []Row, groups []string) (string, error) {
	d, ok := parseBenchDoc(old)
	if !ok {
		return "", fmt.Errorf("it does not have the headings make bench writes (## Results, ## Goals)")
	}
	var doc bytes.Buffer
	RenderDocument(&doc, m, rows)
	fresh, _ := parseBenchDoc(doc.String())
	var machine bytes.Buffer
	RenderMachine(&machine, m)
	note := fmt.Sprintf("Measured on its own (`go run ./tools/benchrun -rows %s`), not in the run the machine above describes:\n\n%s\n",
		strings.Join(groups, ","), strings.TrimSpace(machine.String()))
	for i, s := range fresh.sections {
		title, rest, _ := strings.Cut(s.text, "\n\n")
		fresh.sections[i].text = title + "\n\n" + note + "\n" + rest
	}
	var out strings.Builder
	out.WriteString(d.head)
	for _, s := range splice(d.sections, fresh.sections, groups) {
		out.WriteString(s.text)
	}
	out.WriteString(d.goalsHead)
	for _, g := range splice(d.goals, fresh.goals, groups) {
		out.WriteString(g.text)
	}
	return out.String(), nil
}
