package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMergeDocument splices a partial run's rows into a full run's
// document: the re-measured group's old sections and goals go, the new
// ones sit where their group belongs with a note of when they were
// measured, and every other section and goal line is kept byte for byte.
func TestMergeDocument(t *testing.T) {
	oldDoc, err := os.ReadFile("testdata/benchmarks-full-run.md") // docs/BENCHMARKS.md of a full run, 2026-12-04
	if err != nil {
		t.Fatal(err)
	}
	old := string(oldDoc)
	m := Machine{Date: time.Date(2026, 12, 5, 1, 2, 0, 0, time.UTC), CPU: "test CPU", Cores: 2}
	rows := []Row{
		{Title: "proxy: load balancer vs HAProxy", Budgie: "b", Peer: "p", Lines: []Line{{Measure: "requests/s, median", Goal: "≥ 1.0× the peer", Verdict: Met}}},
		{Title: "web dashboard with 500 containers", Budgie: "b", Peer: "p", Lines: []Line{{Measure: "ready, median", Goal: "≤ 300 ms", Verdict: Met}}},
	}
	got, err := mergeDocument(old, m, rows, []string{"proxy", "web"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "### proxy: load balancer vs nginx") || strings.Contains(got, "- proxy: load balancer vs nginx,") {
		t.Error("an old proxy section or goal line survived the proxy re-measure")
	}
	titles := []string{"### run → running", "### ps with", "### nest with", "### web dashboard", "### discovery", "### proxy: load balancer vs HAProxy", "### sync: 1 GiB"}
	last := -1
	for _, title := range titles {
		i := strings.Index(got, title)
		if i < 0 || i < last {
			t.Fatalf("section %q missing or out of order in:\n%s", title, got)
		}
		last = i
	}
	if !strings.Contains(got, "Measured on its own (`go run ./tools/benchrun -rows proxy,web`)") || !strings.Contains(got, "- Date: 2026-12-05 01:02 UTC") {
		t.Error("a merged section does not say when and how it was measured")
	}
	for _, keep := range []string{sectionOf(old, "### nest with"), sectionOf(old, "### sync: 1000 scattered")} {
		if keep == "" || !strings.Contains(got, keep) {
			t.Errorf("an untouched section changed or went:\n%s", keep)
		}
	}
	gi, wi, si := strings.Index(got, "- nest with 500 containers, first frame"), strings.Index(got, "- web dashboard with 500 containers, ready"), strings.Index(got, "- discovery, ")
	if gi < 0 || wi < gi || si < wi {
		t.Errorf("goal lines out of row order (nest %d, web %d, discovery %d)", gi, wi, si)
	}
	if _, err := mergeDocument("no headings here", m, rows, []string{"web"}); err == nil {
		t.Error("a document without make bench's headings was merged into")
	}
}

// sectionOf is the section of doc that starts with heading, up to the next.
func sectionOf(doc, heading string) string {
	i := strings.Index(doc, heading)
	if i < 0 {
		return ""
	}
	end := strings.Index(doc[i+1:], "\n### ")
	if end < 0 {
		return ""
	}
	return doc[i : i+1+end+1]
}
