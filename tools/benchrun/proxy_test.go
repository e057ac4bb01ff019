package main

import (
	"math"
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
