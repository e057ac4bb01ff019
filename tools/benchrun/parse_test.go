package main

import (
	"reflect"
	"testing"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/budgie-sh/budgie/app
cpu: Test CPU
BenchmarkFirstFrame-2   	     427	   2612345 ns/op
BenchmarkKeyPress-2     	     800	   1498765.5 ns/op
BenchmarkFirstFrame-2   	     450	   2600000 ns/op
BenchmarkKeyPress       	     790	   1500000 ns/op	  1024 B/op	  3 allocs/op
PASS
ok  	github.com/budgie-sh/budgie/app	9.1s
`
	want := map[string][]float64{
		"FirstFrame": {2612345, 2600000},
		"KeyPress":   {1498765.5, 1500000},
	}
	if got := parseGoBench(out); !reflect.DeepEqual(got, want) {
		t.Errorf("parseGoBench = %v, want %v", got, want)
	}
}

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name, stat string
		want       int64
		err        bool
	}{
		{"plain", "4242 (budgie) S 1 4242 4242 34816 4242 4194304 1234 0 0 0 150 37 0 0 20 0 9 0 100 0 0", 187, false},
		{"name with spaces and parens", "7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0", 11, false},
		{"short", "7 (x) R 1 2", 0, true},
		{"no name", "garbage", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks(tt.stat)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("parseStatTicks = %d, %v; want %d, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}
