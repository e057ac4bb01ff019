package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// lineRecorder keeps each Write (one line) with the stream it came from, so
// the order across both streams is visible.
type lineRecorder struct{ lines []string }

type streamWriter struct {
	rec    *lineRecorder
	prefix string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.rec.lines = append(w.rec.lines, w.prefix+string(p))
	return len(p), nil
}

func readLines(t *testing.T, dir string, opts ReadOptions) []string {
	t.Helper()
	rec := &lineRecorder{}
	opts.Stdout, opts.Stderr = streamWriter{rec, "O:"}, streamWriter{rec, "E:"}
	if err := Read(context.Background(), dir, opts); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return rec.lines
}

// randomEntries makes a log with both streams interleaved, lines split into
// pieces (whose pieces interleave with the other stream's), and sometimes a
// last line without a newline.
func randomEntries(rng *rand.Rand, lines int) []entry {
	var out []entry
	pieces := [2][]string{}
	next := 0
	tm := t0
	for next < lines || len(pieces[0])+len(pieces[1]) > 0 {
		s := rng.IntN(2)
		if len(pieces[s]) == 0 && next < lines {
			n := 1 + rng.IntN(3)*rng.IntN(2)
			for k := range n {
				pieces[s] = append(pieces[s], fmt.Sprintf("L%d.%d.", next, k))
			}
			pieces[s][n-1] += "\n"
			next++
		}
		if len(pieces[s]) == 0 {
			continue
		}
		tm = tm.Add(time.Millisecond)
		out = append(out, entry{Log: pieces[s][0], Stream: streamNames[s], Time: tm})
		pieces[s] = pieces[s][1:]
	}
	if rng.IntN(2) == 0 {
		out = append(out, entry{Log: "unfinished", Stream: "stderr", Time: tm.Add(time.Millisecond)})
	}
	return out
}

// Tail N gives exactly the last N lines of the full output, whatever the
// interleaving of pieces, inside one file and across rotated files.
func TestTailMatchesFullRead(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			entries := randomEntries(rng, 40)
			dir := t.TempDir()
			if seed%2 == 0 {
				writeEntries(t, filepath.Join(dir, logFile), entries)
			} else { // spread over json.log.3 … json.log
				q := len(entries) / 4
				writeEntries(t, rotatedName(dir, 3), entries[:q])
				writeEntries(t, rotatedName(dir, 2), entries[q:2*q])
				writeEntries(t, rotatedName(dir, 1), entries[2*q:3*q])
				writeEntries(t, filepath.Join(dir, logFile), entries[3*q:])
			}
			all := readLines(t, dir, ReadOptions{Tail: -1})
			for n := 0; n <= len(all)+2; n++ {
				got := readLines(t, dir, ReadOptions{Tail: n})
				want := all[max(0, len(all)-n):]
				if strings.Join(got, "") != strings.Join(want, "") {
					t.Fatalf("tail %d:\ngot  %q\nwant %q", n, got, want)
				}
			}
		})
	}
}

func TestTailOfDriverOutput(t *testing.T) {
	dir := t.TempDir()
	drive(t, dir, DriverOptions{MaxSize: 8 << 10, MaxFiles: 20}, numbered("out", 0, 1000), "")
	tests := []struct {
		tail int
		want string
	}{
		{0, ""},
		{1, "out 999\n"},
		{10, numbered("out", 990, 10)},
		{250, numbered("out", 750, 250)}, // spans several rotated files
		{1000, numbered("out", 0, 1000)},
		{5000, numbered("out", 0, 1000)},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.tail), func(t *testing.T) {
			if got, _ := readAll(t, dir, ReadOptions{Tail: tc.tail}); got != tc.want {
				t.Errorf("tail %d: got %d bytes, want %d", tc.tail, len(got), len(tc.want))
			}
		})
	}
}

// A 100 KiB line is split in seven entries but counts as one line for tail.
func TestTailLongLine(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("z", 100<<10) + "\n"
	drive(t, dir, DriverOptions{}, "a\n"+long+"b\n", "")
	if got, _ := readAll(t, dir, ReadOptions{Tail: 2}); got != long+"b\n" {
		t.Errorf("tail 2 gave %d bytes, want %d", len(got), len(long)+2)
	}
}

