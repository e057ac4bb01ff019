package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFigureString(t *testing.T) {
	tests := []struct {
		f    Figure
		want string
	}{
		{Dur(0.0000425), "42.5 µs"},
		{Dur(0.0936), "93.6 ms"},
		{Dur(2.5), "2.50 s"},
		{Figure{Value: 1.234, Unit: Percent}, "1.23 %"},
		{Figure{Value: 4096, Unit: Bytes}, "4096 B"},
		{Absent("no peer available here"), "no peer available here"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.f.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRatioText(t *testing.T) {
	tests := []struct {
		name string
		l    Line
		want string
	}{
		{"two durations", Line{Budgie: Dur(0.12), Peer: Dur(0.1)}, "1.20×"},
		{"absent peer", Line{Budgie: Dur(0.12), Peer: Absent("no peer")}, "—"},
		{"units differ", Line{Budgie: Dur(1), Peer: Figure{Value: 1, Unit: Percent}}, "—"},
		{"zero peer", Line{Budgie: Dur(1), Peer: Dur(0)}, "—"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.RatioText(); got != tt.want {
				t.Errorf("RatioText() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	if Verdict(Dur(0.1), true) != Met || Verdict(Dur(0.2), false) != Missed || Verdict(Absent("x"), true) != NotMeas {
		t.Error("Verdict: want met, missed and not measured")
	}
}

func TestRenderRow(t *testing.T) {
	r := Row{
		Title: "run → running", Budgie: "budgie run", Peer: "`ctr run -d`",
		Lines: []Line{
			{Measure: "median", Budgie: Dur(0.09), Peer: Dur(0.06), Reps: "30 + 30, alternated"},
			{Measure: "first frame", Budgie: Dur(0.2), Peer: Absent("a|b"), Reps: "10 starts", Goal: "within 150 ms", Verdict: Missed},
		},
		Notes: []string{"A note."},
	}
	var buf bytes.Buffer
	RenderRow(&buf, r)
	want := "### run → running\n\n" +
		"Budgie: `budgie run` · peer: `ctr run -d`\n\n" +
		"| Measure | Budgie | Peer | Budgie/peer | Repetitions | Goal | Met |\n" +
		"|---|---:|---:|---:|---|---|---|\n" +
		"| median | 90.0 ms | 60.0 ms | 1.50× | 30 + 30, alternated | no goal set | — |\n" +
		"| first frame | 200.0 ms | a\\|b | — | 10 starts | within 150 ms | missed |\n" +
		"\nA note.\n\n"
	if got := buf.String(); got != want {
		t.Errorf("RenderRow:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderDocument(t *testing.T) {
	m := Machine{CPU: "Test CPU", Cores: 2, Memory: "23.5 GiB", Kernel: "6.1.0", Containerd: "containerd 1.6.20",
		Runc: "runc version 1.1.5", Go: "go1.26.8", Date: time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))}
	rows := []Row{
		{Title: "ps", Lines: []Line{{Measure: "median", Budgie: Dur(0.1), Peer: Dur(0.1)}}},
		{Title: "nest", Lines: []Line{{Measure: "per key", Budgie: Dur(0.001), Goal: "under 5 ms", Verdict: Met}}},
	}
	var buf bytes.Buffer
	RenderDocument(&buf, m, rows)
	doc := buf.String()
	for _, want := range []string{
		"- Date: 2026-03-04 04:06 UTC\n",
		"- CPU: Test CPU, 2 cores\n",
		"- containerd: containerd 1.6.20\n",
		"### ps\n", "### nest\n",
		"- nest, per key: under 5 ms — **met** (Budgie: 1.0 ms)\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "- ps, median") {
		t.Errorf("a row without a goal is listed under Goals:\n%s", doc)
	}
}
