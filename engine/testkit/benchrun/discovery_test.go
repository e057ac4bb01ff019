package main

import "testing"

func TestParseAppear(t *testing.T) {
	out := "goos: linux\nBenchmarkTimeToDiscover-2   \t      20\t  61234567 ns/op\t         3.214 appear-ms\t        19.60 max-appear-ms\nPASS\n"
	mean, worst, err := parseAppear(out)
	if err != nil || mean != 3.214 || worst != 19.6 {
		t.Fatalf("parseAppear = %v, %v, %v", mean, worst, err)
	}
	if _, _, err := parseAppear("PASS\n"); err == nil {
		t.Error("no figures: want an error")
	}
}
