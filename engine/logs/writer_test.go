package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestRoundTrip(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 100<<10/16) // 100 KiB
	huge := strings.Repeat("é", 150<<10)                   // 300 KiB of 2-byte runes
	tests := []struct {
		name           string
		stdout, stderr string
		minEntries     int
	}{
		{"100k lines", numbered("line", 0, 100_000), "", 100_000},
		{"100 KiB line", "before\n" + long + "\nafter\n", "", 2 + 7},
		{"300 KiB line of multibyte runes", huge + "\n", "", 19},
		{"no final newline", "one\ntwo", "partial", 3},
		{"only a partial line", "x", "", 1},
		{"empty lines and CR", "\n\r\n\t<b>&amp;\"q\"\\\n", "", 3},
		{"invalid UTF-8 becomes U+FFFD", "", "a\xffb\n", 1},
		{"nothing", "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			drive(t, dir, DriverOptions{MaxSize: 1 << 30}, tc.stdout, tc.stderr)
			entries := logEntries(t, dir)
			if len(entries) < tc.minEntries {
				t.Errorf("%d entries, want at least %d", len(entries), tc.minEntries)
			}
			for _, e := range entries {
				if len(e.Log) > maxEntry {
					t.Fatalf("entry of %d bytes, want at most %d", len(e.Log), maxEntry)
				}
			}
			out, errOut := readAll(t, dir, ReadOptions{Tail: -1})
			wantErr := strings.ToValidUTF8(tc.stderr, "\uFFFD")
			if out != tc.stdout {
				t.Errorf("stdout: got %d bytes, want %d (first difference at %d)", len(out), len(tc.stdout), firstDiff(out, tc.stdout))
			}
			if errOut != wantErr {
				t.Errorf("stderr = %q, want %q", errOut, wantErr)
			}
		})
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A line over 16 KiB is split Docker's way: pieces whose "log" does not end
// in a newline, the last piece with it; no piece splits a UTF-8 sequence.
func TestLongLineSplitting(t *testing.T) {
	dir := t.TempDir()
	line := strings.Repeat("ab€", 40<<10) + "\n" // 200 KiB, 3-byte runes
	drive(t, dir, DriverOptions{}, line, "")
	entries := logEntries(t, dir)
	var joined strings.Builder
	for i, e := range entries {
		last := i == len(entries)-1
		if strings.HasSuffix(e.Log, "\n") != last {
			t.Errorf("entry %d ends in newline = %v, want %v", i, !last, last)
		}
		if !utf8.ValidString(e.Log) {
			t.Errorf("entry %d is not valid UTF-8: a rune was split", i)
		}
		if !last && len(e.Log) < maxEntry-utf8.UTFMax {
			t.Errorf("entry %d has %d bytes, want about %d", i, len(e.Log), maxEntry)
		}
		joined.WriteString(e.Log)
	}
	if joined.String() != line {
		t.Error("entries do not join to the line")
	}
}

