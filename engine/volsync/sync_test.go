package volsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// makeTree writes the standard test tree into dir.
func makeTree(t testing.TB, dir string) {
	writeFile(t, filepath.Join(dir, "big.bin"), randBytes(t, bigSize()), 0o644)
	writeFile(t, filepath.Join(dir, "a/b/c/deep.txt"), randBytes(t, 300<<10), 0o640)
	writeFile(t, filepath.Join(dir, "a/exec.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	writeFile(t, filepath.Join(dir, "suid"), []byte("x"), 0o4755)
	writeFile(t, filepath.Join(dir, "empty.txt"), nil, 0o600)
	for _, d := range []string{"emptydir", "a/b/emptier"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{"a/rel-link": "b/c/deep.txt", "dangling": "does/not/exist", "a/b/abs-link": "/etc/hostname", "dirlink": "a/b"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// Distinct, old mtimes so the quick check has something to compare.
	old := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	os.Chtimes(filepath.Join(dir, "a/b/c"), old, old)
}

func TestSyncTree(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	makeTree(t, prim)
	addr := startServer(t, map[string]string{"data": prim}, nil)
	c := dial(t, addr, nil)
	ctx := context.Background()

	start := time.Now()
	st, err := c.Sync(ctx, "data", repl, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fresh: %d bytes on the wire (index %d) for %d MiB in %v", st.BytesReceived, st.IndexBytes, bigSize()>>20, time.Since(start))
	assertSameTree(t, prim, repl)
	if st.FilesTransferred != 5 || st.BytesReceived < int64(bigSize()) {
		t.Fatalf("fresh sync stats = %+v", st)
	}

	t.Run("unchanged", func(t *testing.T) {
		st, err := c.Sync(ctx, "data", repl, SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st.BlocksRequested != 0 || st.FilesTransferred != 0 || st.BytesReceived > 64<<10 {
			t.Fatalf("resync of an unchanged tree = %+v", st)
		}
	})

	t.Run("1MiB change in the middle", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(prim, "big.bin"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(randBytes(t, 1<<20), int64(bigSize()/2+12345)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		st, err := c.Sync(ctx, "data", repl, SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertSameTree(t, prim, repl)
		data := st.BytesReceived - st.IndexBytes
		t.Logf("1 MiB change: %d bytes received (%d index + %d data), %d sent, %d blocks fetched, %d reused", st.BytesReceived, st.IndexBytes, data, st.BytesSent, st.BlocksRequested, st.BlocksReused)
		if data > 12*(1<<20)/10 || st.BlocksRequested != 9 {
			t.Fatalf("a 1 MiB change moved %d data bytes in %d blocks", data, st.BlocksRequested)
		}
	})

	t.Run("deletes renames and replica edits", func(t *testing.T) {
		mustDo(t, os.Rename(filepath.Join(prim, "a/b/c/deep.txt"), filepath.Join(prim, "a/moved.txt")))
		mustDo(t, os.Remove(filepath.Join(prim, "a/exec.sh")))
		mustDo(t, os.RemoveAll(filepath.Join(prim, "emptydir")))
		mustDo(t, os.Remove(filepath.Join(prim, "dirlink")))
		mustDo(t, os.Mkdir(filepath.Join(prim, "dirlink"), 0o755)) // symlink becomes a directory
		writeFile(t, filepath.Join(prim, "dirlink/new.txt"), []byte("new"), 0o644)
		// Changes made on the replica are overwritten or deleted.
		writeFile(t, filepath.Join(repl, "suid"), []byte("edited on the replica"), 0o600)
		writeFile(t, filepath.Join(repl, "a/b/replica-only"), []byte("x"), 0o644)
		st, err := c.Sync(ctx, "data", repl, SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertSameTree(t, prim, repl)
		if st.BlocksReused < 3 || st.FilesDeleted < 4 {
			t.Fatalf("rename should reuse the old file's blocks, deletes counted: %+v", st)
		}
	})
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), []byte("x"), 0o644)
	addr := startServer(t, map[string]string{"data": dir, "secret": dir}, func(o *ServerOptions) {
		o.Meta = func(p PeerInfo, key string) ([]byte, error) {
			if key == "bundle/web" {
				return []byte("spec for " + p.Fingerprint[:8]), nil
			}
			return nil, errdefs.ErrNotFound
		}
	})
	c := dial(t, addr, nil)
	ctx := context.Background()
	tests := []struct {
		name, volume string
		want         error
	}{
		{"not authorized", "secret", ErrDenied},
		{"no such volume", "nope", errdefs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repl := filepath.Join(t.TempDir(), "r")
			_, err := c.Sync(ctx, tt.volume, repl, SyncOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Sync(%s) = %v, want %v", tt.volume, err, tt.want)
			}
			if ents, _ := os.ReadDir(repl); len(ents) != 0 {
				t.Fatalf("refused sync wrote %d entries", len(ents))
			}
		})
	}
	t.Run("meta", func(t *testing.T) {
		v, err := c.Meta(ctx, "bundle/web")
		if err != nil || string(v) != "spec for "+fingerprint(getCerts(t).client)[:8] {
			t.Fatalf("Meta = %q, %v", v, err)
		}
		if _, err := c.Meta(ctx, "bundle/none"); !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatalf("Meta of a missing key = %v", err)
		}
	})
	t.Run("plan and dry run", func(t *testing.T) {
		files, bytes, err := c.Plan(ctx, "data")
		if err != nil || files != 1 || bytes != 1 {
			t.Fatalf("Plan = %d, %d, %v", files, bytes, err)
		}
		repl := filepath.Join(t.TempDir(), "r")
		st, err := c.Sync(ctx, "data", repl, SyncOptions{DryRun: true})
		if err != nil || st.FilesTransferred != 1 || st.BytesFetched != 1 {
			t.Fatalf("dry run = %+v, %v", st, err)
		}
		if _, err := os.Stat(repl); !os.IsNotExist(err) {
			t.Fatalf("dry run created the replica directory: %v", err)
		}
	})
}
