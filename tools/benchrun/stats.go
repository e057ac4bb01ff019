package main

import (
	"math"
	"sort"
)

// Summary is the median and 95th percentile of a set of samples.
type Summary struct {
	// N is the number of samples.
	N int
	// Median is the middle sample (the mean of the two middle ones for an
	// even count).
	Median float64
	// P95 is the 95th percentile by the nearest-rank method.
	P95 float64
}

// Summarize returns the median and 95th percentile of xs; the zero
// Summary for no samples.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	return Summary{N: len(xs), Median: Median(xs), P95: Percentile(xs, 95)}
}

// Median returns the middle value of xs (NaN when xs is empty). xs is not
// modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := sorted(xs)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of xs by the
// nearest-rank method: the smallest sample with at least p% of the samples
// at or below it. It is NaN when xs is empty. xs is not modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := sorted(xs)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Ratio returns budgie/peer, and false when there is no meaningful ratio
// (a peer of zero or a NaN on either side).
func Ratio(budgie, peer float64) (float64, bool) {
	if peer == 0 || math.IsNaN(budgie) || math.IsNaN(peer) {
		return 0, false
	}
	return budgie / peer, true
}

func sorted(xs []float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s
}
