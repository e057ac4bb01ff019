package volsync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The durability contract (commit.go): a file is reported synced — a
// Progress call with its Path, FilesDone counting it — only after its data
// reached the disk (an fsync of its temp file, or a syncfs after the temp
// file was written), it was renamed over its real name and that directory
// was fsynced after the rename; a directory the sync created had its parent
// fsynced before anything in it is reported. These tests watch the steps
// through the Client's test hook (Client.hook, nil outside tests: it is
// called right after each step succeeded) and the Progress callback.

// durabilityLog numbers hook events and reports in the order they happen.
type durabilityLog struct {
	prim, repl string

	mu       sync.Mutex
	seq      int
	events   map[syncEvent]map[string][]int // event → path → sequence numbers
	reported map[string]int                 // path → sequence number of its report
	problems []string
}

func newDurabilityLog(prim, repl string) *durabilityLog {
	return &durabilityLog{prim: prim, repl: repl, events: map[syncEvent]map[string][]int{}, reported: map[string]int{}}
}

func (l *durabilityLog) hook(ev syncEvent, p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if l.events[ev] == nil {
		l.events[ev] = map[string][]int{}
	}
	l.events[ev][p] = append(l.events[ev][p], l.seq)
}

// progress records a file's report and checks, at that moment, that the
// file is complete under its real name.
func (l *durabilityLog) progress(p Progress) {
	if p.Path == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	if _, twice := l.reported[p.Path]; twice {
		l.problems = append(l.problems, p.Path+" reported twice")
	}
	l.reported[p.Path] = l.seq
	want, err1 := os.ReadFile(filepath.Join(l.prim, p.Path))
	got, err2 := os.ReadFile(filepath.Join(l.repl, p.Path))
	if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
		l.problems = append(l.problems, fmt.Sprintf("%s reported but not complete under its name (%v, %v)", p.Path, err1, err2))
	}
}

// last returns the last sequence number of ev for p before limit, or 0.
func (l *durabilityLog) last(ev syncEvent, p string, limit int) int {
	best := 0
	for _, s := range l.events[ev][p] {
		if s < limit {
			best = max(best, s)
		}
	}
	return best
}

// check verifies the contract for every reported file; want lists the
// files that must have been reported, newDirs the directories the sync
// created.
func (l *durabilityLog) check(t *testing.T, want, newDirs []string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.problems {
		t.Error(p)
	}
	for _, f := range want {
		if _, ok := l.reported[f]; !ok {
			t.Errorf("%s was never reported synced", f)
		}
	}
	for f, r := range l.reported {
		written := l.last(evWritten, f, r)
		renamed := l.last(evRenamed, f, r)
		dir := parentOf(f)
		dirSynced := l.last(evDirSynced, dir, r)
		data := max(l.last(evFileSynced, f, renamed), l.last(evFSSynced, "", renamed))
		switch {
		case written == 0:
			t.Errorf("%s: reported (#%d) but never written", f, r)
		case data < written:
			t.Errorf("%s: renamed (#%d) without its data synced after it was written (#%d)", f, renamed, written)
		case renamed < data:
			t.Errorf("%s: reported (#%d) without a rename after its data was synced (#%d)", f, r, data)
		case dirSynced < renamed:
			t.Errorf("%s: reported (#%d) before its directory %q was fsynced after the rename (#%d)", f, r, dir, renamed)
		}
		for _, d := range newDirs {
			if strings.HasPrefix(f, d+"/") && l.last(evDirSynced, parentOf(d), r) == 0 {
				t.Errorf("%s: reported (#%d) before the parent of the new directory %s was fsynced", f, r, d)
			}
		}
	}
}

// durableTree writes small files in nested directories (enough for several
// batches and the writers), two files over syncAlone and an empty one.
func durableTree(t *testing.T, prim string) (files, dirs []string) {
	for i := range 700 {
		p := fmt.Sprintf("a/b%d/c/f%03d.txt", i%3, i)
		writeFile(t, filepath.Join(prim, p), randBytes(t, 100+i*13), 0o644)
		files = append(files, p)
	}
	for _, p := range []string{"big/one.bin", "big/two.bin"} {
		writeFile(t, filepath.Join(prim, p), randBytes(t, 3<<20), 0o600)
		files = append(files, p)
	}
	writeFile(t, filepath.Join(prim, "empty"), nil, 0o644)
	files = append(files, "empty")
	dirs = []string{"a", "a/b0", "a/b1", "a/b2", "a/b0/c", "a/b1/c", "a/b2/c", "big"}
	return files, dirs
}

