package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, stat string
		comm       string
		ticks      uint64
		wantErr    bool
	}{
		{"plain", "42 (sleep) S 1 42 42 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 1 0 100 1000 10", "sleep", 380, false},
		{"a name with ') ' in it", "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 100 1000 10", "a) b", 3, false},
		{"truncated", "42 (x) S 1 2", "", 0, true},
		{"no name", "42 x S", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comm, ticks, err := parseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr || comm != tt.comm || ticks != tt.ticks {
				t.Fatalf("parseStat = %q %d %v; want %q %d (error %v)", comm, ticks, err, tt.comm, tt.ticks, tt.wantErr)
			}
		})
	}
}

func TestCPUTimeAndPrintable(t *testing.T) {
	if got := cpuTime(100 * (3600 + 61)); got != "01:01:01" {
		t.Errorf("cpuTime = %q", got)
	}
	if got := cpuTime(100 * (2*86400 + 5)); got != "2-00:00:05" {
		t.Errorf("cpuTime = %q", got)
	}
	if got := printable("evil\x1b]0;pwned\x07 arg"); got != `evil\x1b]0;pwned\a arg` {
		t.Errorf("printable = %q", got)
	}
}

func TestProcRow(t *testing.T) {
	procfs := t.TempDir()
	dir := filepath.Join(procfs, "7")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "stat"), []byte("7 (sh) S 1 7 7 0 -1 0 0 0 0 0 6000 0 0 0 20 0 1 0 1 1 1"), 0o644)
	os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tsh\nUid:\t0\t0\t0\t0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cmdline"), []byte("sh\x00-c\x00echo \x1b[2J\x00"), 0o644)
	row, err := procRow(procfs, 7)
	want := []string{"7", "root", "00:01:00", `sh -c echo \x1b[2J`}
	if err != nil || !reflect.DeepEqual(row, want) {
		t.Fatalf("procRow = %q %v; want %q", row, err, want)
	}
	os.WriteFile(filepath.Join(dir, "cmdline"), nil, 0o644) // a kernel thread
	if row, _ := procRow(procfs, 7); row[3] != "[sh]" {
		t.Errorf("empty cmdline: %q", row[3])
	}
}

func TestFilterPs(t *testing.T) {
	out := "  PID USER     COMMAND\n    1 root     /sbin/init\n   42 root     sleep 3600 now\n   43 nobody   other\n"
	res, err := filterPs(out, []int{42})
	want := TopResult{Titles: []string{"PID", "USER", "COMMAND"}, Processes: [][]string{{"42", "root", "sleep 3600 now"}}}
	if err != nil || !reflect.DeepEqual(res, want) {
		t.Fatalf("filterPs = %+v %v", res, err)
	}
	if _, err := filterPs("COMMAND\nsleep\n", []int{42}); err == nil {
		t.Errorf("no PID column: no error")
	}
}
