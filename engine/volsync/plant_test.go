package volsync

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A hostile container writes the replica's volume while it syncs: it plants
// fifos, device nodes, hard links to host files and symlinks under the
// names sync uses (temp names and the old copies it reads). Every sync must
// finish, leave host files alone and never read or write a planted node.

// plantEnv is one test's primary, replica and a host file outside both.
type plantEnv struct {
	base, prim, repl string
	outside          string // a host file on the replica's file system
	outsideData      []byte
}

func newPlantEnv(t *testing.T) *plantEnv {
	base := t.TempDir()
	e := &plantEnv{base: base, prim: filepath.Join(base, "primary"), repl: filepath.Join(base, "replica"),
		outside: filepath.Join(base, "shadow"), outsideData: []byte("root:$6$secret:19000:0:99999:7:::\n")}
	writeFile(t, e.outside, e.outsideData, 0o600)
	mustDo(t, os.MkdirAll(e.repl, 0o755))
	return e
}

// checkOutside fails when the host file changed in content, mode or links.
func (e *plantEnv) checkOutside(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(e.outside)
	mustDo(t, err)
	info, err := os.Stat(e.outside)
	mustDo(t, err)
	if !bytes.Equal(got, e.outsideData) || info.Mode() != 0o600 {
		t.Fatalf("the host file outside the volume changed: mode %v, %d bytes (want %v, %d bytes)", info.Mode(), len(got), os.FileMode(0o600), len(e.outsideData))
	}
}

// syncWithin runs a sync and fails the test if it does not return in time
// (a blocking open of a fifo would hang it); unblock releases such an open.
func syncWithin(t *testing.T, c *Client, repl string, opts SyncOptions, unblock func()) (Stats, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		st  Stats
		err error
	}
	done := make(chan result, 1)
	go func() { st, err := c.Sync(ctx, "data", repl, opts); done <- result{st, err} }()
	select {
	case r := <-done:
		return r.st, r.err
	case <-time.After(25 * time.Second):
		if unblock != nil {
			unblock()
		}
		t.Fatal("sync hung on a node planted in the replica")
	}
	return Stats{}, nil
}

// mkfifo plants a fifo at p; the returned func releases an open blocked on it.
func mkfifo(t *testing.T, p string) func() {
	mustDo(t, unix.Mkfifo(p, 0o644))
	return func() {
		if f, err := os.OpenFile(p, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		if f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}
}

// loopDevice attaches a loop device to a 1 MiB file of zeros and returns
// its path and device number: writes through a node planted with that
// number are visible and harm nothing. It skips when loop devices are not
// available.
func loopDevice(t *testing.T, base string) (string, uint64) {
	back := filepath.Join(base, "loop-backing")
	writeFile(t, back, make([]byte, 1<<20), 0o600)
	out, err := exec.Command("losetup", "--find", "--show", back).Output()
	if err != nil {
		t.Skipf("no loop device: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	var st unix.Stat_t
	mustDo(t, unix.Stat(dev, &st))
	return dev, st.Rdev
}

func TestHostileReplicaTempNames(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting device nodes needs root")
	}
	data := randBytes(t, 300<<10) // three blocks
	tmpName := InternalPrefix + "f.bin.tmp"
	tests := []struct {
		name  string
		plant func(t *testing.T, e *plantEnv, tmp string) (unblock func(), check func(t *testing.T))
	}{
		{"fifo", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			return mkfifo(t, tmp), nil
		}},
		{"char device", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			mustDo(t, unix.Mknod(tmp, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
			return nil, nil
		}},
		{"block device", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			dev, rdev := loopDevice(t, e.base)
			mustDo(t, unix.Mknod(tmp, unix.S_IFBLK|0o600, int(rdev)))
			return nil, func(t *testing.T) {
				got, err := os.ReadFile(dev)
				mustDo(t, err)
				if !bytes.Equal(got, make([]byte, 1<<20)) {
					t.Fatal("sync wrote into a block device planted in the replica")
				}
			}
		}},
		{"hard link to a host file", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			mustDo(t, os.Link(e.outside, tmp))
			return nil, nil
		}},
		{"symlink to a host file", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			mustDo(t, os.Symlink(e.outside, tmp))
			return nil, nil
		}},
		{"symlink to a file of the volume", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			mustDo(t, os.Symlink("victim.txt", tmp))
			return nil, nil
		}},
		{"directory", func(t *testing.T, e *plantEnv, tmp string) (func(), func(*testing.T)) {
			writeFile(t, filepath.Join(tmp, "inner"), []byte("x"), 0o644)
			return nil, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPlantEnv(t)
			writeFile(t, filepath.Join(e.prim, "f.bin"), data, 0o644)
			writeFile(t, filepath.Join(e.prim, "victim.txt"), []byte("victim"), 0o644)
			c := dial(t, startServer(t, map[string]string{"data": e.prim}, nil), nil)
			if _, err := syncWithin(t, c, e.repl, SyncOptions{Paths: []string{"victim.txt"}}, nil); err != nil {
				t.Fatal(err)
			}
			unblock, check := tt.plant(t, e, filepath.Join(e.repl, tmpName))
			if unblock != nil {
				defer unblock()
			}
			if _, err := syncWithin(t, c, e.repl, SyncOptions{}, unblock); err != nil {
				t.Fatalf("sync with a %s at the temp name: %v", tt.name, err)
			}
			assertSameTree(t, e.prim, e.repl)
			e.checkOutside(t)
			if check != nil {
				check(t)
			}
		})
	}
}

