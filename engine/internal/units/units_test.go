package units

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"1048576", 1 << 20, ""},
		{"512B", 512, ""},
		{"2k", 2 << 10, ""},
		{"2KB", 2 << 10, ""},
		{"2KiB", 2 << 10, ""},
		{"512Ki", 512 << 10, ""},
		{"64m", 64 << 20, ""},
		{"64MB", 64 << 20, ""},
		{"64 mib", 64 << 20, ""},
		{"10MB", 10 << 20, ""}, // the configuration used to read this as 10,000,000
		{"1.5GiB", 3 << 29, ""},
		{"2GB", 2 << 30, ""},
		{"1TB", 1 << 40, ""},
		{"9223372036854775807", 1<<63 - 1, ""},
		{"", 0, `invalid size ""`},
		{"MiB", 0, `invalid size "MiB"`},
		{"-1", 0, `invalid size "-1"`},
		{"1.5.5m", 0, `invalid size "1.5.5m"`},
		{"10 parsecs", 0, `unknown unit "parsecs" in "10 parsecs"`},
		{"9223372036854775808", 0, `size "9223372036854775808" is too large`},
		{"8388608TiB", 0, `size "8388608TiB" is too large`},
		{"9000000000.5t", 0, `size "9000000000.5t" is too large`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseSize(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
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
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := ParseSize(FormatSize(tt.in)); err != nil || back != tt.in {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", tt.in, back, err)
		}
	}
}
