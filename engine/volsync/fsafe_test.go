package volsync

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "null" && os.Geteuid() != 0 {
				t.Skip("mknod needs root")
			}
			done := make(chan error, 1)
			go func() {
				f, _, err := openRegular(root, tt.name, os.O_RDWR)
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
	if _, _, _, err := hashFile(root, "fifo", 0); !errors.Is(err, errChanged) {
		t.Fatalf("hashFile(fifo) = %v, want errChanged", err)
	}
	if _, _, err := createExcl(root, "link", 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("createExcl over a symlink = %v, want ErrExist", err)
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