// The file is Docker's json-file: key order, stream names, RFC 3339 UTC times.
func TestFileFormat(t *testing.T) {
	dir := t.TempDir()
	drive(t, dir, DriverOptions{}, "out <1>\n", "err\n")
	data, err := os.ReadFile(filepath.Join(dir, logFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines = lines[:len(lines)-1] // after the last newline
	want := map[string]*regexp.Regexp{
		"stdout": regexp.MustCompile(`^\{"log":"out \\u003c1\\u003e\\n","stream":"stdout","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"\}\n$`),
		"stderr": regexp.MustCompile(`^\{"log":"err\\n","stream":"stderr","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"\}\n$`),
	}
	if len(lines) != 2 {
		t.Fatalf("json.log has %d lines, want 2:\n%s", len(lines), data)
	}
	for _, l := range lines {
		stream := "stdout"
		if strings.Contains(l, `"stderr"`) {
			stream = "stderr"
		}
		if !want[stream].MatchString(l) {
			t.Errorf("%s line %q does not match %v", stream, l, want[stream])
		}
	}
}

// Both streams are read at the same time: output on stderr is written
// while stdout stays open, and each goes to its own writer.
func TestInterleavedStreams(t *testing.T) {
	dir := t.TempDir()
	outR, outW := mustPipe(t)
	errR, errW := mustPipe(t)
	errc := make(chan error, 1)
	go func() { errc <- Drive(context.Background(), dir, outR, errR, DriverOptions{}) }()
	var wantOut, wantErr string
	const rounds = 4
	for round := range rounds {
		for _, s := range []struct {
			w    *os.File
			want *string
			name string
		}{{outW, &wantOut, "out"}, {errW, &wantErr, "err"}} {
			chunk := numbered(fmt.Sprintf("%s round %d", s.name, round), 0, 100)
			*s.want += chunk
			if _, err := s.w.WriteString(chunk); err != nil {
				t.Fatal(err)
			}
			waitFor(t, s.name+" chunk in the log", func() bool {
				out, errOut := readAll(t, dir, ReadOptions{Tail: -1})
				return out == wantOut && errOut == wantErr
			})
		}
	}
	outW.Close()
	errW.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	switches := 0
	entries := logEntries(t, dir)
	for i := 1; i < len(entries); i++ {
		if entries[i].Stream != entries[i-1].Stream {
			switches++
		}
	}
	if switches != 2*rounds-1 {
		t.Errorf("streams switch %d times in the file, want %d", switches, 2*rounds-1)
	}
}

func TestRotation(t *testing.T) {
	tests := []struct {
		maxSize  int64
		maxFiles int
	}{
		{4 << 10, 3},
		{4 << 10, 1},
		{10 << 10, 5},
		{100, 2}, // smaller than one entry: one entry per file
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("size=%d files=%d", tc.maxSize, tc.maxFiles), func(t *testing.T) {
			dir := t.TempDir()
			all := numbered("line", 0, 2000)
			drive(t, dir, DriverOptions{MaxSize: tc.maxSize, MaxFiles: tc.maxFiles}, all, "")
			rot, err := rotatedFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(rot) != tc.maxFiles-1 {
				t.Fatalf("%d rotated files, want %d", len(rot), tc.maxFiles-1)
			}
			for i, r := range rot {
				st, err := os.Stat(r.path)
				if err != nil || r.index != i+1 {
					t.Fatalf("rotated file %d: %v %v", i, r, err)
				}
				entrySize := int64(80)
				if st.Size() > max(tc.maxSize, entrySize) {
					t.Errorf("%s has %d bytes, over MaxSize %d", r.path, st.Size(), tc.maxSize)
				}
			}
			got, _ := readAll(t, dir, ReadOptions{Tail: -1})
			// What is kept is an unbroken suffix of the output, in order.
			if got == "" || !strings.HasSuffix(all, got) || !strings.HasPrefix(got, "line ") {
				t.Fatalf("kept logs are not a suffix of the output:\n%.200s", got)
			}
		})
	}
}

// A restarted container's new driver appends to the same files.
func TestAppendAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	opts := DriverOptions{MaxSize: 2 << 10, MaxFiles: 10}
	drive(t, dir, opts, numbered("run1", 0, 30), "")
	drive(t, dir, opts, numbered("run2", 0, 30), "boom\n")
	out, errOut := readAll(t, dir, ReadOptions{Tail: -1})
	if out != numbered("run1", 0, 30)+numbered("run2", 0, 30) || errOut != "boom\n" {
		t.Fatalf("got stdout %q stderr %q", out, errOut)
	}
}

// Lowering MaxFiles deletes the rotated files that are now too many.
func TestPruneExtraFiles(t *testing.T) {
	dir := t.TempDir()
	drive(t, dir, DriverOptions{MaxSize: 1 << 10, MaxFiles: 6}, numbered("x", 0, 200), "")
	drive(t, dir, DriverOptions{MaxSize: 1 << 10, MaxFiles: 2}, "y\n", "")
	rot, err := rotatedFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rot) != 1 || rot[0].index != 1 {
		t.Fatalf("rotated files %v, want only json.log.1", rot)
	}
}

// Both streams write at full speed while rotating, and several Reads
// follow at the same time: every entry is whole, nothing is lost or
// reordered, and every follower sees everything.
func TestConcurrency(t *testing.T) {
	dir := t.TempDir()
	const n = 30_000
	out, errOut := numbered("out", 0, n), numbered("err", 0, n)
	var stopped atomic.Bool
	done := stopped.Load
	type result struct{ out, err syncBuffer }
	results := make([]*result, 4)
	var readers sync.WaitGroup
	for i := range results {
		results[i] = &result{}
		readers.Add(1)
		go func() {
			defer readers.Done()
			if err := Read(context.Background(), dir, ReadOptions{Stdout: &results[i].out, Stderr: &results[i].err, Tail: -1, Follow: true, Done: done}); err != nil {
				t.Errorf("Read: %v", err)
			}
		}()
	}
	drive(t, dir, DriverOptions{MaxSize: 256 << 10, MaxFiles: 40}, out, errOut)
	stopped.Store(true)
	readers.Wait()
	if rot, _ := rotatedFiles(dir); len(rot) < 5 {
		t.Errorf("%d rotations, want several", len(rot))
	}
	logEntries(t, dir) // every line a well-formed entry
	for i, r := range results {
		if r.out.String() != out || r.err.String() != errOut {
			o, e := r.out.String(), r.err.String()
			t.Errorf("follower %d: stdout ok=%v (%d/%d bytes, first diff %d) stderr ok=%v (%d/%d, %d)", i,
				o == out, len(o), len(out), firstDiff(o, out), e == errOut, len(e), len(errOut), firstDiff(e, errOut))
		}
	}
}

