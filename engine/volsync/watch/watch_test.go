package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func start(t *testing.T, opts Options) (*Watcher, string) {
	t.Helper()
	root := t.TempDir()
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	w, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, root
}

// waitFor collects batches until every path in want was reported (or 3 s pass).
func waitFor(t *testing.T, w *Watcher, want ...string) []Change {
	t.Helper()
	var got []Change
	seen := map[string]bool{}
	deadline := time.After(3 * time.Second)
	for {
		missing := slices.DeleteFunc(slices.Clone(want), func(p string) bool { return seen[p] })
		if len(missing) == 0 {
			return got
		}
		select {
		case c := <-w.Changes():
			got = append(got, c)
			for _, p := range c.Paths {
				seen[p] = true
			}
		case <-deadline:
			t.Fatalf("never reported %v; got %+v", missing, got)
		}
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCreateWriteRemoveRename(t *testing.T) {
	w, root := start(t, Options{})
	tests := []struct {
		name string
		do   func()
		want []string
	}{
		{"create", func() { write(t, filepath.Join(root, "a"), "1") }, []string{"a"}},
		{"write", func() { write(t, filepath.Join(root, "a"), "22") }, []string{"a"}},
		{"rename", func() { os.Rename(filepath.Join(root, "a"), filepath.Join(root, "b")) }, []string{"a", "b"}},
		{"chmod", func() { os.Chmod(filepath.Join(root, "b"), 0o600) }, []string{"b"}},
		{"remove", func() { os.Remove(filepath.Join(root, "b")) }, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.do()
			waitFor(t, w, tt.want...)
		})
	}
}

func TestNewDirectoriesAreWatchedAndTheirFilesReported(t *testing.T) {
	w, root := start(t, Options{})
	if err := os.MkdirAll(filepath.Join(root, "a", "b", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "a", "b", "c", "f"), "x")
	waitFor(t, w, "a", "a/b/c/f")
	// Later writes deep in the new tree are seen: it is watched.
	write(t, filepath.Join(root, "a", "b", "c", "g"), "y")
	waitFor(t, w, "a/b/c/g")

	// A tree moved in from outside is reported whole and then watched.
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(outside, "m", "n"), 0o755)
	write(t, filepath.Join(outside, "m", "n", "old"), "z")
	if err := os.Rename(filepath.Join(outside, "m"), filepath.Join(root, "m")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, "m", "m/n/old")
	write(t, filepath.Join(root, "m", "n", "new"), "z")
	waitFor(t, w, "m/n/new")

	// A removed directory can come back under the same name.
	os.RemoveAll(filepath.Join(root, "a"))
	waitFor(t, w, "a")
	os.MkdirAll(filepath.Join(root, "a", "b"), 0o755)
	write(t, filepath.Join(root, "a", "b", "again"), "1")
	waitFor(t, w, "a/b/again")
}

func TestDebounceGroupsBursts(t *testing.T) {
	w, root := start(t, Options{Debounce: 100 * time.Millisecond, MaxDelay: 5 * time.Second})
	for i := range 100 {
		write(t, filepath.Join(root, "f"), fmt.Sprint(i))
	}
	got := waitFor(t, w, "f")
	select {
	case c := <-w.Changes():
		got = append(got, c)
	case <-time.After(300 * time.Millisecond):
	}
	if len(got) > 3 {
		t.Errorf("100 rapid writes gave %d batches, want 1–3", len(got))
	}
}

func TestMaxDelayUnderContinuousWrites(t *testing.T) {
	w, root := start(t, Options{Debounce: 200 * time.Millisecond, MaxDelay: 400 * time.Millisecond})
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			os.WriteFile(filepath.Join(root, "busy"), []byte(fmt.Sprint(i)), 0o644)
			time.Sleep(20 * time.Millisecond) // never quiet for the debounce
		}
	}()
	defer close(stop)
	begin := time.Now()
	select {
	case c := <-w.Changes():
		if d := time.Since(begin); d > 1500*time.Millisecond || !slices.Contains(c.Paths, "busy") {
			t.Errorf("first batch after %s: %+v", d, c)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no batch while writes never paused: MaxDelay did not bound the wait")
	}
}

func TestSymlinkToDirectoryIsNotFollowed(t *testing.T) {
	w, root := start(t, Options{})
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, "link")
	write(t, filepath.Join(outside, "secret"), "x")
	write(t, filepath.Join(root, "marker"), "x")
	for _, c := range waitFor(t, w, "marker") {
		for _, p := range c.Paths {
			if p == "link/secret" || p == "secret" {
				t.Errorf("a change behind the symlink was reported: %q", p)
			}
		}
	}
}

func TestInternalNamesIgnored(t *testing.T) {
	w, root := start(t, Options{})
	write(t, filepath.Join(root, InternalPrefix+"f.tmp"), "x")
	write(t, filepath.Join(root, "real"), "x")
	for _, c := range waitFor(t, w, "real") {
		if slices.Contains(c.Paths, InternalPrefix+"f.tmp") {
			t.Errorf("internal temp file reported: %+v", c)
		}
	}
}

// TestOverflowMeansRescan feeds the overflow error to the watcher's own
// handler: overflowing the real inotify queue would need a machine-wide
// sysctl change, so this fault is injected (the only fake in the package).
func TestOverflowMeansRescan(t *testing.T) {
	w, _ := start(t, Options{})
	w.fsw.Errors <- fsnotify.ErrEventOverflow
	select {
	case c := <-w.Changes():
		if !c.Rescan {
			t.Errorf("overflow gave %+v, want Rescan", c)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no rescan after an overflow")
	}
}

func TestCloseTwiceNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		w, err := New(t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if _, ok := <-w.Changes(); ok {
			t.Fatal("Changes still open after Close")
		}
	}
	var after int
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if after = runtime.NumGoroutine(); after <= before {
			return
		}
	}
	t.Errorf("goroutines: %d before, %d after", before, after)
}

func BenchmarkCreates(b *testing.B) {
	root := b.TempDir()
	w, err := New(root, Options{Debounce: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ResetTimer()
	for i := range b.N {
		os.WriteFile(filepath.Join(root, fmt.Sprint(i)), nil, 0o644)
	}
	want := fmt.Sprint(b.N - 1)
	for {
		c := <-w.Changes()
		if slices.Contains(c.Paths, want) {
			return
		}
	}
}