func TestSinceAndTimestamps(t *testing.T) {
	dir := t.TempDir()
	writeEntries(t, filepath.Join(dir, logFile), []entry{
		{Log: "one\n", Stream: "stdout", Time: t0},
		{Log: "two-a", Stream: "stderr", Time: t0.Add(time.Second)},
		{Log: "two-b\n", Stream: "stderr", Time: t0.Add(3 * time.Second)},
		{Log: "three\n", Stream: "stdout", Time: t0.Add(2*time.Second + 5)},
	})
	tests := []struct {
		name string
		opts ReadOptions
		want []string
	}{
		{"all", ReadOptions{Tail: -1}, []string{"O:one\n", "E:two-atwo-b\n", "O:three\n"}},
		{"since the second", ReadOptions{Tail: -1, Since: t0.Add(time.Second)}, []string{"E:two-atwo-b\n", "O:three\n"}},
		{"since between", ReadOptions{Tail: -1, Since: t0.Add(1500 * time.Millisecond)}, []string{"O:three\n"}},
		{"since after all", ReadOptions{Tail: -1, Since: t0.Add(time.Hour)}, nil},
		{"since and tail", ReadOptions{Tail: 1, Since: t0}, []string{"O:three\n"}},
		{"timestamps", ReadOptions{Tail: -1, Timestamps: true}, []string{
			"O:2026-01-02T03:04:05.000000000Z one\n",
			"E:2026-01-02T03:04:06.000000000Z two-atwo-b\n", // the time of the first piece
			"O:2026-01-02T03:04:07.000000005Z three\n",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readLines(t, dir, tc.opts)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The driver's own times print in docker logs -t's fixed-width format.
func TestTimestampsOfDriverOutput(t *testing.T) {
	dir := t.TempDir()
	before := time.Now()
	drive(t, dir, DriverOptions{}, "hi\n", "")
	out, _ := readAll(t, dir, ReadOptions{Tail: -1, Timestamps: true})
	m := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) hi\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output %q is not '<RFC3339Nano fixed> hi'", out)
	}
	ts, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil || ts.Before(before.Add(-time.Second)) || ts.After(time.Now()) {
		t.Errorf("timestamp %s (%v) is not the time of writing", m[1], err)
	}
}

func TestReadMissingAndEmpty(t *testing.T) {
	err := Read(context.Background(), filepath.Join(t.TempDir(), "nope"), ReadOptions{Tail: -1})
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "no logs for container nope") {
		t.Errorf("missing dir: error %v, want ErrNotFound naming the container", err)
	}
	// Created but never started: a dir with only driver.json.
	dir := t.TempDir()
	if err := WriteDriverConfig(dir, DriverOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tail := range []int{-1, 0, 5} {
		if out, errOut := readAll(t, dir, ReadOptions{Tail: tail}); out+errOut != "" {
			t.Errorf("tail %d: got %q %q from an empty log", tail, out, errOut)
		}
	}
}

func TestRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c1")
	drive(t, dir, DriverOptions{MaxSize: 1 << 10}, numbered("x", 0, 100), "")
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("log dir still there: %v", err)
	}
	if err := Remove(dir); err != nil {
		t.Errorf("removing again: %v", err)
	}
	if err := Read(context.Background(), dir, ReadOptions{}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Read after Remove: %v, want ErrNotFound", err)
	}
}

