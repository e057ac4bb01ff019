package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain doubles as the log driver process: TestRunDriverProcess runs
// this test binary as `<binary> _log-driver <dir>`, like the shim runs budgie.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == DriverArg {
		if err := RunDriver(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// drive runs Drive over real pipes, as the shim's fds would be, feeding
// stdout and stderr concurrently, and waits for it.
func drive(t testing.TB, dir string, opts DriverOptions, stdout, stderr string) {
	t.Helper()
	outR, outW := mustPipe(t)
	errR, errW := mustPipe(t)
	feed := func(w *os.File, data string) {
		defer w.Close()
		if _, err := w.WriteString(data); err != nil {
			t.Errorf("feed pipe: %v", err)
		}
	}
	go feed(outW, stdout)
	go feed(errW, stderr)
	if err := Drive(context.Background(), dir, outR, errR, opts); err != nil {
		t.Fatalf("Drive: %v", err)
	}
	outR.Close()
	errR.Close()
}

func mustPipe(t testing.TB) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// readAll runs a non-following Read and returns what each stream got.
func readAll(t testing.TB, dir string, opts ReadOptions) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	opts.Stdout, opts.Stderr = &out, &errb
	if err := Read(context.Background(), dir, opts); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out.String(), errb.String()
}

// numbered returns n lines "<prefix> <i>\n".
func numbered(prefix string, from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%s %d\n", prefix, i)
	}
	return b.String()
}

// writeEntries writes a json.log by hand (for layouts Drive does not make
// deterministically, such as interleaved pieces of split lines).
func writeEntries(t testing.TB, path string, entries []entry) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logEntries decodes every entry of the files of dir, oldest file first,
// failing on any line that is not a well-formed entry.
func logEntries(t testing.TB, dir string) []entry {
	t.Helper()
	rot, err := rotatedFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{}
	for i := len(rot) - 1; i >= 0; i-- {
		paths = append(paths, rot[i].path)
	}
	paths = append(paths, filepath.Join(dir, logFile))
	var all []entry
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var e entry
			if err := json.Unmarshal(line, &e); err != nil || line[len(line)-1] != '\n' {
				t.Fatalf("%s: bad entry line %q: %v", p, line, err)
			}
			all = append(all, e)
		}
	}
	return all
}

// syncBuffer is a bytes.Buffer safe for a concurrent Read and test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
