package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keeper.log")
	var opened []string
	w, err := OpenRotating(path, FileOptions{MaxSize: 100, MaxFiles: 3, Opened: func(f *os.File) { opened = append(opened, f.Name()) }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	line := strings.Repeat("x", 39) + "\n" // 40 bytes: two lines per file
	for i := range 9 {
		if _, err := fmt.Fprintf(w, "%d%s", i, line[1:]); err != nil {
			t.Fatal(err)
		}
	}
	// 9 lines of 40 bytes: 0-1 (dropped), 2-3 (dropped), 4-5 → .2, 6-7 → .1, 8 → current.
	want := map[string]string{"keeper.log": "8", "keeper.log.1": "67", "keeper.log.2": "45"}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(want) {
		t.Errorf("files %v, want %d", ents, len(want))
	}
	for name, firsts := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if l != "" {
				got += l[:1]
			}
		}
		if got != firsts {
			t.Errorf("%s holds lines %q, want %q", name, got, firsts)
		}
	}
	if len(opened) != 5 {
		t.Errorf("Opened called %d times, want 5 (the first file and 4 rotations)", len(opened))
	}
}

func TestRotatingFileAppendsAndDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keeper.log")
	if err := os.WriteFile(path, []byte("before\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := OpenRotating(path, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.opts.MaxSize != DefaultMaxSize || w.opts.MaxFiles != DefaultMaxFiles {
		t.Errorf("defaults %d × %d, want %d × %d", w.opts.MaxSize, w.opts.MaxFiles, DefaultMaxSize, DefaultMaxFiles)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = w.Write([]byte("after\n"))
		}()
	}
	wg.Wait()
	w.Close()
	b, _ := os.ReadFile(path)
	if want := "before\n" + strings.Repeat("after\n", 8); string(b) != want {
		t.Errorf("file = %q, want %q", b, want)
	}
}
