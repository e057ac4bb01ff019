package volsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenRegular: only regular files are opened, a symlink in the last
// element is never followed (os.Root would follow one inside the root),
// and nothing blocks.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "file"), []byte("data"), 0o644)
	mustDo(t, os.Symlink("file", filepath.Join(dir, "link")))
	mustDo(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	mustDo(t, os.Mkdir(filepath.Join(dir, "dir"), 0o755))
	if os.Geteuid() == 0 {
		mustDo(t, unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	}
	root, err := os.OpenRoot(dir)
	mustDo(t, err)
	defer root.Close()
	tests := []struct {
		name string
		err  error
	}{
		{"file", nil}, {"link", errNotRegular}, {"fifo", errNotRegular}, {"dir", errNotRegular},
		{"null", errNotRegular}, {"missing", fs.ErrNotExist},
	}
	var dc dirCache
	defer dc.close()
	for _, cache := range []*dirCache{nil, &dc} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/cached=%v", tt.name, cache != nil), func(t *testing.T) {
				if tt.name == "null" && os.Geteuid() != 0 {
					t.Skip("mknod needs root")
				}
				done := make(chan error, 1)
				go func() {
					f, _, err := openRegular(root, cache, tt.name, os.O_RDWR)
					if f != nil {
						f.Close()
					}
					done <- err
				}()
				select {
				case err := <-done:
					if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
						t.Fatalf("openRegular(%s) = %v, want %v", tt.name, err, tt.err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("openRegular(%s) blocked", tt.name)
				}
			})
		}
		if _, _, err := createExcl(root, cache, "link", 0o600); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("createExcl over a symlink = %v, want ErrExist", err)
		}
	}
	if _, _, _, err := hashFile(root, "fifo", 0); !errors.Is(err, errChanged) {
		t.Fatalf("hashFile(fifo) = %v, want errChanged", err)
	}
}

// TestStatInfo: the FileInfo made from an fstatat on a directory
// descriptor (what walkDir and openRegular hand out) reads like os.Lstat's.
func TestStatInfo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "file"), []byte("data"), 0o640)
	writeFile(t, filepath.Join(dir, "suid"), []byte("x"), 0o4755)
	mustDo(t, os.Chmod(filepath.Join(dir, "suid"), 0o4755|fs.ModeSetgid))
	mustDo(t, os.Symlink("file", filepath.Join(dir, "link")))
	mustDo(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	mustDo(t, os.Mkdir(filepath.Join(dir, "sticky"), 0o755))
	mustDo(t, os.Chmod(filepath.Join(dir, "sticky"), 0o1777|fs.ModeSticky))
	d, err := os.Open(dir)
	mustDo(t, err)
	defer d.Close()
	for _, name := range []string{"file", "suid", "link", "fifo", "sticky"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.Lstat(filepath.Join(dir, name))
			mustDo(t, err)
			var st syscall.Stat_t
			mustDo(t, fstatat(int(d.Fd()), name, &st))
			got := statInfo(name, &st)
			if got.Name() != want.Name() || got.Mode() != want.Mode() || got.Size() != want.Size() ||
				!got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir() || idOf(got) != idOf(want) || linksOf(got) != linksOf(want) {
				t.Fatalf("statInfo = %s %v %d %v, os.Lstat = %s %v %d %v", got.Name(), got.Mode(), got.Size(), got.ModTime(),
					want.Name(), want.Mode(), want.Size(), want.ModTime())
			}
		})
	}
}

// TestPrimaryServesNoFifo: a fifo that replaced an indexed file on the
// primary is answered as stale, not blocked on.
func TestPrimaryServesNoFifo(t *testing.T) {
	prim := t.TempDir()
	writeFile(t, filepath.Join(prim, "f"), []byte("hello"), 0o644)
	addr := startServer(t, map[string]string{"data": prim}, nil)
	conn, fr, fw := rawSession(t, addr)
	info, err := os.Stat(filepath.Join(prim, "f"))
	mustDo(t, err)
	mustDo(t, os.Remove(filepath.Join(prim, "f")))
	mustDo(t, unix.Mkfifo(filepath.Join(prim, "f"), 0o644))
	req := fileRequest{volume: "data", path: "f", size: 5, mtime: info.ModTime().UnixNano(), ranges: []byteRange{{0, 5}}}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	mustDo(t, fw.write(msgBlocks, encodeBlocksRequest(&req)))
	mustDo(t, fw.flush())
	typ, p, err := fr.next()
	if err != nil || typ != msgBlocksEnd || len(p) != 1 || p[0] != blocksStale {
		t.Fatalf("blocks of a file turned fifo: 0x%02x %v %v, want stale", typ, p, err)
	}
}
