package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDashboardLink(t *testing.T) {
	const base = "http://127.0.0.1:40123"
	tests := []struct {
		name, out, want string
		err             bool
	}{
		{"link", `{"url":"http://127.0.0.1:40123","login_url":"http://127.0.0.1:40123/login?token=abc"}` + "\n", base + "/login?token=abc", false},
		{"another keeper's dashboard", `{"url":"http://127.0.0.1:18734","login_url":"http://127.0.0.1:18734/login?token=abc"}`, "", true},
		{"login elsewhere", `{"url":"http://127.0.0.1:40123","login_url":"http://evil.example/login?token=abc"}`, "", true},
		{"no token", `{"url":"http://127.0.0.1:40123","login_url":"http://127.0.0.1:40123/login?token="}`, "", true},
		{"not JSON", "http://127.0.0.1:40123/login?token=abc\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDashboardLink([]byte(tt.out), base)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("parseDashboardLink = %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestFlipLatency(t *testing.T) {
	done := time.UnixMilli(1_796_415_463_000)
	ms := func(d float64) float64 { return float64(done.UnixMilli()) + d }
	tests := []struct {
		name  string
		marks []flipMark
		want  string
		lat   float64 // seconds
		err   bool
	}{
		{"after the command", []flipMark{{"running", ms(-900)}, {"exited", ms(52.5)}}, "exited", 0.0525, false},
		{"before the command", []flipMark{{"exited", ms(-900)}, {"running", ms(-97.5)}}, "running", -0.0975, false},
		{"a state on the way is skipped", []flipMark{{"running", ms(-900)}, {"created", ms(-300)}, {"exited", ms(15)}}, "exited", 0.015, false},
		{"never shown", []flipMark{{"running", ms(-900)}}, "exited", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := flipLatency(tt.marks, tt.want, done)
			if (err != nil) != tt.err || math.Abs(got-tt.lat) > 1e-6 {
				t.Errorf("flipLatency = %v, %v; want %v, error %v", got, err, tt.lat, tt.err)
			}
		})
	}
}

func TestMeanAndMax(t *testing.T) {
	if m := Mean([]float64{1, 2, 6}); m != 3 {
		t.Errorf("Mean = %v, want 3", m)
	}
	if m := slicesMax([]float64{0.2, 0.05, 0.1}); m != 0.2 {
		t.Errorf("slicesMax = %v, want 0.2", m)
	}
	if !math.IsNaN(Mean(nil)) || !math.IsNaN(slicesMax(nil)) {
		t.Error("no samples should give NaN")
	}
}

func TestWebVerdicts(t *testing.T) {
	loads := make([]pageLoad, 10)
	for i := range loads {
		loads[i] = pageLoad{Ready: 200 + float64(i)*20, Complete: 400} // 200…380 ms
	}
	m := webMeasures{loads: loads, flips: []float64{0, 0.05, 0.25}, signed: []float64{-0.1, 0.05, 0.25}, cmds: []float64{0.3, 0.3, 0.3},
		idleOff: 0.33, idleOn: 0.40, idleAfter: 0.50}
	row := webLines(webScale{containers: 500, reps: 10, flips: 3, idle: time.Minute}, "500 created", m)
	want := map[string]string{
		"containers page ready (first 50 of 500 rows drawn, live), median":      Met,    // 290 ms
		"containers page ready (first 50 of 500 rows drawn, live), p95":         Missed, // 380 ms
		"state change reaches the browser, mean":                                Met,    // 100 ms
		"state change reaches the browser, worst":                               Missed, // 250 ms
		"keeper CPU at rest, dashboard on, no browser yet":                      Met,    // +0.07
		"keeper CPU at rest, dashboard on, after the browser left":              Missed, // +0.17
		"keeper CPU at rest, web.enabled=false":                                 NotMeas,
		"all 500 rows in the table, median":                                     NotMeas,
		"all 500 rows in the table, p95":                                        NotMeas,
		"state change shown before the CLI returned":                            NotMeas,
		"the stop or start command itself (501 containers on the node), median": NotMeas,
		"the stop or start command itself (501 containers on the node), p95":    NotMeas,
	}
	seen := 0
	for _, l := range row.Lines {
		v, ok := want[l.Measure]
		if !ok {
			t.Errorf("unexpected line %q", l.Measure)
			continue
		}
		seen++
		got := l.Verdict
		if l.Goal == "" {
			got = NotMeas
		}
		if got != v {
			t.Errorf("%s: verdict %q (%s), want %q", l.Measure, got, l.Budgie, v)
		}
	}
	if seen != len(want) {
		t.Errorf("%d lines, want %d", seen, len(want))
	}
	notes := strings.Join(row.Notes, "\n")
	for _, want := range []string{"clock starts when the CLI command returns", "1 of 3 here", "median +50.0 ms, earliest -100.0 ms"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes do not say %q:\n%s", want, notes)
		}
	}
}
