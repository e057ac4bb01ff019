package main

import (
	"math"
	goruntime "runtime"
	"strings"
	"testing"
)

func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  500.00us  20.00ms   90.00%
    Req/Sec    13.00k     1.00k   15.00k    70.00%
  Latency Distribution
     50%    1.10ms
     75%    1.40ms
     90%    1.80ms
     99%    3.25ms
  130000 requests in 5.00s, 15.00MB read
Requests/sec:  26000.50
Transfer/sec:      3.00MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 26000.50 || math.Abs(r.p99-0.00325) > 1e-12 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk(out + "  Non-2xx or 3xx responses: 12\n"); err == nil {
		t.Errorf("errors in the report were not refused")
	}
	if _, err := parseWrk("garbage"); err == nil {
		t.Errorf("garbage parsed")
	}
}

func TestParseHostBusy(t *testing.T) {
	stat := "cpu  100 5 40 1000 7 3 2 1 0 0\ncpu0 50 2 20 500 3 1 1 0 0 0\nintr 1\n"
	got, err := parseHostBusy(stat)
	if err != nil || got != 100+5+40+3+2+1 {
		t.Fatalf("parseHostBusy = %d, %v; want 151 (idle and iowait left out)", got, err)
	}
	for _, bad := range []string{"", "intr 1\n", "cpu 1 2 3\n", "cpu a b c d e f g h\n"} {
		if _, err := parseHostBusy(bad); err == nil {
			t.Errorf("parseHostBusy(%q) accepted it", bad)
		}
	}
}

func TestParseStatParentSplit(t *testing.T) {
	stat := "42 (nginx: worker (x)) S 7 42 42 0 -1 4194560 100 0 0 0 31 12 0 0 20 0 1 0 5 1000 10 0\n"
	ppid, ticks, err := parseStatParent(stat)
	if err != nil || ppid != 7 || ticks != (cpuSplit{user: 31, sys: 12}) {
		t.Fatalf("parseStatParent = %d, %+v, %v; want 7, {31 12}", ppid, ticks, err)
	}
}

// TestProxyBudget: with the peer at 1000 req/s on N CPUs, the rest of a
// request's work is host − proxy; the budget is N/(goal·rate) minus that.
func TestProxyBudget(t *testing.T) {
	n := float64(goruntime.NumCPU())
	rest := 0.8 * n / 1000 // the rest of the machine's work per request
	note := proxyBudget(1.2, 1000, 0.2*n/1000, 0.1*n/1000, rest+0.2*n/1000)
	want := Dur(n/1200 - rest).String()
	if !strings.Contains(note, "at most "+want+" per request") {
		t.Fatalf("budget note %q lacks %q", note, want)
	}
	if note := proxyBudget(2, 1000, 0.2*n/1000, 0.1*n/1000, rest+0.2*n/1000); !strings.Contains(note, "may spend nothing") {
		t.Fatalf("a goal the rest of the work already exceeds: %q", note)
	}
}