// When json.log cannot be written the driver still drains the pipes (the
// container must never block on them) and reports the error.
func TestDriveUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	outR, outW := mustPipe(t)
	errR, errW := mustPipe(t)
	go func() {
		// Far more than a pipe buffer holds: this only finishes if drained.
		outW.WriteString(strings.Repeat("x\n", 1<<20))
		outW.Close()
		errW.Close()
	}()
	err := Drive(context.Background(), notDir, outR, errR, DriverOptions{})
	if err == nil || !strings.Contains(err.Error(), "open container log") {
		t.Fatalf("Drive error = %v, want an open error", err)
	}
}

// Cancelling Drive's context makes it write what is buffered and return,
// even while a writer still holds a pipe open (the shim's TTY case).
func TestDriveCancelDrains(t *testing.T) {
	dir := t.TempDir()
	outR, outW := mustPipe(t)
	errR, _ := mustPipe(t) // never closed
	if _, err := outW.WriteString("buffered\nno newline"); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Drive(ctx, dir, outR, errR, DriverOptions{}) }()
	waitFor(t, "the buffered line", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, logFile))
		return bytes.Contains(data, []byte("no newline"))
	})
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Drive: %v", err)
	}
	if out, _ := readAll(t, dir, ReadOptions{Tail: -1}); out != "buffered\nno newline" {
		t.Fatalf("stdout = %q", out)
	}
}

func TestDriverConfig(t *testing.T) {
	tests := []struct {
		name    string
		file    string // driver.json content; "-" for none
		want    DriverOptions
		wantErr bool
	}{
		{"absent", "-", DriverOptions{DefaultMaxSize, DefaultMaxFiles}, false},
		{"set", `{"max_size":1024,"max_files":7}`, DriverOptions{1024, 7}, false},
		{"zeros", `{"max_size":0,"max_files":0}`, DriverOptions{DefaultMaxSize, DefaultMaxFiles}, false},
		{"broken", `{"max_size":`, DriverOptions{DefaultMaxSize, DefaultMaxFiles}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "-" {
				if err := os.WriteFile(filepath.Join(dir, configFile), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readDriverConfig(dir)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("readDriverConfig = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestWriteDriverConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	if err := WriteDriverConfig(dir, DriverOptions{MaxSize: 5000, MaxFiles: 4}); err != nil {
		t.Fatal(err)
	}
	got, err := readDriverConfig(dir)
	if err != nil || got != (DriverOptions{5000, 4}) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	err = WriteDriverConfig(dir, DriverOptions{MaxSize: -1})
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("negative MaxSize: error %v, want ErrInvalid", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left %d files in the log dir, want only driver.json", len(ents))
	}
}

func TestRuneSafeCut(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"abc", 3},
		{"ab\xe2\x82", 2},     // € cut after 2 of 3 bytes
		{"ab\xe2", 2},         // after 1 of 3
		{"ab\xe2\x82\xac", 5}, // whole €
		{"ab\xf0\x9f\x98", 2}, // 4-byte emoji cut after 3
		{"\xe2\x82", 2},       // nothing before: cut anyway, never zero
		{"ab\xff", 3},         // not UTF-8: anywhere
		{"ab\x82\x82\x82", 5}, // stray continuation bytes
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			if got := runeSafeCut([]byte(tc.in)); got != tc.want {
				t.Errorf("runeSafeCut = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestPartialLineFlushedWhileOpen: the shim keeps a container's pipes open
// until its task is deleted, so an unfinished line must reach the file
// without EOF, and be joined with its continuation on read.
func TestPartialLineFlushedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Drive(context.Background(), dir, outR, errR, DriverOptions{}) }()
	if _, err := outW.Write([]byte("Enter name: ")); err != nil {
		t.Fatal(err)
	}
	var got string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var b bytes.Buffer
		if err := Read(context.Background(), dir, ReadOptions{Stdout: &b, Stderr: io.Discard, Tail: -1}); err == nil {
			if got = b.String(); got == "Enter name: " {
				break
			}
		}
	}
	if got != "Enter name: " {
		t.Fatalf("partial line while the pipe is open: %q", got)
	}
	outW.Write([]byte("budgie\nnext\n"))
	outW.Close()
	errW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Read(context.Background(), dir, ReadOptions{Stdout: &b, Stderr: io.Discard, Tail: 1}); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	Read(context.Background(), dir, ReadOptions{Stdout: &all, Stderr: io.Discard, Tail: -1})
	if all.String() != "Enter name: budgie\nnext\n" || b.String() != "next\n" {
		t.Errorf("joined: %q, tail 1: %q", all.String(), b.String())
	}
}