// A torn last line (a write in progress) is not printed, and garbage lines
// are skipped.
func TestReadSkipsBadLines(t *testing.T) {
	dir := t.TempDir()
	data := `{"log":"a\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}` + "\n" +
		"garbage\n" +
		`{"log":"b\n","stream":"stdout","time":"2026-01-02T03:04:06Z"}` + "\n" +
		`{"log":"c\n","stream":"stdout","ti`
	if err := os.WriteFile(filepath.Join(dir, logFile), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tail := range []int{-1, 1, 2} {
		want := "a\nb\n"
		if tail == 1 {
			want = "b\n"
		}
		if out, _ := readAll(t, dir, ReadOptions{Tail: tail}); out != want {
			t.Errorf("tail %d: got %q, want %q", tail, out, want)
		}
	}
}

// follow runs a following Read in the background.
func follow(dir string, opts ReadOptions) (stdout, stderr *syncBuffer, stopped *atomic.Bool, errc chan error) {
	stdout, stderr, stopped = &syncBuffer{}, &syncBuffer{}, &atomic.Bool{}
	opts.Stdout, opts.Stderr, opts.Follow, opts.Done = stdout, stderr, true, stopped.Load
	errc = make(chan error, 1)
	go func() { errc <- Read(context.Background(), dir, opts) }()
	return stdout, stderr, stopped, errc
}

func TestFollow(t *testing.T) {
	dir := t.TempDir()
	drive(t, dir, DriverOptions{}, "old 1\nold 2\n", "")
	w, err := openWriter(dir, DriverOptions{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	out, errOut, stopped, errc := follow(dir, ReadOptions{Tail: 1})
	waitFor(t, "the tail", func() bool { return out.String() == "old 2\n" })
	for _, s := range []string{"new 1\n", "new 2 is "} {
		if err := w.write("stdout", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.write("stderr", []byte("oops\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "new lines", func() bool { return out.String() == "old 2\nnew 1\n" && errOut.String() == "oops\n" })
	if err := w.write("stdout", []byte("long\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the joined line", func() bool { return out.String() == "old 2\nnew 1\nnew 2 is long\n" })
	// It keeps following while the container runs.
	time.Sleep(3 * pollInterval)
	select {
	case err := <-errc:
		t.Fatalf("Read returned early: %v", err)
	default:
	}
	// The final output without a newline, written just before the stop.
	if err := w.write("stdout", []byte("bye")); err != nil {
		t.Fatal(err)
	}
	stopped.Store(true)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Read did not return after Done reported true")
	}
	if got := out.String(); got != "old 2\nnew 1\nnew 2 is long\nbye" {
		t.Errorf("stdout = %q", got)
	}
}

// Follow survives rotations, including MaxFiles=1 where the old file is
// deleted, and a log that does not exist yet when it starts.
func TestFollowRotation(t *testing.T) {
	for _, maxFiles := range []int{1, 3} {
		t.Run(fmt.Sprintf("files=%d", maxFiles), func(t *testing.T) {
			dir := t.TempDir()
			out, _, stopped, errc := follow(dir, ReadOptions{Tail: -1})
			time.Sleep(pollInterval) // it starts before json.log exists
			w, err := openWriter(dir, DriverOptions{MaxSize: 4 << 10, MaxFiles: maxFiles})
			if err != nil {
				t.Fatal(err)
			}
			defer w.close()
			var want strings.Builder
			for burst := range 15 { // ~25 lines of ~60 bytes: a rotation every other burst
				for i := range 25 {
					line := fmt.Sprintf("burst %d line %d\n", burst, i)
					want.WriteString(line)
					if err := w.write("stdout", []byte(line)); err != nil {
						t.Fatal(err)
					}
				}
				waitFor(t, fmt.Sprintf("burst %d", burst), func() bool { return out.String() == want.String() })
			}
			if rot, _ := rotatedFiles(dir); len(rot) != maxFiles-1 {
				t.Errorf("%d rotated files, want %d", len(rot), maxFiles-1)
			}
			stopped.Store(true)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Rotations faster than the poll are still followed in order, as long as
// the files are kept.
func TestFollowManyRotationsBetweenPolls(t *testing.T) {
	dir := t.TempDir()
	w, err := openWriter(dir, DriverOptions{MaxSize: 1 << 10, MaxFiles: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	out, _, stopped, errc := follow(dir, ReadOptions{Tail: -1})
	var want bytes.Buffer
	for round := range 3 {
		for i := range 100 { // ~6 KiB: 6 rotations at once
			line := fmt.Sprintf("r%d %d\n", round, i)
			want.WriteString(line)
			if err := w.write("stdout", []byte(line)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(pollInterval / 2)
	}
	waitFor(t, "all lines", func() bool { return out.String() == want.String() })
	stopped.Store(true)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestFollowContextCancel(t *testing.T) {
	dir := t.TempDir()
	drive(t, dir, DriverOptions{}, "x\n", "")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Read(ctx, dir, ReadOptions{Tail: -1, Follow: true}) }()
	time.Sleep(2 * pollInterval)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Read did not return after cancel")
	}
}

// TestChainListedMidRotation: a reader that lists the rotated files while
// the driver is shifting them (json.log.2 already moved to json.log.3,
// json.log.1 to json.log.2, json.log not yet renamed) opens the names it
// listed and finds json.log.1 gone; it must list again, not skip the
// oldest file (CI: a follower of TestConcurrency lost its first 2,892
// stdout lines this way).
func TestChainListedMidRotation(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for _, f := range []struct{ name, line string }{{logFile + ".2", "a\n"}, {logFile + ".1", "b\n"}, {logFile, "c\n"}} {
		writeEntries(t, filepath.Join(dir, f.name), []entry{{Log: f.line, Stream: "stdout", Time: now}})
	}
	shifted := false
	chainListed = func() {
		if shifted {
			return
		}
		shifted = true
		for _, mv := range [][2]string{{".2", ".3"}, {".1", ".2"}} {
			if err := os.Rename(filepath.Join(dir, logFile+mv[0]), filepath.Join(dir, logFile+mv[1])); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { chainListed = nil })
	got := readLines(t, dir, ReadOptions{Tail: -1})
	if want := []string{"O:a\n", "O:b\n", "O:c\n"}; !slices.Equal(got, want) {
		t.Errorf("read %q, want %q", got, want)
	}
	if !shifted {
		t.Error("the listing hook never ran")
	}
}
