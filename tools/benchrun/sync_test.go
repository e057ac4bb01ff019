package main

import "testing"

func TestParseRsyncStats(t *testing.T) {
	tests := []struct {
		name, out string
		want      float64
		ok        bool
	}{
		{"plain", "Total bytes sent: 100137\nTotal bytes received: 38\n", 100175, true},
		{"grouped", "Total bytes sent: 1,000,137\nTotal bytes received: 1,038\n", 1001175, true},
		{"missing", "rsync error: some files could not be transferred\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRsyncStats(tt.out)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseRsyncStats = %v, %v; want %v (ok %v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestSizeText(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{1 << 30, "1 GiB"}, {224 << 20, "224 MiB"}, {10737418, "10.24 MiB"}, {256 << 10, "256 KiB"}, {100, "100 B"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := sizeText(tt.n); got != tt.want {
				t.Fatalf("sizeText(%d) = %q", tt.n, got)
			}
		})
	}
}