func TestHostileReplicaOldCopies(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting device nodes needs root")
	}
	t.Run("hard link with the primary's size and mtime", func(t *testing.T) {
		e := newPlantEnv(t)
		writeFile(t, filepath.Join(e.prim, "f"), bytes.ToUpper(e.outsideData), 0o4755)
		mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		mustDo(t, os.Chtimes(filepath.Join(e.prim, "f"), mtime, mtime))
		mustDo(t, os.Chtimes(e.outside, mtime, mtime))
		mustDo(t, os.Link(e.outside, filepath.Join(e.repl, "f")))
		c := dial(t, startServer(t, map[string]string{"data": e.prim}, nil), nil)
		if _, err := syncWithin(t, c, e.repl, SyncOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		assertSameTree(t, e.prim, e.repl)
		e.checkOutside(t)
	})
	t.Run("fifo in place of a file", func(t *testing.T) {
		e := newPlantEnv(t)
		writeFile(t, filepath.Join(e.prim, "f"), []byte("data"), 0o644)
		unblock := mkfifo(t, filepath.Join(e.repl, "f"))
		defer unblock()
		c := dial(t, startServer(t, map[string]string{"data": e.prim}, nil), nil)
		if _, err := syncWithin(t, c, e.repl, SyncOptions{}, unblock); err != nil {
			t.Fatal(err)
		}
		assertSameTree(t, e.prim, e.repl)
	})
}

// TestHostileReplicaDuringSync plants while the sync works, at steps the
// Client's test hook reports (Client.hook): a file's old copy (its basis)
// becomes a fifo just before it is planned, a hard link to a host file
// takes a temp name just before that temp file is created, and another
// takes the name of a temp file that was just written, before its rename.
func TestHostileReplicaDuringSync(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting device nodes needs root")
	}
	e := newPlantEnv(t)
	old := randBytes(t, 384<<10)
	writeFile(t, filepath.Join(e.prim, "a.txt"), []byte("first"), 0o644)
	writeFile(t, filepath.Join(e.prim, "m.bin"), randBytes(t, 200<<10), 0o644)
	next := append(bytes.Clone(old[:256<<10]), randBytes(t, 128<<10)...) // shares two blocks
	writeFile(t, filepath.Join(e.prim, "z.bin"), next, 0o644)
	writeFile(t, filepath.Join(e.repl, "z.bin"), old, 0o644)
	long := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // file times are coarse: make them differ
	mustDo(t, os.Chtimes(filepath.Join(e.repl, "z.bin"), long, long))
	var (
		mu      sync.Mutex
		planted = map[string]error{}
		unblock func()
	)
	plant := func(name string, do func() error) {
		if _, done := planted[name]; !done {
			planted[name] = do()
		}
	}
	c := dial(t, startServer(t, map[string]string{"data": e.prim}, nil), nil)
	c.hook = func(ev syncEvent, p string) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev == evPlan && p == "z.bin":
			plant("fifo as an old copy", func() error {
				if err := os.Remove(filepath.Join(e.repl, "z.bin")); err != nil {
					return err
				}
				unblock = mkfifo(t, filepath.Join(e.repl, "z.bin"))
				return nil
			})
		case ev == evCreate && p == InternalPrefix+"m.bin.tmp":
			plant("hard link before the temp file", func() error {
				return os.Link(e.outside, filepath.Join(e.repl, p))
			})
		case ev == evWritten && p == "a.txt":
			plant("hard link after the temp file", func() error {
				tmp := filepath.Join(e.repl, InternalPrefix+"a.txt.tmp")
				if err := os.Remove(tmp); err != nil {
					return err
				}
				return os.Link(e.outside, tmp)
			})
		}
	}
	st, err := syncWithin(t, c, e.repl, SyncOptions{}, func() {
		mu.Lock()
		defer mu.Unlock()
		if unblock != nil {
			unblock()
		}
	})
	if unblock != nil {
		defer unblock()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: %+v", st)
	if len(planted) != 3 {
		t.Fatalf("the hostile container got %d of its 3 turns: %v", len(planted), planted)
	}
	for name, err := range planted {
		if err != nil {
			t.Fatalf("plant %s: %v", name, err)
		}
	}
	assertSameTree(t, e.prim, e.repl)
	e.checkOutside(t)
}
