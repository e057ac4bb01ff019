package main

import (
	"math"
	"testing"
)

func TestSummaries(t *testing.T) {
	tests := []struct {
		name        string
		in          []float64
		median, p95 float64
	}{
		{"one", []float64{7}, 7, 7},
		{"odd unsorted", []float64{5, 1, 3}, 3, 5},
		{"even means the middle two", []float64{4, 1, 3, 2}, 2.5, 4},
		{"twenty: p95 is the 19th", seq(20), 10.5, 19},
		{"thirty: p95 is the 29th", seq(30), 15.5, 29},
		{"outlier moves p95 not median", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100}, 1, 1},
		{"two outliers reach p95", append(seq(18), 100, 200), 10.5, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]float64(nil), tt.in...)
			s := Summarize(tt.in)
			if s.N != len(tt.in) || s.Median != tt.median || s.P95 != tt.p95 {
				t.Errorf("Summarize(%v) = %+v, want median %v p95 %v", tt.in, s, tt.median, tt.p95)
			}
			for i := range before {
				if before[i] != tt.in[i] {
					t.Fatalf("input reordered: %v", tt.in)
				}
			}
		})
	}
}

func TestEmptySamples(t *testing.T) {
	if s := Summarize(nil); s != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v", s)
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(Percentile(nil, 95)) {
		t.Error("median and percentile of nothing should be NaN")
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		name         string
		budgie, peer float64
		want         float64
		ok           bool
	}{
		{"faster", 0.05, 0.1, 0.5, true},
		{"slower", 0.3, 0.1, 3, true},
		{"zero peer", 1, 0, 0, false},
		{"NaN", math.NaN(), 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Ratio(tt.budgie, tt.peer)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Ratio(%v, %v) = %v, %v; want %v, %v", tt.budgie, tt.peer, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// seq returns 1..n.
func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(n - i) // descending, so sorting matters
	}
	return s
}