func TestDurabilityOrder(t *testing.T) {
	t.Run("fresh", func(t *testing.T) {
		base := t.TempDir()
		prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
		files, dirs := durableTree(t, prim)
		c := dial(t, startServer(t, map[string]string{"data": prim}, nil), nil)
		log := newDurabilityLog(prim, repl)
		c.hook = log.hook
		st, err := c.Sync(context.Background(), "data", repl, SyncOptions{Progress: log.progress})
		if err != nil {
			t.Fatal(err)
		}
		assertSameTree(t, prim, repl)
		if st.FilesTransferred != len(files) {
			t.Fatalf("%d files transferred, want %d", st.FilesTransferred, len(files))
		}
		log.check(t, files, dirs)
	})
	t.Run("edited", func(t *testing.T) {
		base := t.TempDir()
		prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
		durableTree(t, prim)
		addr := startServer(t, map[string]string{"data": prim}, nil)
		ctx := context.Background()
		if _, err := dial(t, addr, nil).Sync(ctx, "data", repl, SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		// A block-sized edit in a big file (its old copy fills most of the
		// new one), small files rewritten, new ones in a new directory.
		f, err := os.OpenFile(filepath.Join(prim, "big/one.bin"), os.O_WRONLY, 0)
		mustDo(t, err)
		_, err = f.WriteAt(randBytes(t, 200<<10), 1<<20)
		mustDo(t, err)
		mustDo(t, f.Close())
		want := []string{"big/one.bin"}
		for i := range 20 {
			p := fmt.Sprintf("a/b%d/c/f%03d.txt", i*7%3, i*7)
			writeFile(t, filepath.Join(prim, p), randBytes(t, 5000), 0o644)
			q := fmt.Sprintf("new/d/g%02d", i)
			writeFile(t, filepath.Join(prim, q), randBytes(t, 300), 0o640)
			want = append(want, p, q)
		}
		later := time.Now().Add(time.Hour) // file times are coarse: make them differ
		for _, p := range want {
			mustDo(t, os.Chtimes(filepath.Join(prim, p), later, later))
		}
		c := dial(t, addr, nil) // cold: the old copies are hashed (and copied) again
		log := newDurabilityLog(prim, repl)
		c.hook = log.hook
		st, err := c.Sync(ctx, "data", repl, SyncOptions{Progress: log.progress})
		if err != nil {
			t.Fatal(err)
		}
		assertSameTree(t, prim, repl)
		if st.FilesTransferred != len(want) || st.BlocksReused == 0 {
			t.Fatalf("stats %+v: want %d files transferred and blocks reused", st, len(want))
		}
		log.check(t, want, []string{"new", "new/d"})
	})
}

// gateConn fails reads once limit bytes were read, but only after gate
// closed: the sync is cut while files are known to have been reported.
type gateConn struct {
	net.Conn
	left atomic.Int64
	gate <-chan struct{}
}

func (c *gateConn) Read(p []byte) (int, error) {
	if c.left.Load() <= 0 {
		select {
		case <-c.gate:
		case <-time.After(10 * time.Second):
		}
		c.Conn.Close()
		return 0, io.ErrUnexpectedEOF
	}
	if left := c.left.Load(); int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	c.left.Add(-int64(n))
	return n, err
}

// TestDurabilityAfterCut cuts a sync after files were reported: every
// reported file is complete under its real name, no real name holds a
// partial file, and the next sync completes the replica.
func TestDurabilityAfterCut(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	files, _ := durableTree(t, prim)
	addr := startServer(t, map[string]string{"data": prim}, nil)
	first := make(chan struct{})
	var once sync.Once
	c := dial(t, addr, func(conn net.Conn) net.Conn {
		g := &gateConn{Conn: conn, gate: first}
		g.left.Store(4 << 20) // of about 7 MiB
		return g
	})
	log := newDurabilityLog(prim, repl)
	c.hook = log.hook
	progress := func(p Progress) {
		log.progress(p)
		if p.Path != "" {
			once.Do(func() { close(first) })
		}
	}
	if _, err := c.Sync(context.Background(), "data", repl, SyncOptions{Progress: progress}); err == nil {
		t.Fatal("a sync over a cut connection succeeded")
	}
	log.check(t, nil, nil)
	n := len(log.reported)
	if n == 0 || n == len(files) {
		t.Fatalf("%d of %d files reported before the cut; want some, not all", n, len(files))
	}
	err := filepath.WalkDir(repl, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), InternalPrefix) {
			return err
		}
		rel, _ := filepath.Rel(repl, p)
		got, err := os.ReadFile(p)
		mustDo(t, err)
		want, err := os.ReadFile(filepath.Join(prim, rel))
		mustDo(t, err)
		if !bytes.Equal(got, want) {
			t.Errorf("%s is visible under its real name but not complete", rel)
		}
		return nil
	})
	mustDo(t, err)
	t.Logf("cut after %d of %d files were reported", n, len(files))
	if _, err := dial(t, addr, nil).Sync(context.Background(), "data", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
	var left []string
	filepath.WalkDir(repl, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), InternalPrefix) {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("temp files left after the resume: %v", left)
	}
}
