package main

import "testing"

func TestBenchMetrics(t *testing.T) {
	out := "goos: linux\nBenchmarkTimeToDiscover-2   \t      20\t  61234567 ns/op\t         3.214 appear-ms\t        19.60 max-appear-ms\t 2.5 gone-ms\t 20.1 killed-gone-s\nBenchmarkIdleMulticast-2 1 60012345678 ns/op 0.25 idle-pkts/s 0.31 keeper-cpu-%\nPASS\n"
	m, err := benchMetrics(out, "TimeToDiscover")
	if err != nil || m["appear-ms"] != 3.214 || m["max-appear-ms"] != 19.6 || m["killed-gone-s"] != 20.1 {
		t.Fatalf("benchMetrics = %v, %v", m, err)
	}
	if m, err := benchMetrics(out, "IdleMulticast"); err != nil || m["idle-pkts/s"] != 0.25 || m["keeper-cpu-%"] != 0.31 {
		t.Fatalf("idle metrics = %v, %v", m, err)
	}
	if _, err := benchMetrics("PASS\n", "TimeToDiscover"); err == nil {
		t.Error("no figures: want an error")
	}
	r := discoveryLines(m, map[string]float64{"idle-pkts/s": 0.25}, map[string]float64{"join-list-ms": 1468}, 20)
	if len(r.Lines) != 10 || r.Lines[5].Verdict != Met || r.Lines[7].Verdict != Met {
		t.Fatalf("lines %+v", r.Lines)
	}
}
