package config

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1048576", 1 << 20, false},
		{"10B", 10, false},
		{"512KiB", 512 << 10, false},
		{"512Ki", 512 << 10, false},
		{"512k", 512 << 10, false},
		{"10MiB", 10 << 20, false},
		{"10mib", 10 << 20, false},
		{"10 MiB", 10 << 20, false},
		{"10m", 10 << 20, false},
		{"10MB", 10_000_000, false},
		{"1.5GiB", 3 << 29, false},
		{"2G", 2 << 30, false},
		{"1TB", 1e12, false},
		{"1TiB", 1 << 40, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"-1", 0, true},
		{"10XB", 0, true},
		{"1.2.3MiB", 0, true},
		{"9223372036854775807", 1<<63 - 1, false},
		{"9223372036854775808", 0, true},
		{"8388608TiB", 0, true},
		{"9000000000TB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"}, {1000, "1000"}, {1024, "1KiB"}, {10 << 20, "10MiB"}, {3 << 29, "1536MiB"}, {5 << 40, "5TiB"}, {1<<20 + 1, "1048577"},
	}
	for _, tt := range tests {
		if got := formatSize(tt.in); got != tt.want {
			t.Errorf("formatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := parseSize(formatSize(tt.in)); err != nil || back != tt.in {
			t.Errorf("parseSize(formatSize(%d)) = %d, %v", tt.in, back, err)
		}
	}
}
